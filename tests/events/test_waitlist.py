"""Places and the waitlist: first come, first served; a freed place goes to the first in line at once, who is
told; counts stay exact when many answer at the same moment."""

import threading
import time

import pytest
from sqlalchemy import func, select

from aicommons.core.db import unit_of_work
from aicommons.events import attendance
from aicommons.events.models import Answer, Event, Rsvp
from aicommons.members.models import Member
from aicommons.members.notifications import Notification
from tests.events.conftest import answer, logged


def line(client, headers, event_id):
    return client.get(f"/api/v1/events/{event_id}/attendees", headers=headers).json()["items"]


def counts(client, event_id):
    shown = client.get(f"/api/v1/events/{event_id}").json()
    return shown["going_count"], shown["waitlist_count"], shown["remaining"]


def test_going_beyond_capacity_joins_the_waitlist_in_order(client, steward, nurses, schedule, person):
    event = schedule(capacity=2)
    people = [person(handle) for handle in ("ada", "ben", "cal", "dee")]
    answers = [answer(client, headers, event["id"], "going") for headers in people]
    assert [(a["waitlisted"], a["position"]) for a in answers] == [
        (False, None),
        (False, None),
        (True, 1),
        (True, 2),
    ]
    assert counts(client, event["id"]) == (2, 2, 0)
    assert [(a["handle"], a["waitlisted"]) for a in line(client, steward, event["id"])] == [
        ("ada", False),
        ("ben", False),
        ("cal", True),
        ("dee", True),
    ]
    again = answer(client, people[2], event["id"], "going")
    assert (again["waitlisted"], again["position"]) == (True, 1)  # answering the same keeps the place in line


def test_a_freed_place_goes_down_the_line_and_each_promoted_member_is_told(
    client, steward, nurses, schedule, person, factory
):
    event = schedule(capacity=1)
    ada, ben, cal = person("ada"), person("ben"), person("cal")
    for headers in (ada, ben, cal):
        answer(client, headers, event["id"], "going")
    answer(client, ada, event["id"], "declined")
    assert client.get(f"/api/v1/events/{event['id']}/rsvp", headers=ben).json()["waitlisted"] is False
    assert client.get(f"/api/v1/events/{event['id']}/rsvp", headers=cal).json()["position"] == 1
    answer(client, ben, event["id"], "interested")
    assert client.get(f"/api/v1/events/{event['id']}/rsvp", headers=cal).json()["waitlisted"] is False
    assert counts(client, event["id"]) == (1, 0, 0)
    for headers in (ben, cal):
        notes = client.get("/api/v1/me/notifications", headers=headers).json()["items"]
        assert [(n["kind"], n["url"]) for n in notes] == [("waitlist", f"/events/{event['id']}")]
    assert client.get("/api/v1/me/notifications", headers=ada).json()["items"] == []
    promotions = [entry for entry in logged(factory) if entry[0] == "events:waitlist:promote"]
    assert promotions == [("events:waitlist:promote", None, 1)] * 2


def test_leaving_the_line_moves_everyone_behind_up(client, nurses, schedule, person):
    event = schedule(capacity=1)
    ada, ben, cal, dee = (person(h) for h in ("ada", "ben", "cal", "dee"))
    for headers in (ada, ben, cal, dee):
        answer(client, headers, event["id"], "going")
    answer(client, ben, event["id"], "declined")
    assert [
        client.get(f"/api/v1/events/{event['id']}/rsvp", headers=h).json()["position"] for h in (cal, dee)
    ] == [
        1,
        2,
    ]
    assert counts(client, event["id"]) == (1, 2, 0)
    back = answer(client, ben, event["id"], "going")
    assert back["position"] == 3  # back of the line


def test_raising_the_capacity_promotes_as_many_as_it_frees(client, steward, nurses, schedule, person):
    event = schedule(capacity=1)
    people = [person(h) for h in ("ada", "ben", "cal", "dee")]
    for headers in people:
        answer(client, headers, event["id"], "going")
    client.patch(f"/api/v1/events/{event['id']}", headers=steward, json={"capacity": 3})
    assert counts(client, event["id"]) == (3, 1, 0)
    assert [a["handle"] for a in line(client, steward, event["id"]) if a["waitlisted"]] == ["dee"]
    client.patch(f"/api/v1/events/{event['id']}", headers=steward, json={"capacity": None})
    assert counts(client, event["id"]) == (4, 0, None)


def test_lowering_the_capacity_keeps_the_places_already_given(client, steward, nurses, schedule, person):
    event = schedule(capacity=3)
    people = [person(h) for h in ("ada", "ben", "cal")]
    for headers in people:
        answer(client, headers, event["id"], "going")
    client.patch(f"/api/v1/events/{event['id']}", headers=steward, json={"capacity": 1})
    assert counts(client, event["id"]) == (3, 0, 0)
    answer(client, people[0], event["id"], "declined")
    assert counts(client, event["id"]) == (2, 0, 0)
    assert answer(client, person("eve"), event["id"], "going")["waitlisted"] is True


def test_every_answer_is_logged_as_the_members_contribution(client, nurses, schedule, person, factory):
    event = schedule(capacity=1)
    ada = person("ada")
    for choice in ("interested", "going", "going", "declined"):
        answer(client, ada, event["id"], choice)
    answers = [entry for entry in logged(factory) if entry[0] == "events:rsvp:set"]
    ada_id = answers[0][1]
    assert answers == [("events:rsvp:set", ada_id, 1)] * 3  # the repeated "going" changed nothing


def _answer_as(factory, member_id: int, event_id: int, errors: list[Exception]) -> None:
    try:
        with unit_of_work(factory) as session:
            event, member = session.get_one(Event, event_id), session.get_one(Member, member_id)
            attendance.answer(session=session, event=event, member=member, choice=Answer.GOING)
    except Exception as error:  # a lost update or a deadlock would land here
        errors.append(error)


def test_many_answering_at_once_never_overfill_and_all_stand_in_one_line(
    client, nurses, schedule, make_member, factory
):
    event = schedule(capacity=3)
    people = [make_member(f"rush{n}") for n in range(8)]
    errors: list[Exception] = []
    threads = [threading.Thread(target=_answer_as, args=(factory, m.id, event["id"], errors)) for m in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with factory() as db:
        saved = db.get_one(Event, event["id"])
        rsvps = list(db.scalars(select(Rsvp).where(Rsvp.event_id == saved.id)))
        positions = sorted(attendance.position(db, rsvp) or 0 for rsvp in rsvps if rsvp.waitlisted)
    assert (saved.going_count, saved.waitlist_count) == (3, 5)
    assert sum(rsvp.has_place for rsvp in rsvps) == 3
    assert positions == [1, 2, 3, 4, 5]


@pytest.mark.postgres_only
def test_the_line_keeps_the_order_in_which_people_asked_while_the_event_is_locked(
    client, nurses, schedule, make_member, factory, engine
):
    """On PostgreSQL the event's row lock queues answers first come, first served."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite's busy handler retries in no particular order; PostgreSQL queues row locks")
    event = schedule(capacity=1)
    holder, first, second = (make_member(h) for h in ("holder", "first", "second"))
    errors: list[Exception] = []
    with unit_of_work(factory) as session:
        attendance.lock(session, session.get_one(Event, event["id"]))
        waiting = []
        for member in (holder, first, second):
            thread = threading.Thread(target=_answer_as, args=(factory, member.id, event["id"], errors))
            thread.start()
            waiting.append(thread)
            time.sleep(0.3)  # each has asked, and waits for the lock, before the next asks
    for thread in waiting:
        thread.join()
    assert errors == []
    with factory() as db:
        line_up = db.execute(
            select(Member.handle, Rsvp.waitlisted_at)
            .join(Rsvp, Rsvp.member_id == Member.id)
            .order_by(Rsvp.waitlisted_at.is_not(None), Rsvp.waitlisted_at)
        ).all()
        total = db.scalar(select(func.count()).select_from(Notification))
    assert [handle for handle, _ in line_up] == ["holder", "first", "second"]
    assert [at is None for _, at in line_up] == [True, False, False]
    assert total == 0
