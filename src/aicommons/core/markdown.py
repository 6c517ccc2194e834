"""Markdown that people write, rendered as HTML that cannot run anything.

Raw HTML in the source is shown as text, links keep only http(s), mailto and relative targets, and the
output is cleaned once more by an allow-list sanitizer (nh3) as a second wall."""

import html

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

_PARSER = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable(
    ["table", "strikethrough"]
)
_TAGS = {
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "s", "del", "code", "pre",
    "blockquote", "ul", "ol", "li", "a", "table", "thead", "tbody", "tr", "th", "td", "img",
}  # fmt: skip
_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"}, "ol": {"start"}}
_SCHEMES = {"http", "https", "mailto"}


def render(source: str) -> Markup:
    """Safe HTML for a Markdown text (links open as `rel="nofollow noopener noreferrer"`)."""
    html = _PARSER.render(source)
    # Safe to mark: nh3 keeps only the allowed tags, attributes and URL schemes.
    return Markup(
        nh3.clean(
            html,
            tags=_TAGS,
            attributes=_ATTRIBUTES,
            url_schemes=_SCHEMES,
            link_rel="nofollow noopener noreferrer",
        )
    )


def plain(source: str, limit: int = 200) -> str:
    """The text of a Markdown source without its markup, cut at `limit` characters (for feeds and lists)."""
    text = " ".join(html.unescape(nh3.clean(_PARSER.render(source), tags=set())).split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
