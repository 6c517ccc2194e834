"""iCalendar feeds (read back with the `icalendar` package), schema.org JSON-LD, and safe Markdown: what an
event looks like to calendar apps, search engines and browsers, and that private events never leak."""

import json
import re
from datetime import datetime
from zoneinfo import ZoneInfo

import icalendar
import pytest

from tests.events.conftest import answer, into_the_past

HTML = {"accept": "text/html"}


def calendar_of(response) -> icalendar.Calendar:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/calendar")
    return icalendar.Calendar.from_ical(response.content)


def entries(response) -> dict[str, icalendar.Event]:
    return {str(entry["SUMMARY"]): entry for entry in calendar_of(response).walk("VEVENT")}


def test_an_events_calendar_entry_carries_what_calendar_apps_need(client, nurses, schedule):
    event = schedule(
        title="Monthly triage circle",
        start="2027-01-07T18:00",
        end="2027-01-07T20:00",
        recurrence="FREQ=MONTHLY;BYDAY=1TH;COUNT=6",
        location="Charité, Berlin",
    )
    found = entries(client.get(f"/events/{event['id']}.ics"))["Monthly triage circle"]
    assert str(found["UID"]).startswith(f"event-{event['id']}@")
    assert found.decoded("DTSTART") == datetime(2027, 1, 7, 18, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    assert found.decoded("DTEND") == datetime(2027, 1, 7, 20, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    assert str(found["URL"]).endswith(f"/events/{event['id']}")
    assert str(found["LOCATION"]) == "Charité, Berlin"
    assert found["RRULE"].to_ical() == b"FREQ=MONTHLY;COUNT=6;BYDAY=1TH"
    assert str(found["STATUS"]) == "CONFIRMED"
    assert "triage tools" in str(found["DESCRIPTION"]) and "**" not in str(found["DESCRIPTION"])


def test_a_cancelled_event_says_so_in_every_feed(client, steward, nurses, schedule):
    event = schedule(title="Called off", mode="online", location="", online_url="https://meet.example.org/x")
    client.post(f"/api/v1/events/{event['id']}/cancel", headers=steward)
    for path in (f"/events/{event['id']}.ics", "/communities/nurses/events.ics"):
        found = entries(client.get(path))["Called off"]
        assert (str(found["STATUS"]), str(found["LOCATION"])) == ("CANCELLED", "Online")


def test_a_series_until_a_date_is_written_in_utc_as_rfc_5545_wants(client, nurses, schedule):
    event = schedule(
        start="2027-01-05T09:00", end="2027-01-05T10:00", recurrence="FREQ=WEEKLY;UNTIL=20270301"
    )
    found = entries(client.get(f"/events/{event['id']}.ics"))["Nurses' AI meetup"]
    assert found["RRULE"]["UNTIL"] == [datetime(2027, 3, 1, 22, 59, 59, tzinfo=ZoneInfo("UTC"))]


def test_a_community_feed_holds_its_coming_and_recent_events(client, nurses, schedule, factory):
    schedule(title="Soon")
    long_ago, lately = schedule(title="Long ago"), schedule(title="Lately")
    into_the_past(factory, long_ago["id"], days=200)
    into_the_past(factory, lately["id"], days=20)
    assert set(entries(client.get("/communities/nurses/events.ics"))) == {"Soon", "Lately"}


def test_a_private_community_feed_is_for_its_members_only(client, steward, council, schedule, person):
    schedule("council", title="Budget roundtable")
    for headers in ({}, person("otto")):
        response = client.get("/communities/council/events.ics", headers=headers)
        assert response.status_code == 404 and b"Budget" not in response.content
    assert set(entries(client.get("/communities/council/events.ics", headers=steward))) == {
        "Budget roundtable"
    }


def test_a_member_feed_lives_at_a_secret_address_that_can_be_replaced(client, nurses, schedule, person):
    going, maybe, no = schedule(title="Going"), schedule(title="Maybe"), schedule(title="Nope")
    me = person("moses")
    answer(client, me, going["id"], "going")
    answer(client, me, maybe["id"], "interested")
    answer(client, me, no["id"], "declined")
    first = client.post("/api/v1/me/calendar-feed", headers=me).json()["url"]
    assert re.fullmatch(r"http://testserver/events/feed/aicf_[\w-]{43}\.ics", first)
    assert set(entries(client.get(first))) == {"Going", "Maybe"}
    second = client.post("/api/v1/me/calendar-feed", headers=me).json()["url"]
    assert client.get(first).status_code == 404
    assert set(entries(client.get(second))) == {"Going", "Maybe"}
    assert client.get("/events/feed/aicf_guess.ics").status_code == 404
    assert client.post("/api/v1/me/calendar-feed").status_code == 401


def test_the_feed_keeps_only_the_tokens_hash(client, person, factory):
    from aicommons.events.models import CalendarFeed

    url = client.post("/api/v1/me/calendar-feed", headers=person("hashy")).json()["url"]
    token = url.rsplit("/", 1)[1].removesuffix(".ics")
    with factory() as db:
        stored = db.query(CalendarFeed).one().token_hash
    assert token not in stored and len(stored) == 64


def test_no_private_event_reaches_anyones_member_feed(client, steward, nurses, council, schedule, person):
    public, private = schedule(title="Open meetup"), schedule("council", title="Closed-door roundtable")
    for event in (public, private):
        answer(client, steward, event["id"], "going")
    url = client.post("/api/v1/me/calendar-feed", headers=steward).json()["url"]
    assert set(entries(client.get(url))) == {"Open meetup"}
    assert b"Closed-door" not in client.get(url).content


def test_leaving_a_private_community_hides_its_events_from_my_events(
    client, steward, council, schedule, person
):
    event = schedule("council")
    guest = person("gwen")
    client.post("/api/v1/communities/council/invitations", headers=steward, json={"handle": "gwen"})
    client.post("/api/v1/communities/council/members", headers=guest)
    answer(client, guest, event["id"], "going")
    assert client.get("/api/v1/me/events", headers=guest).json()["total"] == 1
    client.delete("/api/v1/communities/council/members/me", headers=guest)
    assert client.get("/api/v1/me/events", headers=guest).json()["total"] == 0


def linked_data(page: str) -> dict:
    found = re.search(r'<script type="application/ld\+json">(.*?)</script>', page, re.DOTALL)
    assert found, "the page has no JSON-LD"
    return json.loads(found.group(1))


def test_the_event_page_describes_the_event_for_search_engines(client, nurses, schedule, person):
    event = schedule(
        mode="hybrid",
        capacity=20,
        online_url="https://meet.example.org/n",
        start="2027-02-02T10:00",
        end="2027-02-02T12:00",
    )
    answer(client, person("ida"), event["id"], "going")
    document = linked_data(client.get(f"/events/{event['id']}", headers=HTML).text)
    assert document["@type"] == "Event" and document["@context"] == "https://schema.org"
    assert document["eventAttendanceMode"] == "https://schema.org/MixedEventAttendanceMode"
    assert document["eventStatus"] == "https://schema.org/EventScheduled"
    assert (document["startDate"], document["endDate"]) == (
        "2027-02-02T10:00:00+01:00",
        "2027-02-02T12:00:00+01:00",
    )
    assert [place["@type"] for place in document["location"]] == ["Place", "VirtualLocation"]
    assert "meet.example.org" not in json.dumps(document)  # the join link is for those going
    assert document["organizer"]["name"] == "Community nurses"
    assert (document["maximumAttendeeCapacity"], document["remainingAttendeeCapacity"]) == (20, 19)


@pytest.mark.parametrize(
    ("mode", "attendance"),
    [("online", "OnlineEventAttendanceMode"), ("in-person", "OfflineEventAttendanceMode")],
)
def test_attendance_modes_map_to_schema_org(client, nurses, schedule, mode, attendance):
    event = schedule(mode=mode, online_url="https://meet.example.org/x")
    document = linked_data(client.get(f"/events/{event['id']}", headers=HTML).text)
    assert document["eventAttendanceMode"] == f"https://schema.org/{attendance}"


HOSTILE_TITLE = "</script><script>alert('title')</script>"
HOSTILE_TEXT = "<script>alert(1)</script>\n\n[click](javascript:alert(2)) <img src=x onerror=alert(3)>"


def harmful(page: str) -> list[str]:
    """Markup that would run: a script tag, a javascript: link, an element with an event handler."""
    return re.findall(r"<script>alert|href=\"?javascript:|<img[^>]*onerror", page)


def test_hostile_titles_and_descriptions_cannot_run_anything(client, steward, nurses, schedule, factory):
    event = schedule(title=HOSTILE_TITLE, description=HOSTILE_TEXT)
    page = client.get(f"/events/{event['id']}", headers=HTML).text
    assert not harmful(page)
    assert linked_data(page)["name"] == HOSTILE_TITLE  # escaped inside the script, read back intact
    assert page.count("</script>") == page.count("<script")  # nothing closed the JSON-LD early
    into_the_past(factory, event["id"])
    client.post(
        f"/api/v1/events/{event['id']}/outcomes",
        headers=steward,
        json={"kind": "recommendation", "title": HOSTILE_TITLE, "note": HOSTILE_TEXT},
    )
    page = client.get(f"/events/{event['id']}", headers=HTML).text
    assert not harmful(page) and "&lt;img src=x onerror=alert(3)&gt;" in page
    listed = (
        client.get("/events?when=past", headers=HTML).text
        + client.get("/communities/nurses/events/panel").text
    )
    assert not harmful(listed)
