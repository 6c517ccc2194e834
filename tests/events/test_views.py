"""The events' pages without a browser: browsing, an event and its answer buttons (HTMX and plain), the forms
and their errors, outcomes, a member's events and feed, a community's events and panel."""

import re

import pytest
from sqlalchemy import func, select

from aicommons.events.models import Event, Outcome, Rsvp
from aicommons.members.models import Member
from tests.events.conftest import event_form, into_the_past, local
from tests.problems.test_views import with_csrf

HTMX = {"HX-Request": "true", "HX-Target": "rsvp"}


@pytest.fixture
def stella(nurses, factory) -> Member:
    """The steward of the nurses' community, to log in as."""
    with factory() as db:
        return db.scalars(select(Member).where(Member.handle == "stella")).one()


def count(factory, model) -> int:
    with factory() as db:
        return db.scalar(select(func.count()).select_from(model))


def form_of(**changes):
    """The event form as a browser sends it: every field a string."""
    fields = event_form(**changes)
    return {key: "" if value is None else str(value) for key, value in fields.items()}


def test_browsing_lists_upcoming_events_and_filters_with_htmx(browser, nurses, schedule):
    schedule(title="Triage meetup")
    schedule(title="Data webinar", kind="webinar", mode="online", online_url="https://meet.example.org/w")
    page = browser().get("/events")
    assert "2 upcoming events" in page.text and "Triage meetup" in page.text
    fragment = browser().get("/events?kind=webinar", headers={"HX-Request": "true", "HX-Target": "results"})
    assert "1 upcoming event" in fragment.text and "Triage meetup" not in fragment.text
    assert "<header" not in fragment.text and fragment.headers["Vary"] == "HX-Request, HX-Target"
    assert "0 past events" in browser().get("/events?when=past").text
    assert browser().get("/events?kind=party").status_code == 422


def test_an_event_page_shows_when_where_and_how_to_answer(browser, nurses, schedule, make_member):
    event = schedule(start="2027-01-14T18:00", end="2027-01-14T20:00", capacity=10)
    anonymous = browser().get(f"/events/{event['id']}").text
    assert "Thu 14 Jan 2027, 18:00 to 20:00 CET" in anonymous and "Charité, Berlin" in anonymous
    assert "Log in to answer" in anonymous and "<strong>triage tools</strong>" in anonymous
    assert f'href="/events/{event["id"]}.ics"' in anonymous and "10</span> of 10 places left" in anonymous
    member = browser(make_member("mira")).get(f"/events/{event['id']}").text
    assert 'name="answer" value="going"' in member and "Edit" not in member


def test_answering_with_htmx_swaps_only_the_answer_section(browser, nurses, schedule, make_member):
    event = schedule(capacity=1)
    first, second = browser(make_member("first")), browser(make_member("second"))
    swapped = first.post(f"/events/{event['id']}/rsvp", data=with_csrf(first, answer="going"), headers=HTMX)
    assert swapped.status_code == 200 and swapped.text.lstrip().startswith('<section id="rsvp"')
    assert (
        "Your answer: <strong>Going</strong>" in swapped.text and "0</span> of 1 places left" in swapped.text
    )
    page = second.get(f"/events/{event['id']}").text
    assert ">Join the waitlist</button>" in page
    plain = second.post(
        f"/events/{event['id']}/rsvp", data=with_csrf(second, answer="going"), follow_redirects=False
    )
    assert (plain.status_code, plain.headers["location"]) == (303, f"/events/{event['id']}#rsvp")
    assert "number 1</strong> in line" in second.get(f"/events/{event['id']}").text


def test_a_refused_answer_says_why_in_the_section_or_on_the_page(
    browser, nurses, schedule, make_member, factory
):
    event = schedule()
    into_the_past(factory, event["id"])
    late = browser(make_member("late"))
    swapped = late.post(f"/events/{event['id']}/rsvp", data=with_csrf(late, answer="going"), headers=HTMX)
    assert swapped.status_code == 200 and "answers are closed" in swapped.text
    page = late.post(f"/events/{event['id']}/rsvp", data=with_csrf(late, answer="going"))
    assert page.status_code == 409 and 'role="alert">the event is over' in page.text
    bad = late.post(f"/events/{event['id']}/rsvp", data=with_csrf(late, answer="perhaps"))
    assert bad.status_code == 422


def test_a_steward_schedules_through_the_form(browser, nurses, stella, factory):
    page = browser(stella)
    form = page.get("/events/new?community=nurses").text
    assert '<option value="nurses" selected>' in form and 'list="time-zones"' in form
    sent = page.post(
        "/events/new",
        data=with_csrf(page, community="nurses", **form_of(capacity="", description="")),
        follow_redirects=False,
    )
    assert sent.status_code == 303 and re.fullmatch(r"/events/\d+", sent.headers["location"])
    shown = page.get(sent.headers["location"]).text
    assert "Nurses&#39; AI meetup" in shown and "no limit on places" in shown


def test_the_form_shows_each_error_next_to_its_field_and_keeps_what_was_typed(
    browser, nurses, stella, factory
):
    page = browser(stella)
    fields = form_of(title="", end=local(9), recurrence="FREQ=MONTHLY", mode="online", online_url="ftp://x")
    refused = page.post("/events/new", data=with_csrf(page, community="nurses", **fields))
    assert refused.status_code == 422
    for name, message in [
        ("title", "Please fill this in."),
        ("end", "the end must be after the start"),
        ("recurrence", "give the series an end"),
        ("online_url", "give a full web address starting with https://"),
    ]:
        assert re.search(rf'id="{name}-error">{re.escape(message)}', refused.text), name
    assert 'value="FREQ=MONTHLY"' in refused.text
    past = page.post(
        "/events/new",
        data=with_csrf(page, community="nurses", **form_of(start=local(-3), end=local(-3, hour=20))),
    )
    assert past.status_code == 422 and 'id="start-error">the start must be in the future' in past.text
    assert count(factory, Event) == 0


def test_only_organizers_get_the_form_and_a_members_post_changes_nothing(
    browser, nurses, make_member, factory
):
    member = browser(make_member("minnie"))
    assert "you are not one yet" in member.get("/events/new").text
    refused = member.post("/events/new", data=with_csrf(member, community="nurses", **form_of()))
    assert refused.status_code == 403 and "you may not schedule events" in refused.text
    assert count(factory, Event) == 0
    assert browser().get("/events/new", follow_redirects=False).headers["location"].startswith("/login")


def test_editing_and_cancelling_through_the_forms(browser, nurses, schedule, stella, make_member):
    event = schedule()
    page = browser(stella)
    form = page.get(f"/events/{event['id']}/edit").text
    assert 'value="Nurses&#39; AI meetup"' in form and "Cancel event" in form
    assert f'value="{event_form()["start"][:16]}"' in form
    saved = page.post(
        f"/events/{event['id']}/edit",
        data=with_csrf(page, **form_of(title="Renamed meetup", capacity="5")),
        follow_redirects=False,
    )
    assert saved.status_code == 303
    assert "Renamed meetup" in page.get(f"/events/{event['id']}").text
    unconfirmed = page.post(f"/events/{event['id']}/cancel", data=with_csrf(page))
    assert unconfirmed.status_code == 422
    page.post(f"/events/{event['id']}/cancel", data=with_csrf(page, confirm="yes"))
    assert "This event is cancelled" in page.get(f"/events/{event['id']}").text
    other = browser(make_member("nosy"))
    assert other.get(f"/events/{event['id']}/edit").status_code == 403


def test_outcomes_are_linked_from_the_event_page_after_it(browser, nurses, schedule, stella, factory):
    event = schedule()
    page = browser(stella)
    assert "Link outcome" not in page.get(f"/events/{event['id']}").text
    into_the_past(factory, event["id"])
    assert "Link outcome" in page.get(f"/events/{event['id']}").text
    refused = page.post(
        f"/events/{event['id']}/outcomes", data=with_csrf(page, kind="insight", title="Notes")
    )
    assert refused.status_code == 422 and 'id="url-error">link the insight' in refused.text
    linked = page.post(
        f"/events/{event['id']}/outcomes",
        data=with_csrf(page, kind="recommendation", title="Pilot in two wards", note="Start **small**."),
        follow_redirects=False,
    )
    assert linked.headers["location"] == f"/events/{event['id']}#outcomes"
    shown = page.get(f"/events/{event['id']}").text
    assert "Pilot in two wards" in shown and "<strong>small</strong>" in shown
    assert count(factory, Outcome) == 1


def test_my_events_and_a_feed_address_shown_once(client, browser, nurses, schedule, make_member):
    event = schedule(title="Coming up")
    me = make_member("mimi")
    page = browser(me)
    page.post(f"/events/{event['id']}/rsvp", data=with_csrf(page, answer="interested"))
    mine = page.get("/events/mine").text
    assert "Coming up" in mine and "Interested" in mine and "Make my feed address" in mine
    made = page.post("/events/mine/feed", data=with_csrf(page)).text
    url = re.search(r'id="feed-url" class="code" value="([^"]+)"', made).group(1)
    assert "BEGIN:VCALENDAR" in client.get(url).text
    again = page.get("/events/mine").text
    assert url not in again and "Make a new address" in again


def test_a_community_page_lists_its_events_and_the_panel_shows_the_next_and_past(
    browser, nurses, schedule, stella, factory
):
    _, held = schedule(title="Coming meetup"), schedule(title="Held workshop", kind="workshop")
    into_the_past(factory, held["id"])
    listed = browser().get("/communities/nurses/events").text
    assert "Coming meetup" in listed and "Held workshop" not in listed and "Schedule an event" not in listed
    assert "Held workshop" in browser().get("/communities/nurses/events?when=past").text
    panel = browser(stella).get("/communities/nurses/events/panel").text
    assert "Coming meetup" in panel and "Held workshop" in panel and "Schedule an event" in panel
    assert "<header" not in panel


def test_a_private_communitys_pages_are_404_for_outsiders(browser, steward, council, schedule, make_member):
    event = schedule("council", title="Board roundtable")
    outsider = browser(make_member("owen"))
    for path in (
        f"/events/{event['id']}",
        "/communities/council/events",
        "/communities/council/events/panel",
    ):
        response = outsider.get(path)
        assert response.status_code == 404 and "Board roundtable" not in response.text
    assert "Board roundtable" not in browser().get("/events").text


def test_forms_without_the_csrf_token_are_refused(browser, nurses, schedule, make_member, factory):
    event = schedule()
    page = browser(make_member("carl"))
    refused = page.post(f"/events/{event['id']}/rsvp", data={"answer": "going"})
    assert refused.status_code == 403
    assert count(factory, Rsvp) == 0
