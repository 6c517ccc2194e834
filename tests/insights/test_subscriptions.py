"""Subscriptions through the API, and the daily digest, run by the worker's chore at explicit times."""

from datetime import timedelta

import pytest
from sqlalchemy import update

from aicommons.core.db import utcnow
from aicommons.insights.jobs import digest_chore
from aicommons.insights.models import Subscription
from aicommons.members.notifications import Notification
from tests.insights.conftest import count

FOLLOW = "/api/v1/insights/subscriptions"


def _follow(client, headers, facet, value):
    return client.post(FOLLOW, headers=headers, json={"facet": facet, "value": value})


def test_following_sectors_tags_and_communities_each_with_a_public_feed(client, commons):
    for facet, value in (("sector", "Health"), ("tag", "Night Shift"), ("community", "farmers")):
        assert _follow(client, commons.dave, facet, value).status_code == 201
    again = _follow(client, commons.dave, "sector", "health")
    assert again.status_code == 201
    listed = client.get(FOLLOW, headers=commons.dave).json()["items"]
    assert [(item["facet"], item["value"], item["feed"]) for item in listed] == [
        ("community", "farmers", "/insights/feed.atom?community=farmers"),
        ("sector", "health", "/insights/feed.atom?sector=health"),
        ("tag", "night-shift", "/insights/feed.atom?tag=night-shift"),
    ]
    assert again.json()["id"] == next(item["id"] for item in listed if item["facet"] == "sector")
    assert client.get(FOLLOW, headers=commons.bob).json()["items"] == []


@pytest.mark.parametrize(
    ("who", "facet", "value", "status", "code"),
    [
        ("anonymous", "sector", "health", 401, "not_authenticated"),
        ("dave", "sector", "astrology", 422, "validation_failed"),
        ("dave", "tag", "no good!", 422, "validation_failed"),
        ("dave", "sdg", "3", 422, "validation_failed"),
        ("dave", "community", "Bad Slug", 422, "validation_failed"),
        ("dave", "community", "council", 404, "community_not_found"),
        ("dave", "community", "ghosts", 404, "community_not_found"),
    ],
)
def test_refused_subscriptions_write_nothing(client, commons, factory, who, facet, value, status, code):
    response = _follow(client, commons.of(who), facet, value)
    assert (response.status_code, response.json()["code"]) == (status, code)
    assert count(factory, Subscription) == 0


def test_a_member_follows_at_most_fifty_things(client, commons, factory):
    for n in range(50):
        assert _follow(client, commons.dave, "tag", f"tag-{n}").status_code == 201
    refused = _follow(client, commons.dave, "tag", "one-more")
    assert (refused.status_code, refused.json()["code"]) == (422, "validation_failed")
    assert count(factory, Subscription) == 50


def test_unsubscribing_only_from_your_own(client, commons, factory):
    mine = _follow(client, commons.dave, "sector", "health").json()
    for who, status in (("bob", 404), ("anonymous", 401), ("dave", 204), ("dave", 404)):
        assert client.delete(f"{FOLLOW}/{mine['id']}", headers=commons.of(who)).status_code == status
    assert count(factory, Subscription) == 0


def _age(factory, days: float) -> None:
    """Pretend every subscription's last digest was `days` ago."""
    with factory.begin() as db:
        db.execute(update(Subscription).values(last_digest_at=utcnow() - timedelta(days=days)))


def _digests(factory, member_id: int) -> list[Notification]:
    with factory() as db:
        return list(
            db.query(Notification).filter_by(member_id=member_id, kind="digest").order_by(Notification.id)
        )


@pytest.fixture
def followers(client, commons):
    """carol follows health and the farmers; dave follows health and the tag `triage`."""
    for who, facet, value in (
        ("carol", "sector", "health"),
        ("carol", "community", "farmers"),
        ("dave", "sector", "health"),
        ("dave", "tag", "triage"),
    ):
        assert _follow(client, commons.of(who), facet, value).status_code == 201


def test_the_digest_lists_what_is_new_once_a_day_and_only_what_each_may_read(
    client, commons, post, factory, followers
):
    post(title="Sepsis alerts at night")
    post(title="Kept among nurses", audience="community")
    post(community="council", title="Council health plan", sectors=["health"])
    post(author=commons.bob, community="farmers", title="Crop photos", sectors=["agriculture"], tags=[])
    post(author=commons.carol, title="Carol's own lesson", tags=[])
    _age(factory, 2)
    send = digest_chore(factory)
    now = utcnow()
    send(now=now)
    carol, dave = _digests(factory, 3), _digests(factory, 4)
    assert [note.title for note in carol] == ["3 new insights in what you follow"]
    assert carol[0].body.splitlines() == [
        "• Crop photos (Farmers ML)",
        "• Kept among nurses (Nurses on AI)",
        "• Sepsis alerts at night (Nurses on AI)",
    ]
    assert [note.title for note in dave] == ["2 new insights in what you follow"]
    assert "Kept among nurses" not in dave[0].body and "Council" not in dave[0].body
    assert "Carol's own lesson" in dave[0].body and "Sepsis alerts at night" in dave[0].body
    assert carol[0].url == "/insights/subscriptions"

    send(now=now + timedelta(hours=23))  # not a day yet: nothing
    post(title="Hand hygiene audit", tags=["triage"])
    send(now=now + timedelta(days=1, minutes=1))
    assert [note.body for note in _digests(factory, 4)][1:] == ["• Hand hygiene audit (Nurses on AI)"]
    assert len(_digests(factory, 3)) == 2


def test_no_notification_when_nothing_is_new_but_the_day_still_counts(client, commons, factory, followers):
    _age(factory, 2)
    now = utcnow()
    digest_chore(factory)(now=now)
    assert count(factory, Notification) == 0
    with factory() as db:
        assert {row.last_digest_at for row in db.query(Subscription)} == {now}


def test_a_long_digest_lists_ten_and_counts_the_rest(client, commons, post, factory, followers):
    for n in range(7):
        post(title=f"Nurses lesson {n}")
        post(author=commons.carol, title=f"Carol's lesson {n}")
    _age(factory, 1)
    digest_chore(factory)(now=utcnow())
    (digest,) = _digests(factory, 4)
    assert digest.title == "14 new insights in what you follow"
    assert len(digest.body.splitlines()) == 11 and digest.body.endswith("… and 4 more")


def test_a_subscription_newer_than_the_others_reports_since_it_began(client, commons, post, factory):
    _follow(client, commons.dave, "sector", "agriculture")
    post(title="Before dave followed health")
    _age(factory, 2)
    _follow(client, commons.dave, "sector", "health")
    post(title="After dave followed health")
    digest_chore(factory)(now=utcnow())
    assert [note.body for note in _digests(factory, 4)] == ["• After dave followed health (Nurses on AI)"]
