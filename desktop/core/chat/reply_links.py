"""Which links in a model's reply may be opened: web pages only, after the person has seen
the whole address. A reply is text the model wrote; a link in it is a suggestion, not a
command. `file:`, relative paths, `javascript:`, `data:` and the rest stay inert text
(a relative path once replaced the chat bubble with a local file; `file:///dev/zero`
ended the app)."""

from __future__ import annotations

from urllib.parse import urlsplit

WEB_SCHEMES = ("http", "https")
INERT_LINK = "Not opened: only web links (http, https) open from a reply."


def openable_address(address: str) -> str | None:
    """`address` if it is an absolute web address with a host, else None."""
    try:
        parts = urlsplit(address.strip())
    except ValueError:  # e.g. an unbalanced "[" in the host
        return None
    if parts.scheme.lower() in WEB_SCHEMES and parts.hostname:
        return address.strip()
    return None


def link_tooltip(address: str) -> str:
    """What hovering a link in a reply says."""
    if openable_address(address):
        return f"{address}\nClick to open it in your web browser (you are asked first)."
    return f"{address}\n{INERT_LINK}"
