"""Preference pairs as JSONL, one pair a line: `prompt`, `chosen`, `rejected` (the shape
TRL's reward and DPO trainers read), plus what this app knows about the pair - `tie`, the
two models, its `source`, when it was made, and the conversation before the prompt as
`context` (OpenAI-style messages; left out when there was none).

Reading checks every line before anything is stored: a file with one bad line says which
line and why, and nothing of it is imported.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from desktop.core.chat.generation import ChatMessage
from desktop.core.storage.atomic_files import write_text_atomically
from desktop.core.storage.preferences import PreferencePair

MAX_FILE_BYTES = 256 << 20  # a pair file bigger than this is not one
ROLES = ("system", "user", "assistant")


class PreferenceFileError(ValueError):
    """A file that cannot be read as preference pairs; the message is a sentence."""

    def __init__(self, message: str, line: int = 0) -> None:
        super().__init__(f"Line {line}: {message}." if line else message)
        self.line = line


def pair_record(pair: PreferencePair) -> dict[str, Any]:
    record: dict[str, Any] = {
        "prompt": pair.prompt,
        "chosen": pair.chosen,
        "rejected": pair.rejected,
        "tie": pair.tie,
        "chosen_model": pair.chosen_model,
        "rejected_model": pair.rejected_model,
        "source": pair.source,
        "created_at": pair.created_at,
    }
    if pair.context:
        record["context"] = [{"role": m.role, "content": m.content} for m in pair.context]
    return record


def write_pairs(path: str | Path, pairs: Iterable[PreferencePair]) -> None:
    lines = [json.dumps(pair_record(p), ensure_ascii=False) + "\n" for p in pairs]
    write_text_atomically(Path(path), "".join(lines))


def read_pairs(path: str | Path) -> list[PreferencePair]:
    path = Path(path)
    try:
        with path.open("rb") as f:
            data = f.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise PreferenceFileError(f"Cannot read {path.name}: {exc.strerror or exc}.") from exc
    if len(data) > MAX_FILE_BYTES:
        raise PreferenceFileError(f"{path.name} is larger than {MAX_FILE_BYTES >> 20} MB.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise PreferenceFileError(f"{path.name} is not UTF-8 text", line) from exc
    pairs = []
    # split("\n"), not splitlines(): JSON strings may hold U+2028 and friends raw
    for number, line_text in enumerate(text.split("\n"), start=1):
        if line_text.strip():
            pairs.append(pair_from_line(line_text, number))
    return pairs


def pair_from_line(line: str, number: int = 0) -> PreferencePair:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        raise PreferenceFileError(f"not valid JSON ({exc.msg})", number) from exc
    except (RecursionError, ValueError) as exc:
        raise PreferenceFileError("not a preference pair", number) from exc
    if not isinstance(record, dict):
        raise PreferenceFileError('expected an object like {"prompt": …, "chosen": …, '
                                  '"rejected": …}', number)  # fmt: skip
    prompt, chosen, rejected = (_text(record, k, number) for k in ("prompt", "chosen", "rejected"))
    if not prompt.strip():
        raise PreferenceFileError('the "prompt" is empty', number)
    tie = record.get("tie", False)
    if not isinstance(tie, bool):
        raise PreferenceFileError('"tie" must be true or false', number)
    created = record.get("created_at", 0.0)
    valid_time = isinstance(created, (int, float)) and not isinstance(created, bool)
    return PreferencePair(
        prompt=prompt,
        chosen=chosen,
        rejected=rejected,
        tie=tie,
        chosen_model=_optional_text(record, "chosen_model", number),
        rejected_model=_optional_text(record, "rejected_model", number),
        source=_optional_text(record, "source", number) or "import",
        context=_context(record.get("context"), number),
        created_at=float(created) if valid_time and created > 0 else 0.0,
    )


def _text(record: dict[str, Any], name: str, number: int) -> str:
    if name not in record:
        raise PreferenceFileError(f'no "{name}"', number)
    value = record[name]
    if not isinstance(value, str):
        raise PreferenceFileError(f'the "{name}" must be text', number)
    _check_encodable(value, name, number)
    return value


def _optional_text(record: dict[str, Any], name: str, number: int) -> str:
    return _text(record, name, number) if record.get(name) is not None else ""


def _check_encodable(value: str, name: str, number: int) -> None:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:  # "\ud800" is valid JSON; no database takes it
        raise PreferenceFileError(f'the "{name}" holds an invalid character', number) from exc


def _context(items: Any, number: int) -> tuple[ChatMessage, ...]:
    if items is None:
        return ()
    if not isinstance(items, list):
        raise PreferenceFileError('"context" must be a list of messages', number)
    messages = []
    for item in items:
        role = item.get("role") if isinstance(item, dict) else None
        content = item.get("content") if isinstance(item, dict) else None
        if role not in ROLES or not isinstance(content, str):
            raise PreferenceFileError(
                'each "context" message needs a role (system, user or assistant) and text content',
                number,
            )
        _check_encodable(content, "context", number)
        messages.append(ChatMessage(role, content))
    return tuple(messages)
