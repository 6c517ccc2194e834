"""Insights through the JSON API: publishing, limits, who reads what, the feed's filters and search."""

import pytest

from aicommons.core.ratelimit import RateHit
from aicommons.insights.models import Insight, InsightTopic
from aicommons.ledger.models import LogRecord
from tests.insights.conftest import count, insight_form


def test_publishing_files_an_insight_under_its_community_and_logs_it_without_its_text(
    client, commons, factory
):
    response = client.post("/api/v1/insights", headers=commons.alice, json=insight_form())
    assert response.status_code == 201, response.text
    insight = response.json()
    assert (insight["community"], insight["author"], insight["audience"]) == ("nurses", "alice", "network")
    assert (insight["sectors"], insight["sdgs"], insight["tags"]) == (
        ["health"],
        [3],
        ["night-shift", "triage"],
    )
    assert insight["risks"] == ["system-safety-failures-limitations"]
    assert client.get(f"/api/v1/insights/{insight['id']}").json()["title"] == insight["title"]
    with factory() as db:
        entry = db.query(LogRecord).filter_by(event="insights:insight:publish").one()
        assert (entry.actor_id, entry.community_id) == (1, 1)
        assert "sepsis" not in entry.body.decode() and "Night-shift" not in entry.body.decode()


def test_chosen_sectors_replace_the_communitys(client, commons):
    body = insight_form(sectors=["health", "labour", "health"], kind="question", audience="community")
    insight = client.post("/api/v1/insights", headers=commons.alice, json=body).json()
    assert (insight["sectors"], insight["kind"], insight["audience"]) == (
        ["health", "labour"],
        "question",
        "community",
    )


@pytest.mark.parametrize(
    "change",
    [
        {"title": "ab"},
        {"title": "t" * 201},
        {"body": ""},
        {"body": "b" * 20_001},
        {"kind": "rumour"},
        {"audience": "everyone"},
        {"license": "WTFPL"},
        {"sectors": ["astrology"]},
        {"sdgs": [18]},
        {"risks": ["aliens"]},
        {"tags": ["no good!"]},
        {"tags": [f"tag-{n}" for n in range(11)]},
        {"evidence": ["javascript:alert(1)"]},
        {"evidence": ["data:text/html,<script>alert(1)</script>"]},
        {"evidence": ["ftp://example.org/file"]},
        {"evidence": ["not a link"]},
        {"evidence": [f"https://example.org/{n}" for n in range(11)]},
        {"community": "Not A Slug"},
        {"unexpected": True},
    ],
)
def test_bad_insights_are_422_and_nothing_is_written(client, commons, factory, change):
    response = client.post("/api/v1/insights", headers=commons.alice, json=insight_form() | change)
    assert (response.status_code, response.json()["code"]) == (422, "validation_failed")
    assert count(factory, Insight) == count(factory, InsightTopic) == count(factory, RateHit) == 0


@pytest.mark.parametrize(
    ("who", "community", "status", "code"),
    [
        ("anonymous", "nurses", 401, "not_authenticated"),
        ("dave", "nurses", 403, "forbidden"),
        ("bob", "nurses", 403, "forbidden"),
        ("dave", "council", 404, "community_not_found"),
        ("alice", "ghosts", 404, "community_not_found"),
    ],
)
def test_only_members_post_in_a_community(client, commons, factory, who, community, status, code):
    response = client.post("/api/v1/insights", headers=commons.of(who), json=insight_form(community))
    assert (response.status_code, response.json()["code"]) == (status, code)
    assert count(factory, Insight) == count(factory, LogRecord, LogRecord.event.like("insights:%")) == 0


@pytest.mark.parametrize("who", ["alice", "carol", "root"])
def test_stewards_members_and_admins_post(client, commons, who):
    assert client.post("/api/v1/insights", headers=commons.of(who), json=insight_form()).status_code == 201


def test_an_archived_community_takes_no_insights(client, commons, factory):
    assert client.post("/api/v1/communities/nurses/archive", headers=commons.alice).status_code == 200
    response = client.post("/api/v1/insights", headers=commons.carol, json=insight_form())
    assert (response.status_code, response.json()["code"]) == (409, "community_archived")
    assert count(factory, Insight) == 0


def test_posting_is_rate_limited_per_member(client, commons, post, factory):
    for n in range(10):
        post(title=f"Lesson number {n}")
    refused = client.post("/api/v1/insights", headers=commons.alice, json=insight_form())
    assert (refused.status_code, refused.json()["code"]) == (429, "rate_limited")
    assert refused.json()["retry_after"] > 0
    assert count(factory, Insight) == 10
    assert client.post("/api/v1/insights", headers=commons.carol, json=insight_form()).status_code == 201


def _titles(client, headers=None, **params) -> list[str]:
    response = client.get("/api/v1/insights", headers=headers or {}, params=params)
    assert response.status_code == 200, response.text
    return [item["title"] for item in response.json()["items"]]


@pytest.fixture
def spread(post, commons):
    """A network insight, a community-only one, and a network one in the private council."""
    shared = post(title="Shared with the network")
    kept = post(title="Kept in the nurses circle", audience="community")
    private = post(community="council", title="Council priorities", sectors=["finance"])
    return shared, kept, private


@pytest.mark.parametrize(
    ("who", "sees"),
    [
        ("anonymous", {"Shared with the network"}),
        ("dave", {"Shared with the network"}),
        ("bob", {"Shared with the network"}),
        ("carol", {"Shared with the network", "Kept in the nurses circle"}),
        ("alice", {"Shared with the network", "Kept in the nurses circle", "Council priorities"}),
        ("root", {"Shared with the network", "Kept in the nurses circle", "Council priorities"}),
    ],
)
def test_the_feed_shows_each_reader_only_what_they_may_read(client, commons, spread, who, sees):
    assert set(_titles(client, commons.of(who))) == sees
    for insight in spread:
        status = client.get(f"/api/v1/insights/{insight['id']}", headers=commons.of(who)).status_code
        assert status == (200 if insight["title"] in sees else 404)


def test_a_private_communitys_insights_stay_private_even_when_shared_with_the_network(
    client, commons, spread
):
    private = spread[2]
    assert private["audience"] == "network"
    for who in ("anonymous", "dave", "bob"):
        assert _titles(client, commons.of(who), q="council priorities") == []
        assert client.get("/api/v1/communities/council/insights", headers=commons.of(who)).status_code == 404
    assert _titles(client, commons.alice, q="council priorities") == ["Council priorities"]


def test_the_feed_filters_by_sector_goal_tag_risk_kind_format_and_community(client, commons, post):
    post(title="Sepsis alerts at night")
    post(title="Ask: who audits triage models?", kind="question", tags=["audit"], risks=[], sdgs=[3, 10])
    post(
        author=commons.bob,
        community="farmers",
        title="Crop disease photos in the field",
        kind="resource",
        sdgs=[2],
        tags=["photos"],
        risks=["privacy-security"],
    )
    assert _titles(client, sector="agriculture") == ["Crop disease photos in the field"]
    assert _titles(client, sdg=10) == ["Ask: who audits triage models?"]
    assert _titles(client, tag="Night Shift") == ["Sepsis alerts at night"]
    assert _titles(client, risk="privacy-security") == ["Crop disease photos in the field"]
    assert _titles(client, kind="question") == ["Ask: who audits triage models?"]
    assert _titles(client, format="discussion", community="farmers") == ["Crop disease photos in the field"]
    assert _titles(client, format="event") == []
    assert _titles(client) == [
        "Crop disease photos in the field",
        "Ask: who audits triage models?",
        "Sepsis alerts at night",
    ]


def test_the_feed_is_paginated_and_refuses_bad_filters(client, commons, post):
    for n in range(5):
        post(title=f"Insight number {n}")
    first = client.get("/api/v1/insights", params={"size": 2}).json()
    last = client.get("/api/v1/insights", params={"size": 2, "page": 3}).json()
    assert (first["total"], len(first["items"]), len(last["items"])) == (5, 2, 1)
    assert first["items"][0]["title"] == "Insight number 4"
    for bad in ({"size": 0}, {"size": 101}, {"sdg": 0}, {"kind": "x"}, {"format": "x"}, {"tag": "a b!"}):
        assert client.get("/api/v1/insights", params=bad).json()["code"] == "validation_failed"


def test_search_puts_the_best_match_first_and_stems_words(client, commons, post):
    post(title="Rota planning", body="A note that mentions vaccines once, in passing.")
    post(title="Vaccine cold chain with solar fridges", body="Vaccines kept cold: vaccine stock lasted.")
    post(title="Hand hygiene audit", body="Nothing about that here.")
    assert _titles(client, q="vaccine") == ["Vaccine cold chain with solar fridges", "Rota planning"]
    assert _titles(client, q="VACCINES fridge") == ["Vaccine cold chain with solar fridges"]
    assert _titles(client, q="vaccine", kind="lesson-learned", sector="agriculture") == []


@pytest.mark.parametrize(
    "query", ['"', "*", "vaccine OR", "NEAR(a b)", "a AND", "title:x", "'; DROP TABLE insight; --", "!!!"]
)
def test_search_syntax_from_the_box_is_taken_as_words_never_as_operators(client, commons, post, query):
    post(title="Vaccine cold chain")
    response = client.get("/api/v1/insights", params={"q": query})
    assert response.status_code == 200, response.text


def test_community_insights_and_reach(client, commons, post):
    post(title="One")
    post(title="Two", audience="community")
    assert [i["title"] for i in client.get("/api/v1/communities/nurses/insights").json()["items"]] == ["One"]
    assert client.get("/api/v1/communities/nurses/insights", headers=commons.carol).json()["total"] == 2
    reach = client.get("/api/v1/communities/nurses/insights/reach").json()
    assert reach == {
        "insights": 1,
        "reused_insights": 0,
        "reused_by_communities": 0,
        "reused_by_sectors": [],
        "reused_from_others": 0,
    }
