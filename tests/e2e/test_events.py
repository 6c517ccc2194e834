"""Events in a real browser: a steward schedules one, people answer with the HTMX buttons, a full event's
waitlist moves up when a place frees, and the page carries its calendar file and JSON-LD."""

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from aicommons.core.db import utcnow
from tests.e2e.people import create_community, sign_up

pytestmark = pytest.mark.browser


def schedule_event(page, title: str, *, places: int) -> None:
    """From the community's page, through its events panel, fill in the form; ends on the event's page."""
    page.get_by_role("link", name="Schedule an event").click()
    start = (utcnow() + timedelta(days=9)).strftime("%Y-%m-%d")
    page.get_by_label("Title").fill(title)
    page.get_by_label("Kind").select_option(label="Workshop")
    page.get_by_label("Where", exact=True).select_option(label="In person")
    page.get_by_label("Starts").fill(f"{start}T18:00")
    page.get_by_label("Ends").fill(f"{start}T20:30")
    page.get_by_label("Time zone").fill("Africa/Nairobi")
    page.get_by_label("Venue and address").fill("Community hall, Kisumu")
    page.get_by_label("Places").fill(str(places))
    page.get_by_label("Description (Markdown)").fill("Bring **water samples** from your village.")
    page.get_by_role("button", name="Schedule event").click()
    expect(page.get_by_role("heading", level=1, name=title)).to_be_visible()


def test_people_answer_an_event_and_the_waitlist_moves_up(new_page, shots):
    steward = new_page()
    sign_up(steward, "stella")
    create_community(steward, "Water Watch", "water-watch")
    schedule_event(steward, "Testing well water", places=1)
    expect(steward.get_by_text("18:00 to 20:30 EAT")).to_be_visible()
    expect(steward.locator("strong", has_text="water samples")).to_be_visible()
    assert steward.locator('script[type="application/ld+json"]').count() == 1
    event_url = steward.url

    bob = new_page()
    sign_up(bob, "bob")
    bob.get_by_role("navigation", name="Main").get_by_role("link", name="Events").click()
    bob.get_by_role("link", name="Testing well water").click()
    bob.evaluate("window.stillThisPage = true")
    bob.get_by_role("button", name="Going").click()
    expect(bob.locator("#your-answer")).to_contain_text("Going")
    expect(bob.locator("#places-left")).to_have_text("0")
    assert bob.evaluate("window.stillThisPage") is True, "answering should swap only the answer section"
    bob.screenshot(path=shots / "event.png", full_page=True)

    cara = new_page()
    sign_up(cara, "cara")
    cara.goto(event_url)
    cara.get_by_role("button", name="Join the waitlist").click()
    expect(cara.locator("#your-answer")).to_contain_text("number 1 in line")

    bob.get_by_role("button", name="Can't go").click()
    expect(bob.locator("#your-answer")).to_contain_text("Can't go")
    cara.reload()
    expect(cara.locator("#your-answer")).to_contain_text("Going")
    expect(cara.get_by_role("link", name="Add to your calendar (.ics)")).to_be_visible()

    cara.goto("/events/mine")
    expect(cara.get_by_role("link", name="Testing well water")).to_be_visible()
    cara.get_by_role("button", name="Make my feed address").click()
    expect(cara.get_by_label("Feed address")).to_have_value(re.compile(r"/events/feed/aicf_.+\.ics$"))
    steward.goto("/events")
    steward.screenshot(path=shots / "events.png", full_page=True)


def test_answering_works_without_javascript(new_page):
    steward = new_page()
    sign_up(steward, "stella")
    create_community(steward, "Water Watch", "water-watch")
    schedule_event(steward, "Sensor clinic", places=5)
    event_url = steward.url

    page = new_page(java_script_enabled=False)
    sign_up(page, "nojs")
    page.goto(event_url)
    page.get_by_role("button", name="Interested").click()
    expect(page.locator("#your-answer")).to_contain_text("Interested")
