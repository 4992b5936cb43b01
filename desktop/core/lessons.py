"""Lessons: the talk's steps as short walks through the app, one Markdown file each in
`resources/lessons/`, so a teacher can edit them or add one without touching code.

    # Lesson title
    ## Step: Step title
    tab: tokens            (models, tokens, train, chat, quiz, posttrain or reinforce)
    example: some text     (optional: put in the tab's text box)
    mode: raw              (optional, Chat: raw, base or template)
    What to look at, in a paragraph or two.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

TABS = ("models", "tokens", "train", "chat", "quiz", "posttrain", "reinforce")
MAX_STEPS = 10


class LessonError(ValueError):
    """A lesson file that cannot be used; the message names the file and the line."""


@dataclass(frozen=True)
class Step:
    title: str
    tab: str
    text: str
    example: str = ""
    mode: str = ""


@dataclass(frozen=True)
class Lesson:
    key: str  # the file's stem: progress is remembered under it
    title: str
    steps: tuple[Step, ...]


def parse_lesson(key: str, text: str) -> Lesson:
    title = ""
    steps: list[Step] = []
    current: dict[str, str] | None = None
    body: list[str] = []

    def close(line_no: int) -> None:
        if current is None:
            return
        if current.get("tab") not in TABS:
            raise LessonError(f"{key}, line {line_no}: step {current['title']!r} needs "
                              f"'tab:' one of {', '.join(TABS)}")  # fmt: skip
        steps.append(Step(current["title"], current["tab"], " ".join(body).strip(),
                          current.get("example", ""), current.get("mode", "")))  # fmt: skip

    for n, line in enumerate(text.splitlines(), 1):
        if line.startswith("# ") and not title:
            title = line[2:].strip()
        elif line.startswith("## Step:"):
            close(n)
            current, body = {"title": line[len("## Step:") :].strip()}, []
        elif current is not None and not body and ":" in line and line.split(":", 1)[0] in (
            "tab", "example", "mode",
        ):  # fmt: skip
            name, value = line.split(":", 1)
            current[name] = value.strip()
        elif current is not None:
            body.append(line.strip())
    close(len(text.splitlines()))
    if not title or not steps:
        raise LessonError(f"{key}: a lesson needs a '# Title' and at least one '## Step:'")
    if len(steps) > MAX_STEPS:
        raise LessonError(f"{key}: {len(steps)} steps; a lesson has at most {MAX_STEPS}")
    return Lesson(key, title, tuple(steps))


def load_lessons(folder: Path) -> tuple[list[Lesson], list[str]]:
    """Every lesson in `folder`, in file-name order, and the problems of those that failed
    (one sentence each: a broken file never hides the others)."""
    lessons, problems = [], []
    for path in sorted(folder.glob("*.md")):
        try:
            lessons.append(parse_lesson(path.stem, path.read_text(encoding="utf-8")))
        except (LessonError, OSError, UnicodeDecodeError) as exc:
            problems.append(str(exc))
    return lessons, problems
