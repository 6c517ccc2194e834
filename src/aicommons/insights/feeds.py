"""Atom feeds (RFC 4287) of insights for feed readers, which cannot log in: network insights only."""

from collections.abc import Sequence
from datetime import datetime
from xml.etree.ElementTree import Element, SubElement, tostring

from aicommons.core.db import utcnow
from aicommons.core.markdown import plain, render
from aicommons.insights.models import Insight

ATOM = "http://www.w3.org/2005/Atom"
MEDIA_TYPE = "application/atom+xml"


def _text(parent: Element, tag: str, text: str, **attributes: str) -> Element:
    element = SubElement(parent, tag, attributes)
    element.text = text
    return element


def _stamp(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def atom(*, insights: Sequence[Insight], title: str, site: str, feed_path: str, page_path: str) -> bytes:
    """The feed at `site + feed_path`, whose web page is `site + page_path`."""
    feed = Element("feed", {"xmlns": ATOM})
    _text(feed, "title", title)
    _text(feed, "id", site + feed_path)
    _text(feed, "updated", _stamp(max((i.created_at for i in insights), default=utcnow())))
    SubElement(feed, "link", {"rel": "self", "href": site + feed_path, "type": MEDIA_TYPE})
    SubElement(feed, "link", {"rel": "alternate", "href": site + page_path, "type": "text/html"})
    _text(feed, "generator", "AI Commons")
    for insight in insights:
        _entry(feed, insight, site)
    document: bytes = tostring(feed, encoding="utf-8", xml_declaration=True)
    return document


def _entry(feed: Element, insight: Insight, site: str) -> None:
    entry = SubElement(feed, "entry")
    url = f"{site}/insights/{insight.id}"
    _text(entry, "id", url)
    _text(entry, "title", insight.title)
    _text(entry, "updated", _stamp(insight.created_at))
    _text(entry, "published", _stamp(insight.created_at))
    SubElement(entry, "link", {"rel": "alternate", "href": url, "type": "text/html"})
    _text(SubElement(entry, "author"), "name", insight.author_name)
    for term in (str(insight.kind), *insight.sectors, *insight.tags):
        SubElement(entry, "category", {"term": term})
    _text(entry, "summary", plain(insight.body, 300), type="text")
    _text(entry, "content", str(render(insight.body)), type="html")  # escaped by the serializer
    _text(entry, "rights", insight.license)
