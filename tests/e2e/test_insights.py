"""Insights in a real browser: a member shares a lesson (with hostile Markdown that must not run), another
finds it by searching, endorses it in place, replies, and records that their community reused it; the first
community's page then shows how far its insight travelled."""

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.people import create_community, sign_up
from tests.insights.conftest import HOSTILE

pytestmark = pytest.mark.browser
TITLE = "Rain tanks: clean the first flush"


def watch_dialogs(page: Any) -> list[str]:
    """Every alert, confirm or prompt the page opens (a script that ran), dismissed and kept."""
    opened: list[str] = []

    def dismiss(dialog: Any) -> None:
        opened.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", dismiss)
    return opened


def share_insight(page: Any) -> None:
    page.goto("/communities/water-watch")
    page.locator("#community-insights").get_by_role("link", name="Share an insight").click()
    expect(page.get_by_label("Community")).to_have_value("water-watch")
    page.get_by_label("Kind").select_option(label="Lesson learned")
    page.get_by_label("Title").fill(TITLE)
    page.get_by_label("Text").fill(f"Divert the first 20 litres of every rain.\n\n{HOSTILE}")
    page.get_by_label("6 · Clean water and sanitation").check()
    page.get_by_label("Tags").fill("rain-tanks, Water Quality")
    page.get_by_label("Evidence links").fill("https://example.org/first-flush")
    page.get_by_role("button", name="Share insight").click()
    expect(page.get_by_role("heading", level=1, name=TITLE)).to_be_visible()


def assert_nothing_ran(page: Any, dialogs: list[str]) -> None:
    body = page.locator("article.insight .body").first
    expect(body.locator("strong")).to_have_text("Bold")
    expect(body.get_by_text("<script>alert('script')</script>")).to_be_visible()  # shown, as text
    for dangerous in ("script", "svg", "[onerror]", "[onload]", "a[href^='javascript']", "[src^='data:']"):
        expect(page.locator(f"main {dangerous}")).to_have_count(0)
    assert dialogs == [], f"a script ran: {dialogs}"


def test_an_insight_travels_from_one_community_to_another(new_page, shots):
    alice = new_page()
    dialogs = watch_dialogs(alice)
    sign_up(alice, "alice")
    create_community(alice, "Water Watch", "water-watch")
    share_insight(alice)
    assert_nothing_ran(alice, dialogs)
    alice.screenshot(path=shots / "insight.png", full_page=True)

    bob = new_page()
    bob_dialogs = watch_dialogs(bob)
    sign_up(bob, "bob")
    create_community(bob, "Clinic Circle", "clinic-circle")
    bob.get_by_role("navigation", name="Main").get_by_role("link", name="Insights").click()
    bob.evaluate("window.stillThisPage = true")
    bob.get_by_label("Search").press_sequentially("first flush", delay=40)
    results = bob.locator("#results")
    expect(results.get_by_text("1 insight found, best match first")).to_be_visible()
    expect(bob).to_have_url(re.compile(r"q=first"))
    assert bob.evaluate("window.stillThisPage") is True, "the results should change without a page load"
    bob.screenshot(path=shots / "insights.png", full_page=True)
    results.get_by_role("link", name=TITLE).click()
    assert_nothing_ran(bob, bob_dialogs)

    bob.evaluate("window.stillThisPage = true")
    bob.get_by_role("button", name="Endorse").click()
    expect(bob.locator("#endorsement-count")).to_have_text("1")
    expect(bob.get_by_role("button", name="Endorsed — withdraw")).to_be_visible()
    assert bob.evaluate("window.stillThisPage") is True, "endorsing should not reload the page"

    bob.get_by_label("Your reply").fill("We do this at the clinic's tank too.")
    bob.get_by_role("button", name="Reply", exact=True).click()
    expect(bob.get_by_role("heading", name="1 reply")).to_be_visible()

    bob.get_by_label("Record reuse by").select_option(label="Clinic Circle")
    bob.get_by_label("How you used it").fill("Our hand-washing station's tank.")
    bob.get_by_role("button", name="Record reuse").click()
    expect(bob.get_by_role("heading", name="Reused by 1 community")).to_be_visible()
    expect(bob.locator("#reuse").get_by_role("link", name="Clinic Circle")).to_be_visible()

    alice.goto("/communities/water-watch")
    panel = alice.locator("#community-insights")
    expect(panel.locator("#reused-by")).to_have_text("1")
    expect(panel.get_by_role("link", name=TITLE)).to_be_visible()
    alice.screenshot(path=shots / "community-insights.png", full_page=True)
    bob.goto("/communities/clinic-circle")
    expect(bob.locator("#community-insights #reused-from-others")).to_have_text("1")
    assert dialogs == bob_dialogs == []
