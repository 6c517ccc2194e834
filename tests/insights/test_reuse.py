"""One community recording that it reused another's insight: who may, what it counts, what it logs."""

import json

import pytest

from aicommons.insights.models import Reuse
from aicommons.ledger.models import LogRecord
from tests.insights.conftest import count


def _reuse(client, headers, insight_id, community="farmers", note="We used it for crop alerts."):
    body = {"community": community, "note": note}
    return client.post(f"/api/v1/insights/{insight_id}/reuses", headers=headers, json=body)


def test_reuse_is_counted_on_both_sides_across_sectors(client, commons, post):
    insight = post()
    response = _reuse(client, commons.bob, insight["id"])
    assert response.status_code == 201, response.text
    assert response.json()["community"] == "farmers"
    assert (response.json()["sectors"], response.json()["origin_sectors"]) == (["agriculture"], ["health"])
    assert client.get(f"/api/v1/insights/{insight['id']}").json()["reuse_count"] == 1
    origin = client.get("/api/v1/communities/nurses/insights/reach").json()
    assert origin | {"insights": 0} == {
        "insights": 0,
        "reused_insights": 1,
        "reused_by_communities": 1,
        "reused_by_sectors": ["agriculture"],
        "reused_from_others": 0,
    }
    assert client.get("/api/v1/communities/farmers/insights/reach").json()["reused_from_others"] == 1
    listed = client.get(f"/api/v1/insights/{insight['id']}/reuses").json()
    assert [(item["community"], item["note"]) for item in listed["items"]] == [
        ("farmers", "We used it for crop alerts.")
    ]


def test_reuse_is_logged_under_the_reusing_community_with_its_origin(client, commons, post, factory):
    insight = post()
    _reuse(client, commons.erin, insight["id"])
    with factory() as db:
        entry = db.query(LogRecord).filter_by(event="insights:reuse:record").one()
        assert (entry.actor_id, entry.community_id) == (5, 3)
        body = json.loads(entry.body)
        assert body["subject"] == {"insight": insight["id"], "origin_community": 1, "community": 3}
        assert body["data"] == {"sectors": ["agriculture"], "origin_sectors": ["health"]}
        assert "crop alerts" not in entry.body.decode()


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("bob", 201),
        ("erin", 201),
        ("root", 201),
        ("frank", 403),
        ("dave", 403),
        ("alice", 403),
        ("anonymous", 401),
    ],
)
def test_stewards_and_organizers_of_the_reusing_community_record_reuse(
    client, commons, post, factory, who, status
):
    insight = post()
    assert _reuse(client, commons.of(who), insight["id"]).status_code == status
    assert count(factory, Reuse) == (1 if status == 201 else 0)


@pytest.mark.parametrize(
    ("who", "community", "change", "status", "code"),
    [
        ("alice", "nurses", {}, 409, "own_insight"),
        ("bob", "ghosts", {}, 404, "community_not_found"),
        ("bob", "council", {}, 404, "community_not_found"),
        ("alice", "council", {"audience": "community"}, 403, "forbidden"),
        ("bob", "Bad Slug", {}, 422, "validation_failed"),
    ],
)
def test_refused_reuse_changes_nothing(client, commons, post, factory, who, community, change, status, code):
    insight = post(**change)
    response = _reuse(client, commons.of(who), insight["id"], community)
    assert (response.status_code, response.json()["code"]) == (status, code)
    assert count(factory, Reuse) == 0
    assert client.get(f"/api/v1/insights/{insight['id']}", headers=commons.alice).json()["reuse_count"] == 0


def test_a_note_is_at_most_a_thousand_characters(client, commons, post, factory):
    insight = post()
    assert _reuse(client, commons.bob, insight["id"], note="n" * 1_001).status_code == 422
    assert count(factory, Reuse) == 0


def test_a_community_records_reusing_an_insight_once(client, commons, post, factory):
    insight = post()
    assert _reuse(client, commons.bob, insight["id"]).status_code == 201
    again = _reuse(client, commons.erin, insight["id"])
    assert (again.status_code, again.json()["code"]) == (409, "already_reused")
    assert count(factory, Reuse) == 1


def test_an_archived_community_records_no_reuse(client, commons, post, factory):
    insight = post()
    client.post("/api/v1/communities/farmers/archive", headers=commons.bob)
    assert _reuse(client, commons.bob, insight["id"]).json()["code"] == "community_archived"
    assert count(factory, Reuse) == 0


def test_a_private_reusing_community_is_not_named_to_outsiders(client, commons, post):
    insight = post(author=commons.bob, community="farmers", sectors=["agriculture"])
    assert _reuse(client, commons.alice, insight["id"], community="council").status_code == 201
    for who, named in (("anonymous", None), ("bob", None), ("alice", "council"), ("root", "council")):
        listed = client.get(f"/api/v1/insights/{insight['id']}/reuses", headers=commons.of(who)).json()[
            "items"
        ]
        assert [item["community"] for item in listed] == [named]
        assert listed[0]["community_name"] == (
            "a private community" if named is None else "Community council"
        )
    reach = client.get("/api/v1/communities/farmers/insights/reach").json()
    assert (reach["reused_by_communities"], reach["reused_by_sectors"]) == (1, ["public-sector"])
