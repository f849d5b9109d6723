"""Turning what people type or mail into safe HTML for the conversation view."""

from __future__ import annotations

import re

import nh3
from markupsafe import Markup, escape

_URL_RE = re.compile(r"(https?://[^\s<>\"']+[^\s<>\"'.,;:!?)\]])")
ALLOWED_TAGS = {
    "a",
    "b",
    "blockquote",
    "br",
    "code",
    "details",
    "summary",
    "em",
    "i",
    "li",
    "ol",
    "p",
    "pre",
    "strong",
    "ul",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "h1",
    "h2",
    "h3",
    "h4",
    "span",
    "div",
    "hr",
}


def plain_to_html(text: str) -> str:
    """Escape typed text, keep its paragraphs and line breaks, and make its links clickable."""
    paragraphs = re.split(r"\n\s*\n", text.replace("\r\n", "\n").strip())
    parts = []
    for paragraph in paragraphs:
        escaped = str(escape(paragraph))
        linked = _URL_RE.sub(r'<a href="\1" rel="noopener noreferrer nofollow">\1</a>', escaped)
        parts.append("<p>" + linked.replace("\n", "<br>") + "</p>")
    return sanitize_html("".join(parts))


def mail_to_html(text: str) -> str:
    """A mail's text with its quoted history and signature folded away (kept, one click away)."""
    from supportit.intake.quotes import split_quoted

    new, quoted = split_quoted(text)
    if not quoted:
        return plain_to_html(text)
    folded = plain_to_html(quoted)
    return sanitize_html(
        f'{plain_to_html(new)}<details class="quoted"><summary>…</summary>{folded}</details>'
    )


def sanitize_html(html: str) -> str:
    """Keep formatting, drop scripts, styles, event handlers and anything else active."""
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes={"a": {"href", "title"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )


def safe(html: str) -> Markup:
    """Mark stored, already sanitised HTML for rendering."""
    return Markup(html)
