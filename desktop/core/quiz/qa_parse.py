"""Ask a model for question/answer pairs about an article, and read what it writes back.

Small models rarely follow a format exactly: they number the questions, bold the labels,
put the answer on the question's line, wrap everything in prose or answer in JSON or a
table. The parser accepts all of those and drops a question that has no answer.
"""

from __future__ import annotations

import json
import re
from typing import Any

from desktop.core.chat.generation import ChatMessage
from desktop.core.quiz.qa import QAPair

_SYSTEM = (
    "You write quiz questions that test factual knowledge. You only use facts stated in "
    "the article you are given, and you follow the requested format exactly."
)
_INSTRUCTIONS = """\
Write {count} questions about facts stated in the article below.

Rules:
- Each question must be answerable from the article alone, with a short answer: a name, \
a date, a number or a few words.
- Each question must make sense on its own, without the article: name the subject \
instead of writing "he", "it", "the article" or "the text".
- Ask about different facts; do not ask two questions with the same answer.
- Write nothing else: no introduction, no numbering, no explanations.

Use exactly this format, with a blank line between pairs:
Q: <question>
A: <answer>

Article:
\"\"\"
{article}
\"\"\""""

# Optional bullet, numbering ("1.", "1)", "(1)", "#1") and then the label.
_PREFIX = r"^(?:#{1,6}\s*)?(?:[-*•+–]\s+)?(?:\(?#?\d{1,3}[.):]\s*)?"
_Q_LABEL = re.compile(_PREFIX + r"(?:q|question)\s*\d{0,3}\s*(?:[:.)]|\s-)\s*", re.I)
_A_LABEL = re.compile(
    _PREFIX + r"(?:a\s*\d{0,3}\s*(?:[:)]|\s-)|answer\s*\d{0,3}\s*[:.)-])\s*", re.I
)
_NUMBERED = re.compile(r"^(?:[-*•+–]\s+)?\(?#?\d{1,3}[.):]\s+")
_INLINE_ANSWER = re.compile(r"(?:^|\s|[(\[])(?:a|answer)\s*:\s*", re.I)
_QUESTION_KEYS = ("question", "q")
_ANSWER_KEYS = ("answer", "a")


def qa_generation_messages(
    article_text: str, count: int = 8, *, max_chars: int | None = 8000
) -> list[ChatMessage]:
    """The prompt; an article over `max_chars` is cut at a paragraph or sentence end,
    because a small model's context holds a few thousand tokens at most."""
    article = article_text.strip()
    if max_chars is not None and len(article) > max_chars:
        cut = article[:max_chars]
        end = max(cut.rfind("\n\n"), cut.rfind(". ") + 1)
        article = cut[:end].rstrip() if end > max_chars // 2 else cut.rstrip()
    user = _INSTRUCTIONS.format(count=max(1, count), article=article)
    return [ChatMessage("system", _SYSTEM), ChatMessage("user", user)]


def parse_qa_pairs(text: str) -> list[QAPair]:
    """Pairs in the order written; duplicates (same question) keep their first answer."""
    raw = _from_json(text)
    if raw is None:
        raw = _from_table(text) or _from_lines(text)
    pairs: list[QAPair] = []
    seen: set[str] = set()
    for question, answer in raw:
        question, answer = _clean_question(question), _clean_answer(answer)
        key = re.sub(r"\W+", " ", question).strip().casefold()
        if question and answer and key not in seen:
            seen.add(key)
            pairs.append(QAPair(question=question, answer=answer, source="model"))
    return pairs


def _from_json(text: str) -> list[tuple[str, str]] | None:
    """A JSON list (or an object holding one) of {"question", "answer"} objects, or
    one such object per line; None when the text is not JSON of that shape."""
    start = text.find("[")
    end = text.rfind("]")
    candidates = [text[start : end + 1]] if 0 <= start < end else []
    candidates.append(text[text.find("{") : text.rfind("}") + 1])
    for candidate in candidates:
        try:
            data = json.loads(candidate)
        except (ValueError, RecursionError):  # a degenerate reply: "[[[[…" for 2,000 tokens
            continue
        if pairs := _json_pairs(data):
            return pairs
    lines = [_json_pairs(_try_json(line)) for line in text.splitlines() if line.strip()]
    found = [pair for line_pairs in lines for pair in line_pairs]
    return found or None


def _try_json(line: str) -> Any:
    try:
        return json.loads(line.strip().rstrip(","))
    except (ValueError, RecursionError):
        return None


def _json_pairs(data: Any) -> list[tuple[str, str]]:
    if isinstance(data, dict):
        lowered = {str(k).strip().casefold(): v for k, v in data.items()}
        question = next((lowered[k] for k in _QUESTION_KEYS if k in lowered), None)
        answer = next((lowered[k] for k in _ANSWER_KEYS if k in lowered), None)
        if (
            isinstance(question, str)
            and isinstance(answer, (str, int, float))
            and not isinstance(answer, bool)
        ):
            return [(question, str(answer))]
        # {"questions": [...]}: the list is one level down
        return next((p for v in data.values() if isinstance(v, list) and (p := _json_pairs(v))), [])
    if isinstance(data, list):
        return [pair for item in data if isinstance(item, dict) for pair in _json_pairs(item)]
    return []


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def _from_table(text: str) -> list[tuple[str, str]]:
    """A Markdown table: the columns headed question and answer, or else the first column
    holding questions and the one after it."""
    lines = [line for line in text.splitlines() if line.strip().startswith("|")]
    rule = [all(re.fullmatch(r":?-{2,}:?", c) for c in _cells(line) if c) for line in lines]
    rows = [_cells(line) for line, is_rule in zip(lines, rule, strict=True) if not is_rule]
    if not rows:
        return []
    header = [_strip_emphasis(c).casefold() for c in rows[0]]
    q_col = next((i for i, h in enumerate(header) if h in ("question", "questions", "q")), -1)
    a_col = next((i for i, h in enumerate(header) if h in ("answer", "answers", "a")), -1)
    body = rows[1:] if any(rule) else rows
    if q_col < 0 or a_col < 0:
        asking = [
            i for i in range(len(rows[0])) if any(r[i : i + 1] and r[i].endswith("?") for r in body)
        ]
        if not asking:
            return []
        q_col, a_col = asking[0], asking[0] + 1
    return [(r[q_col], r[a_col]) for r in body if len(r) > max(q_col, a_col)]


def _strip_emphasis(line: str) -> str:
    return re.sub(r"\*\*|__", "", line).strip()


def _normalise(line: str) -> str:
    line = _strip_emphasis(line.strip().strip("`"))
    # Broken JSON ('"question": "...",') reads like a labelled line once unwrapped.
    if json_like := re.match(r'^[{\[]?\s*"(\w+)"\s*:\s*(.*?)[\s,}\]]*$', line):
        line = f"{json_like.group(1)}: {json_like.group(2)}"
    return line


def _from_lines(text: str) -> list[tuple[str, str]]:
    lines = [_normalise(line) for line in text.splitlines()]
    # With Q labels in the text, a bare line ending in "?" is prose ("Want more?").
    labelled = any(_Q_LABEL.match(line) for line in lines)
    pairs: list[tuple[str, str]] = []
    question: str | None = None  # waiting for its answer
    sure = False  # the question came from a label or numbering, not just a "?"
    waiting_for: str | None = None  # a label stood alone: its text is on the next line
    previous_blank = True
    for line in lines:
        if not line:
            previous_blank = True
            continue
        next_to_question = question is not None and sure and not previous_blank
        previous_blank = False
        if waiting_for == "question":
            question, sure, waiting_for = line, True, None
            continue
        if waiting_for == "answer" and question is not None:
            pairs.append((question, line))
            question = waiting_for = None
            continue
        waiting_for = None
        if (label := _A_LABEL.match(line)) and question is not None:
            answer = line[label.end() :]
            if answer:
                pairs.append((question, answer))
                question = None
            else:
                waiting_for = "answer"
        elif label := _Q_LABEL.match(line):
            question, sure = line[label.end() :], True
            if not question:
                waiting_for = "question"
            elif inline := _split_inline(question):
                pairs.append(inline)
                question = None
        elif not labelled and _NUMBERED.match(line) and "?" in line:
            question, sure = _NUMBERED.sub("", line), True  # "1. What ...?" with no label
            if inline := _split_inline(question):
                pairs.append(inline)
                question = None
        elif not labelled and line.endswith("?"):
            question, sure = line, False
        elif next_to_question and question is not None and not line.endswith((":", "?")):
            pairs.append((question, line))  # the answer on the next line, with no label
            question = None
        else:
            question = None  # prose: a question still waiting has lost its answer
    return pairs


def _split_inline(question: str) -> tuple[str, str] | None:
    """ "Where is it? A: Paris" or "Where is it? (Answer: Paris)" on one line."""
    for match in _INLINE_ANSWER.finditer(question):
        if match.start() == 0:
            continue
        answer = question[match.end() :].strip().rstrip(")]").strip()
        if answer:
            return question[: match.start()].strip(" -–—|(["), answer
    return None


def _clean_question(question: str) -> str:
    question = re.sub(r"\s+", " ", _strip_emphasis(question)).strip(" \"'“”")
    return _Q_LABEL.sub("", question, count=1).strip()


def _clean_answer(answer: str) -> str:
    answer = re.sub(r"\s+", " ", _strip_emphasis(answer)).strip(" \"'“”*_`")
    if answer.endswith(".") and not answer.endswith("..") and not _ends_with_initials(answer):
        answer = answer[:-1].rstrip()
    return answer


def _ends_with_initials(answer: str) -> bool:
    return re.search(r"(?:^|\s)(?:[A-Z]\.){2,}$", answer) is not None  # "U.S.", "D.C."
