"""Replies, accepted answers and endorsements through the API, with their refusals and log entries."""

import pytest

from aicommons.insights.models import Endorsement, Reply
from aicommons.ledger.models import LogRecord
from aicommons.members.notifications import Notification
from tests.insights.conftest import count


def _reply(client, headers, insight_id, body="We saw the same on our ward."):
    return client.post(f"/api/v1/insights/{insight_id}/replies", headers=headers, json={"body": body})


def test_a_reply_counts_is_logged_and_tells_the_author(client, commons, post, factory):
    insight = post()
    response = _reply(client, commons.bob, insight["id"])
    assert response.status_code == 201, response.text
    assert (response.json()["author"], response.json()["accepted"]) == ("bob", False)
    assert client.get(f"/api/v1/insights/{insight['id']}").json()["reply_count"] == 1
    listed = client.get(f"/api/v1/insights/{insight['id']}/replies").json()
    assert [item["body"] for item in listed["items"]] == ["We saw the same on our ward."]
    with factory() as db:
        note = db.query(Notification).one()
        assert (note.member_id, note.kind, note.url) == (1, "reply", f"/insights/{insight['id']}#replies")
        entry = db.query(LogRecord).filter_by(event="insights:reply:create").one()
        assert (entry.actor_id, entry.community_id) == (2, 1)
        assert "ward" not in entry.body.decode()


def test_replying_to_yourself_notifies_nobody(client, commons, post, factory):
    insight = post()
    assert _reply(client, commons.alice, insight["id"]).status_code == 201
    assert count(factory, Notification) == 0


@pytest.mark.parametrize(
    ("who", "body", "status", "code"),
    [
        ("anonymous", "hello", 401, "not_authenticated"),
        ("alice", "", 422, "validation_failed"),
        ("alice", "x" * 5_001, 422, "validation_failed"),
    ],
)
def test_bad_replies_write_nothing(client, commons, post, factory, who, body, status, code):
    insight = post()
    response = _reply(client, commons.of(who), insight["id"], body)
    assert (response.status_code, response.json()["code"]) == (status, code)
    assert count(factory, Reply) == 0


def test_nobody_replies_to_what_they_may_not_read(client, commons, post, factory):
    kept = post(audience="community")
    for who in ("dave", "bob"):
        response = _reply(client, commons.of(who), kept["id"])
        assert (response.status_code, response.json()["code"]) == (404, "insight_not_found")
    assert _reply(client, commons.carol, kept["id"]).status_code == 201
    assert count(factory, Reply) == 1


def test_an_archived_communitys_insights_take_no_replies(client, commons, post, factory):
    insight = post()
    client.post("/api/v1/communities/nurses/archive", headers=commons.alice)
    assert _reply(client, commons.bob, insight["id"]).json()["code"] == "community_archived"
    assert count(factory, Reply) == 0


def test_replying_is_rate_limited(client, commons, post):
    insight = post()
    for _ in range(30):
        assert _reply(client, commons.bob, insight["id"]).status_code == 201
    assert _reply(client, commons.bob, insight["id"]).json()["code"] == "rate_limited"


def _accept(client, headers, insight_id, reply_id):
    return client.post(f"/api/v1/insights/{insight_id}/replies/{reply_id}/accept", headers=headers)


def test_the_asker_accepts_an_answer_which_comes_first_and_can_move(client, commons, post, factory):
    question = post(kind="question", title="Who audits triage models?")
    first = _reply(client, commons.bob, question["id"], "Nobody yet.").json()
    second = _reply(client, commons.carol, question["id"], "Our quality office does.").json()
    assert _accept(client, commons.alice, question["id"], second["id"]).json()["accepted"] is True
    listed = client.get(f"/api/v1/insights/{question['id']}/replies").json()["items"]
    assert [(item["body"], item["accepted"]) for item in listed] == [
        ("Our quality office does.", True),
        ("Nobody yet.", False),
    ]
    assert _accept(client, commons.alice, question["id"], first["id"]).status_code == 200
    listed = client.get(f"/api/v1/insights/{question['id']}/replies").json()["items"]
    assert [item["accepted"] for item in listed] == [True, False] and listed[0]["id"] == first["id"]
    assert _accept(client, commons.alice, question["id"], first["id"]).status_code == 200  # again: no change
    assert count(factory, LogRecord, LogRecord.event == "insights:answer:accept") == 2


@pytest.mark.parametrize(
    ("who", "status", "code"),
    [("anonymous", 401, "not_authenticated"), ("bob", 403, "forbidden"), ("carol", 403, "forbidden")],
)
def test_only_the_asker_accepts(client, commons, post, factory, who, status, code):
    question = post(kind="question")
    answer = _reply(client, commons.bob, question["id"]).json()
    response = _accept(client, commons.of(who), question["id"], answer["id"])
    assert (response.status_code, response.json()["code"]) == (status, code)
    assert count(factory, Reply, Reply.accepted_at.is_not(None)) == 0


def test_an_admin_may_accept_for_the_asker(client, commons, post):
    question = post(kind="question")
    answer = _reply(client, commons.bob, question["id"]).json()
    assert _accept(client, commons.root, question["id"], answer["id"]).json()["accepted"] is True


def test_only_a_question_has_an_answer_and_only_its_own_replies(client, commons, post, factory):
    lesson, question = post(), post(kind="question")
    on_lesson = _reply(client, commons.bob, lesson["id"]).json()
    refused = _accept(client, commons.alice, lesson["id"], on_lesson["id"])
    assert (refused.status_code, refused.json()["code"]) == (409, "not_a_question")
    elsewhere = _accept(client, commons.alice, question["id"], on_lesson["id"])
    assert (elsewhere.status_code, elsewhere.json()["code"]) == (404, "reply_not_found")
    assert count(factory, Reply, Reply.accepted_at.is_not(None)) == 0


def _endorse(client, headers, insight_id, method="PUT"):
    return client.request(method, f"/api/v1/insights/{insight_id}/endorsement", headers=headers)


def test_endorsing_counts_once_and_can_be_withdrawn(client, commons, post, factory):
    insight = post()
    assert _endorse(client, commons.bob, insight["id"]).json() == {"endorsed": True, "endorsement_count": 1}
    assert _endorse(client, commons.bob, insight["id"]).json() == {"endorsed": True, "endorsement_count": 1}
    assert _endorse(client, commons.carol, insight["id"]).json()["endorsement_count"] == 2
    withdrawn = _endorse(client, commons.bob, insight["id"], "DELETE").json()
    assert withdrawn == {"endorsed": False, "endorsement_count": 1}
    assert _endorse(client, commons.bob, insight["id"], "DELETE").json()["endorsement_count"] == 1
    assert client.get(f"/api/v1/insights/{insight['id']}").json()["endorsement_count"] == 1
    events = [
        count(factory, LogRecord, LogRecord.event == name)
        for name in ("insights:endorsement:add", "insights:endorsement:remove")
    ]
    assert events == [2, 1]


@pytest.mark.parametrize(
    ("who", "status", "code"),
    [
        ("anonymous", 401, "not_authenticated"),
        ("alice", 403, "forbidden"),
        ("dave", 404, "insight_not_found"),
    ],
)
def test_refused_endorsements_change_nothing(client, commons, post, factory, who, status, code):
    insight = post(audience="community") if who == "dave" else post()
    response = _endorse(client, commons.of(who), insight["id"])
    assert (response.status_code, response.json()["code"]) == (status, code)
    assert count(factory, Endorsement) == 0
    assert (
        client.get(f"/api/v1/insights/{insight['id']}", headers=commons.alice).json()["endorsement_count"]
        == 0
    )
