"""The Atom feeds: well-formed RFC 4287 documents of public network insights, filtered like the feed page."""

from xml.etree import ElementTree

import pytest

from tests.insights.conftest import HOSTILE, dangers

ATOM = "{http://www.w3.org/2005/Atom}"


def _feed(client, **params) -> ElementTree.Element:
    response = client.get("/insights/feed.atom", params=params)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/atom+xml"
    assert response.content.startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    return ElementTree.fromstring(response.content)


def _titles(feed: ElementTree.Element) -> list[str]:
    return [entry.findtext(f"{ATOM}title") or "" for entry in feed.iter(f"{ATOM}entry")]


def test_the_feed_is_atom_with_every_required_element(client, post):
    post(title="Sepsis alerts at night")
    feed = _feed(client)
    assert feed.tag == f"{ATOM}feed"
    for required in ("id", "title", "updated"):
        assert feed.findtext(f"{ATOM}{required}")
    assert feed.find(f"{ATOM}link[@rel='self']").get("href") == "http://testserver/insights/feed.atom"
    (entry,) = feed.iter(f"{ATOM}entry")
    for required in ("id", "title", "updated", "author/" + ATOM + "name", "summary", "content"):
        assert entry.findtext(f"{ATOM}{required}"), required
    link = entry.find(f"{ATOM}link[@rel='alternate']")
    assert link is not None and link.get("href") == entry.findtext(f"{ATOM}id")
    assert link.get("href", "").startswith("http://testserver/insights/")
    assert {category.get("term") for category in entry.iter(f"{ATOM}category")} >= {"health", "triage"}


def test_the_feed_carries_public_network_insights_only(client, commons, post):
    post(title="Shared with the network")
    post(title="Kept in the nurses circle", audience="community")
    post(community="council", title="Council priorities")
    for headers in ({}, commons.alice, commons.root):  # a logged-in reader changes nothing
        response = client.get("/insights/feed.atom", headers=headers)
        assert _titles(ElementTree.fromstring(response.content)) == ["Shared with the network"]
    assert _titles(_feed(client, community="council")) == []
    assert _titles(_feed(client, q="council priorities")) == []


def test_each_subscription_has_its_filtered_feed(client, commons, post):
    post(title="Sepsis alerts at night")
    post(
        author=commons.bob, community="farmers", title="Crop photos", sectors=["agriculture"], tags=["photos"]
    )
    assert _titles(_feed(client, sector="agriculture")) == ["Crop photos"]
    assert _titles(_feed(client, tag="triage")) == ["Sepsis alerts at night"]
    assert _titles(_feed(client, community="nurses")) == ["Sepsis alerts at night"]
    filtered = _feed(client, sector="agriculture")
    assert filtered.findtext(f"{ATOM}title") == "Insights of the commons — sector agriculture"
    assert (
        filtered.find(f"{ATOM}link[@rel='self']")
        .get("href")
        .endswith("/insights/feed.atom?sector=agriculture")
    )


def test_hostile_markdown_stays_escaped_inside_the_feed(client, post):
    post(title="<b>bold</b> & co", body=HOSTILE)
    (entry,) = _feed(client).iter(f"{ATOM}entry")
    assert entry.findtext(f"{ATOM}title") == "<b>bold</b> & co"  # text, which readers show as text
    content = entry.find(f"{ATOM}content")
    assert content is not None and content.get("type") == "html"
    assert dangers(content.text or "") == []
    assert "<strong>Bold</strong> survives." in (content.text or "")


@pytest.mark.parametrize("bad", [{"sector": "astrology"}, {"sdg": "0"}, {"tag": "no good!"}])
def test_a_bad_filter_is_refused(client, bad):
    assert client.get("/insights/feed.atom", params=bad).status_code == 422
