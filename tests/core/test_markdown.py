"""Markdown people write becomes HTML that cannot run anything, whatever they try."""

from html.parser import HTMLParser

import pytest

from aicommons.core.markdown import plain, render

HOSTILE = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "![x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    '<a href="javascript:alert(1)">x</a>',
    "<iframe src=https://evil.example></iframe>",
    '<svg onload="alert(1)"></svg>',
    "[x](vbscript:msgbox(1))",
    '<div style="background:url(javascript:alert(1))">x</div>',
]


class Elements(HTMLParser):
    """Every element and attribute a browser would build from the HTML (text stays text)."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, dict(attrs)))


def elements(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = Elements()
    parser.feed(html)
    return parser.found


@pytest.mark.parametrize("source", HOSTILE)
def test_hostile_markdown_builds_no_script_handler_or_dangerous_link(source):
    for tag, attributes in elements(str(render(source))):
        assert tag not in {"script", "iframe", "svg", "object", "embed", "style"}, source
        assert not any(name.startswith("on") or name == "style" for name in attributes), source
        for name in ("href", "src"):
            target = (attributes.get(name) or "").strip().lower()
            assert not target or target.startswith(("https://", "http://", "mailto:", "/")), source


def test_raw_html_is_shown_as_text():
    assert str(render("<b>hi</b>")) == "<p>&lt;b&gt;hi&lt;/b&gt;</p>\n"


def test_ordinary_markdown_keeps_its_shape_and_links_are_marked_nofollow():
    html = str(render("# Lesson\n\n**Triage** works with [the paper](https://example.org/p).\n\n- a\n- b"))
    assert "<h1>Lesson</h1>" in html and "<strong>Triage</strong>" in html and "<li>a</li>" in html
    assert '<a href="https://example.org/p" rel="nofollow noopener noreferrer">the paper</a>' in html


def test_a_plain_summary_drops_the_markup_and_is_cut_at_the_limit():
    assert plain("**Bold** & <b>raw</b> [link](https://x.org)") == "Bold & <b>raw</b> link"
    assert plain("word " * 100, limit=20) == "word word word word…"
