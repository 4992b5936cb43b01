"""Text from files and models shown as text: Qt renders a label or a tooltip as HTML when
it merely looks like HTML (a tag before the first line break), and a model's name, a file
name or a model's reply can be made to look like anything."""

from __future__ import annotations

import html

from PySide6.QtGui import QTextDocument


def plain_tooltip(text: str) -> str:
    """A tooltip that shows `text` exactly as written, line breaks included."""
    return f'<p style="white-space:pre-wrap">{html.escape(text)}</p>' if text else ""


def html_text(text: str) -> str:
    """`text` to put inside our own rich text (a bold name, a red warning): shown as
    written, never as markup. Quotes need no escaping outside attributes."""
    return html.escape(text, quote=False)


def warning_html(message: str) -> str:
    """A red warning line for a rich-text label, its words (errors quoting a server, a file
    name, a model) escaped."""
    return f'<span style="color:#a40000">⚠ {html_text(message)}</span>'


# Markdown without raw HTML: a reply's (or a lesson file's) `<img>`, `<style>` or 40 px red
# banner is shown as the text it is.
NO_HTML_MARKDOWN = (
    QTextDocument.MarkdownFeature.MarkdownDialectGitHub
    | QTextDocument.MarkdownFeature.MarkdownNoHTML
)
