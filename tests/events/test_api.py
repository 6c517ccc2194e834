"""Events through the JSON API: scheduling, finding, changing, cancelling, outcomes, and every refusal."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from aicommons.core.db import utcnow
from aicommons.events.models import Event, Outcome, Rsvp
from aicommons.ledger.entries import parse
from aicommons.ledger.models import LogRecord
from aicommons.members.models import GlobalRole
from tests.communities.conftest import community_form
from tests.events.conftest import ZONE, answer, event_form, into_the_past, local, logged


def rows(factory, model) -> int:
    with factory() as db:
        return db.scalar(select(func.count()).select_from(model))


def test_scheduling_keeps_utc_and_shows_the_events_own_zone(client, steward, nurses, schedule, factory):
    created = schedule(start="2027-01-14T18:00", end="2027-01-14T20:30", capacity=12)
    assert (created["starts_at"], created["ends_at"]) == ("2027-01-14T17:00:00Z", "2027-01-14T19:30:00Z")
    assert (created["timezone"], created["capacity"], created["remaining"], created["going_count"]) == (
        ZONE,
        12,
        12,
        0,
    )
    assert created["community"] == "nurses" and created["status"] == "scheduled"
    assert logged(factory) == [("events:event:schedule", 1, 1)]


def test_a_time_with_an_offset_is_the_same_moment_in_the_events_zone(client, nurses, schedule):
    created = schedule(start="2027-01-14T17:00:42Z", end="2027-01-14T19:00:00+00:00")
    assert created["starts_at"] == "2027-01-14T17:00:00Z"  # to the minute


@pytest.mark.parametrize(
    "change",
    [
        {"title": "ab"},
        {"title": "t" * 121},
        {"kind": "party"},
        {"mode": "telepathy"},
        {"timezone": "Mars/Olympus"},
        {"timezone": "../../etc/passwd"},
        {"end": local(10, hour=17)},
        {"end": local(30)},
        {"start": "tomorrow"},
        {"description": "d" * 10_001},
        {"location": ""},
        {"location": "l" * 201},
        {"mode": "online", "online_url": ""},
        {"mode": "online", "online_url": "javascript:alert(1)"},
        {"mode": "hybrid", "location": "", "online_url": "https://meet.example.org/x"},
        {"capacity": 0},
        {"capacity": 100_001},
        {"recurrence": "FREQ=MONTHLY"},
        {"recurrence": "FREQ=SECONDLY;COUNT=5"},
        {"recurrence": "FREQ=DAILY;COUNT=101"},
        {"recurrence": "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30;COUNT=3"},
        {"recurrence": "r" * 301},
        {"unexpected": 1},
    ],
)
def test_bad_event_fields_are_422_and_nothing_is_written(client, steward, nurses, factory, change):
    response = client.post("/api/v1/communities/nurses/events", headers=steward, json=event_form(**change))
    assert (response.status_code, response.json()["code"]) == (422, "validation_failed"), response.text
    assert rows(factory, Event) == 0
    assert logged(factory) == []


@pytest.mark.parametrize(
    ("start", "message"),
    [(local(-1), "the start must be in the future"), (local(4 * 366), "schedule at most three years ahead")],
)
def test_events_are_scheduled_ahead_but_not_too_far(client, steward, nurses, factory, start, message):
    form = event_form(start=start, end=start.replace("T18", "T20"))
    response = client.post("/api/v1/communities/nurses/events", headers=steward, json=form)
    assert (response.status_code, response.json()["detail"]) == (422, message)
    assert rows(factory, Event) == 0


def test_a_series_lists_its_next_dates_and_ends_with_its_last(client, nurses, schedule):
    start = datetime(2027, 1, 7, 18, 0)  # a Thursday
    created = schedule(
        start=start.isoformat(),
        end=start.replace(hour=20).isoformat(),
        recurrence="freq=monthly;byday=1th;count=6",
    )
    assert created["recurrence"] == "FREQ=MONTHLY;BYDAY=1TH;COUNT=6"
    assert created["next_starts"][:4] == [
        "2027-01-07T17:00:00Z",
        "2027-02-04T17:00:00Z",
        "2027-03-04T17:00:00Z",
        "2027-04-01T16:00:00Z",  # summer time in Berlin: still 18:00 there
    ]
    assert created["over_at"] == "2027-06-03T18:00:00Z"


def test_a_series_must_start_on_one_of_its_dates(client, steward, nurses):
    form = event_form(
        start="2027-01-08T18:00", end="2027-01-08T20:00", recurrence="FREQ=MONTHLY;BYDAY=1TH;COUNT=3"
    )
    response = client.post("/api/v1/communities/nurses/events", headers=steward, json=form)
    assert response.status_code == 422
    assert "its first is Thursday 04 February 2027" in response.json()["detail"]


def test_browse_filters_by_kind_mode_and_community_format_and_pages(client, steward, nurses, schedule):
    client.post("/api/v1/communities", headers=steward, json=community_form("summit", format="event"))
    schedule(title="Triage meetup")
    schedule(title="Online webinar", kind="webinar", mode="online", online_url="https://meet.example.org/w")
    schedule("summit", title="Summit hackathon", kind="hackathon", start=local(12), end=local(12, hour=22))

    def titles(**params):
        return [e["title"] for e in client.get("/api/v1/events", params=params).json()["items"]]

    assert titles() == ["Triage meetup", "Online webinar", "Summit hackathon"]
    assert titles(kind="webinar") == ["Online webinar"]
    assert titles(mode="in-person") == ["Triage meetup", "Summit hackathon"]
    assert titles(format="event") == ["Summit hackathon"]
    assert titles(community="nurses", kind="meetup") == ["Triage meetup"]
    assert titles(when="past") == []
    page = client.get("/api/v1/events", params={"size": 2, "page": 2}).json()
    assert (page["total"], [e["title"] for e in page["items"]]) == (3, ["Summit hackathon"])
    for bad in ({"kind": "x"}, {"when": "soon"}, {"size": 101}, {"format": "party"}):
        assert client.get("/api/v1/events", params=bad).status_code == 422


def test_past_events_move_to_the_past_tab_latest_first(client, nurses, schedule, factory):
    older, newer = schedule(title="Older"), schedule(title="Newer")
    into_the_past(factory, older["id"], days=40)
    into_the_past(factory, newer["id"], days=20)
    assert [e["title"] for e in client.get("/api/v1/events", params={"when": "past"}).json()["items"]] == [
        "Newer",
        "Older",
    ]
    assert client.get("/api/v1/communities/nurses/events").json()["total"] == 0
    assert client.get("/api/v1/communities/nurses/events?when=past").json()["total"] == 2


def test_a_private_communitys_events_stay_inside_it(client, steward, council, schedule, person):
    event = schedule("council", title="Budget roundtable", kind="roundtable")
    outsider = person("otto")
    for headers in ({}, outsider):
        assert client.get("/api/v1/events", headers=headers).json()["total"] == 0
        shown = client.get(f"/api/v1/events/{event['id']}", headers=headers)
        assert (shown.status_code, shown.json()["code"]) == (404, "event_not_found")
        assert client.get("/api/v1/communities/council/events", headers=headers).status_code == 404
    refused = client.put(f"/api/v1/events/{event['id']}/rsvp", headers=outsider, json={"answer": "going"})
    assert refused.json()["code"] == "event_not_found"
    assert client.get("/api/v1/events", headers=steward).json()["total"] == 1


def test_an_invited_person_sees_a_private_event_but_answers_only_as_a_member(
    client, steward, council, schedule, person
):
    event = schedule("council")
    guest = person("gina")
    client.post("/api/v1/communities/council/invitations", headers=steward, json={"handle": "gina"})
    assert client.get(f"/api/v1/events/{event['id']}", headers=guest).status_code == 200
    refused = client.put(f"/api/v1/events/{event['id']}/rsvp", headers=guest, json={"answer": "going"})
    assert (refused.status_code, refused.json()["code"]) == (403, "forbidden")
    client.post("/api/v1/communities/council/members", headers=guest)
    assert answer(client, guest, event["id"], "going")["answer"] == "going"


def test_anyone_signed_in_answers_a_public_event_and_anonymous_is_refused(client, nurses, schedule, person):
    event = schedule()
    assert client.put(f"/api/v1/events/{event['id']}/rsvp", json={"answer": "going"}).status_code == 401
    assert answer(client, person("walker"), event["id"], "interested")["answer"] == "interested"
    bad = client.put(f"/api/v1/events/{event['id']}/rsvp", headers=person("x-ray"), json={"answer": "maybe"})
    assert bad.status_code == 422


def test_the_online_link_is_for_those_going_and_the_organizers(client, steward, nurses, schedule, person):
    event = schedule(mode="hybrid", online_url="https://meet.example.org/nurses")
    guest = person("gus")
    assert client.get(f"/api/v1/events/{event['id']}").json()["online_url"] is None
    assert client.get(f"/api/v1/events/{event['id']}", headers=guest).json()["online_url"] is None
    answer(client, guest, event["id"], "going")
    assert client.get(f"/api/v1/events/{event['id']}", headers=guest).json()["online_url"].endswith("/nurses")
    assert (
        client.get(f"/api/v1/events/{event['id']}", headers=steward).json()["online_url"].endswith("/nurses")
    )


def test_an_update_changes_what_it_names_and_is_logged(client, steward, nurses, schedule, factory):
    event = schedule()
    changed = client.patch(
        f"/api/v1/events/{event['id']}", headers=steward, json={"title": "Triage tools night", "capacity": 30}
    ).json()
    assert (changed["title"], changed["capacity"], changed["starts_at"]) == (
        "Triage tools night",
        30,
        event["starts_at"],
    )
    same_title = {"capacity": None, "title": "Triage tools night"}
    unlimited = client.patch(f"/api/v1/events/{event['id']}", headers=steward, json=same_title).json()
    assert unlimited["capacity"] is None
    with factory() as db:
        updates = db.scalars(select(LogRecord.body).where(LogRecord.event == "events:event:update")).all()
    assert [parse(body)["data"]["fields"] for body in updates] == [["capacity", "title"], ["capacity"]]


def test_an_update_is_checked_as_a_whole_and_a_refusal_changes_nothing(client, steward, nurses, schedule):
    event = schedule()
    for change in ({"end": local(9)}, {"mode": "online"}, {"recurrence": "FREQ=DAILY"}, {"start": local(-2)}):
        refused = client.patch(f"/api/v1/events/{event['id']}", headers=steward, json=change)
        assert (refused.status_code, refused.json()["code"]) == (422, "validation_failed"), change
    assert client.get(f"/api/v1/events/{event['id']}", headers=steward).json() == event


def test_a_cancelled_event_tells_those_going_and_takes_no_more_answers(
    client, steward, nurses, schedule, person, factory
):
    event = schedule()
    guest = person("greta")
    answer(client, guest, event["id"], "going")
    cancelled = client.post(f"/api/v1/events/{event['id']}/cancel", headers=steward).json()
    assert cancelled["status"] == "cancelled"
    assert (
        client.post(f"/api/v1/events/{event['id']}/cancel", headers=steward).json()["status"] == "cancelled"
    )
    refused = client.put(
        f"/api/v1/events/{event['id']}/rsvp", headers=person("late"), json={"answer": "going"}
    )
    assert (refused.status_code, refused.json()["code"]) == (409, "event_cancelled")
    edit = client.patch(f"/api/v1/events/{event['id']}", headers=steward, json={"title": "Again"})
    assert edit.json()["code"] == "event_cancelled"
    notes = client.get("/api/v1/me/notifications", headers=guest).json()["items"]
    assert [(note["kind"], note["url"]) for note in notes] == [("event", f"/events/{event['id']}")]
    assert [name for name, *_ in logged(factory)].count("events:event:cancel") == 1


def test_a_past_event_takes_no_answers_and_cannot_be_cancelled(
    client, steward, nurses, schedule, person, factory
):
    event = schedule()
    into_the_past(factory, event["id"])
    refused = client.put(
        f"/api/v1/events/{event['id']}/rsvp", headers=person("tardy"), json={"answer": "going"}
    )
    assert (refused.status_code, refused.json()["code"]) == (409, "event_over")
    assert client.post(f"/api/v1/events/{event['id']}/cancel", headers=steward).json()["code"] == "event_over"


def test_outcomes_are_linked_after_the_event(client, steward, nurses, schedule, factory):
    event = schedule()
    early = client.post(
        f"/api/v1/events/{event['id']}/outcomes",
        headers=steward,
        json={"kind": "insight", "title": "Triage notes", "url": "/insights/4"},
    )
    assert (early.status_code, early.json()["code"]) == (409, "event_not_over")
    into_the_past(factory, event["id"])
    links = [
        {"kind": "insight", "title": "Triage notes", "url": "/insights/4"},
        {"kind": "concern", "title": "Night-shift alerts", "url": "/concerns?q=alerts"},
        {"kind": "recommendation", "title": "Pilot with two wards", "note": "Start *small*."},
        {"kind": "recommendation", "title": "Read the WHO guidance", "url": "https://who.int/ai"},
    ]
    for link in links:
        created = client.post(f"/api/v1/events/{event['id']}/outcomes", headers=steward, json=link)
        assert created.status_code == 201, created.text
    shown = client.get(f"/api/v1/events/{event['id']}").json()["outcomes"]
    assert [(o["kind"], o["url"]) for o in shown] == [
        ("insight", "/insights/4"),
        ("concern", "/concerns?q=alerts"),
        ("recommendation", ""),
        ("recommendation", "https://who.int/ai"),
    ]
    assert [name for name, *_ in logged(factory)].count("events:outcome:link") == 4


@pytest.mark.parametrize(
    "link",
    [
        {"kind": "insight", "title": "No link"},
        {"kind": "insight", "title": "Wrong page", "url": "/concerns/3"},
        {"kind": "concern", "title": "Elsewhere", "url": "/datasets/3"},
        {"kind": "insight", "title": "Plain http", "url": "http://example.org/x"},
        {"kind": "insight", "title": "Script", "url": "javascript:alert(1)"},
        {"kind": "insight", "title": "Other host path", "url": "//evil.example/insights/1"},
        {"kind": "insight", "title": "Quote", "url": 'https://e.org/"onmouseover=x'},
        {"kind": "recommendation", "title": "Empty"},
        {"kind": "recommendation", "title": "t"},
        {"kind": "recommendation", "title": "Long", "note": "n" * 5001},
        {"kind": "prophecy", "title": "Nope", "url": "/insights/1"},
        {"kind": "insight", "title": "Extra", "url": "/insights/1", "score": 5},
    ],
)
def test_bad_outcomes_are_refused_and_nothing_is_linked(client, steward, nurses, schedule, factory, link):
    event = schedule()
    into_the_past(factory, event["id"])
    refused = client.post(f"/api/v1/events/{event['id']}/outcomes", headers=steward, json=link)
    assert (refused.status_code, refused.json()["code"]) == (422, "validation_failed")
    assert rows(factory, Outcome) == 0


ROLE_MATRIX = [
    # who, may run events (schedule, edit, cancel, link outcomes, see attendees)
    ("admin", True),
    ("steward", True),
    ("organizer", True),
    ("member", False),
    ("outsider", False),
    ("moderator", False),
]


@pytest.mark.parametrize(("who", "may_run"), ROLE_MATRIX)
def test_every_role_gets_exactly_its_powers(
    client, steward, nurses, schedule, factory, make_member, token_for, who, may_run
):
    global_role = {"admin": GlobalRole.ADMIN, "moderator": GlobalRole.MODERATOR}.get(who, GlobalRole.MEMBER)
    headers = steward if who == "steward" else token_for(make_member("actor", global_role))
    if who in ("organizer", "member"):
        client.post("/api/v1/communities/nurses/members", headers=headers)
        client.put("/api/v1/communities/nurses/members/actor/role", headers=steward, json={"role": who})
    held, coming = schedule(title="Held"), schedule(title="Coming")
    into_the_past(factory, held["id"])
    calls = [
        client.post("/api/v1/communities/nurses/events", headers=headers, json=event_form()),
        client.patch(f"/api/v1/events/{coming['id']}", headers=headers, json={"title": "Renamed"}),
        client.get(f"/api/v1/events/{coming['id']}/attendees", headers=headers),
        client.post(
            f"/api/v1/events/{held['id']}/outcomes",
            headers=headers,
            json={"kind": "recommendation", "title": "More breaks", "note": "Every hour."},
        ),
        client.post(f"/api/v1/events/{coming['id']}/cancel", headers=headers),
    ]
    assert [r.status_code < 400 for r in calls] == [may_run] * 5, [r.text for r in calls]
    assert all(r.json()["code"] == "forbidden" for r in calls if r.status_code >= 400)
    if not may_run:
        assert rows(factory, Event) == 2 and rows(factory, Outcome) == 0
        assert client.get(f"/api/v1/events/{coming['id']}").json()["status"] == "scheduled"


def test_an_archived_community_schedules_nothing_and_takes_no_answers(
    client, steward, nurses, schedule, person
):
    event = schedule()
    client.post("/api/v1/communities/nurses/archive", headers=steward)
    refused = client.post("/api/v1/communities/nurses/events", headers=steward, json=event_form())
    assert (refused.status_code, refused.json()["code"]) == (409, "community_archived")
    late = client.put(
        f"/api/v1/events/{event['id']}/rsvp", headers=person("archie"), json={"answer": "going"}
    )
    assert late.json()["code"] == "community_archived"


def test_unknown_events_are_404(client, steward):
    for method, path in [
        ("GET", ""),
        ("PATCH", ""),
        ("POST", "/cancel"),
        ("PUT", "/rsvp"),
        ("POST", "/outcomes"),
    ]:
        response = client.request(
            method, f"/api/v1/events/999{path}", headers=steward, json={"answer": "going"}
        )
        assert (response.status_code, response.json()["code"]) == (404, "event_not_found"), path
    assert client.get("/api/v1/events/not-a-number").status_code == 422


def test_scheduling_and_answering_are_rate_limited(client, steward, nurses, schedule, person, factory):
    for _ in range(20):
        schedule()
    refused = client.post("/api/v1/communities/nurses/events", headers=steward, json=event_form())
    assert (refused.status_code, refused.json()["code"]) == (429, "rate_limited")
    assert rows(factory, Event) == 20
    fickle = person("fickle")
    events = client.get("/api/v1/events", params={"size": 20}).json()["items"]
    changes = [(event["id"], choice) for event in events for choice in ("going", "declined")][:31]
    statuses = [
        client.put(f"/api/v1/events/{event_id}/rsvp", headers=fickle, json={"answer": choice}).status_code
        for event_id, choice in changes
    ]
    assert statuses == [200] * 30 + [429]
    with factory() as db:
        assert db.scalar(select(func.count()).select_from(Rsvp)) == 15


def test_my_events_list_what_i_answered(client, nurses, schedule, person, factory):
    first, second, third = schedule(title="First"), schedule(title="Second"), schedule(title="Third")
    me = person("mia")
    answer(client, me, first["id"], "going")
    answer(client, me, second["id"], "interested")
    answer(client, me, third["id"], "declined")
    mine = client.get("/api/v1/me/events", headers=me).json()
    assert [(item["event"]["title"], item["rsvp"]["answer"]) for item in mine["items"]] == [
        ("First", "going"),
        ("Second", "interested"),
    ]
    into_the_past(factory, first["id"])
    assert client.get("/api/v1/me/events?when=past", headers=me).json()["total"] == 1
    assert client.get("/api/v1/me/events", headers=me).json()["total"] == 1
    assert client.get("/api/v1/me/events").status_code == 401


def test_my_answer_is_404_until_i_answer(client, nurses, schedule, person):
    event, me = schedule(), person("nia")
    assert client.get(f"/api/v1/events/{event['id']}/rsvp", headers=me).json()["code"] == "not_found"
    answer(client, me, event["id"], "interested")
    assert client.get(f"/api/v1/events/{event['id']}/rsvp", headers=me).json()["answer"] == "interested"


def test_the_log_names_ids_and_never_titles(client, council, schedule, factory):
    schedule("council", title="Secret budget talk")
    with factory() as db:
        bodies = [
            row for row in db.scalars(select(LogRecord.body).where(LogRecord.event.startswith("events:")))
        ]
    assert bodies and all(b"Secret budget" not in body for body in bodies)


def test_times_are_utc_in_the_answer(client, nurses, schedule):
    created = schedule(timezone="Africa/Nairobi", start="2027-03-02T09:00", end="2027-03-02T12:00")
    assert datetime.fromisoformat(created["starts_at"]) == datetime(2027, 3, 2, 6, 0, tzinfo=UTC)
    assert datetime.fromisoformat(created["ends_at"]) - datetime.fromisoformat(
        created["starts_at"]
    ) == timedelta(hours=3)
    assert utcnow() < datetime.fromisoformat(created["over_at"])
