"""The demo commons' events, seeded on the full demo: every kind and mode, a series, a full workshop with its
waitlist, a private council's roundtable, past events with outcomes, and the demo login's calendar feed.

Seeding the demo takes seconds, so each test checks several things of one seed."""

import pytest
from sqlalchemy import select

from aicommons.core.blobs import BlobStore
from aicommons.core.db import unit_of_work
from aicommons.demo import DEMO_LOGIN, seed
from aicommons.events import demo as events_demo
from aicommons.events.models import CalendarFeed, Event
from aicommons.members.models import Member


@pytest.fixture
def demo(factory, settings) -> None:
    with unit_of_work(factory) as session:
        seed(session, store=BlobStore(settings.blob_dir))
        if session.scalar(select(Event.id).limit(1)) is None:  # until the demo seeds events itself
            people = {member.handle: member for member in session.scalars(select(Member))}
            events_demo.seed(session, people)


def test_the_demo_shows_every_kind_and_mode_upcoming_and_past(client, demo):
    upcoming = client.get("/api/v1/events", params={"size": 100}).json()["items"]
    past = client.get("/api/v1/events", params={"when": "past"}).json()["items"]
    every = upcoming + past
    assert {e["kind"] for e in every} == {"meetup", "workshop", "hackathon", "roundtable", "webinar"}
    assert {e["mode"] for e in every} == {"online", "in-person", "hybrid"}
    assert len({e["community"] for e in every}) >= 8
    assert "sdg-strategy-council" not in {e["community"] for e in every}  # private: not for visitors
    series = [e for e in upcoming if e["recurrence"]]
    assert [e["recurrence"] for e in series] == ["FREQ=MONTHLY;BYDAY=1TH;COUNT=12"]
    assert len(series[0]["next_starts"]) == 5
    assert [e["title"] for e in upcoming if e["status"] == "cancelled"] == ["Microgrid site visit"]
    assert sum(e["going_count"] for e in every) >= 40


def test_the_full_workshop_has_a_waitlist_and_past_events_their_outcomes(client, demo, token_for, factory):
    with factory() as db:
        amina = db.scalars(select(Member).where(Member.handle == DEMO_LOGIN)).one()
        has_feed = db.get(CalendarFeed, amina.id) is not None
    upcoming = client.get("/api/v1/events", params={"size": 100}).json()["items"]
    full = [e for e in upcoming if e["waitlist_count"]]
    assert [(e["kind"], e["capacity"], e["going_count"], e["waitlist_count"]) for e in full] == [
        ("workshop", 4, 4, 2)
    ]
    past = client.get("/api/v1/events", params={"when": "past"}).json()["items"]
    kinds = {o["kind"] for e in past for o in e["outcomes"]}
    assert kinds == {"insight", "concern", "recommendation"}
    links = [o["url"] for e in past for o in e["outcomes"] if o["url"]]
    assert all(link.startswith(("/insights", "/concerns")) for link in links)
    mine = client.get("/api/v1/me/events", headers=token_for(amina), params={"size": 100}).json()
    assert mine["total"] >= 4 and "sdg-strategy-council" in {i["event"]["community"] for i in mine["items"]}
    assert has_feed
