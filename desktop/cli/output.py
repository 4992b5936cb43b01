"""Text for stdout that cannot fail to print: file names are bytes on Linux, and one that is
not UTF-8 (`\\xff.gguf`) reaches Python as lone surrogates, which a UTF-8 stdout refuses
with a traceback — or, under the C locale, writes as raw bytes that break the JSON."""

from __future__ import annotations

import json


def shown(text: str) -> str:
    """`text` for a person to read: bytes that are not UTF-8 become U+FFFD."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def json_text(value: object) -> str:
    """One JSON document, valid UTF-8 whatever the file names in it: readable UTF-8 when it
    can be, else ASCII with `\\udcff` escapes (which json.loads + os.fsencode turn back
    into the exact name)."""
    text = json.dumps(value, ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(value)
    return text
