"""Journeys in a real browser: a visitor's journey moves from discovered to joined on the community page,
and the steward reads the dashboard's charts and changes its period without a page load."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.people import create_community, sign_up

pytestmark = pytest.mark.browser


def test_a_visitors_journey_and_the_stewards_dashboard(new_page, shots):
    steward = new_page()
    sign_up(steward, "stella")
    create_community(steward, "River Keepers", "river-keepers")
    journey = steward.locator("#community-journey")
    expect(journey).to_contain_text("Your journey here: leading")

    anonymous = new_page()
    anonymous.goto("/communities/river-keepers")
    expect(anonymous.locator("#community-journey").get_by_role("link", name="Log in")).to_be_visible()

    bob = new_page()
    sign_up(bob, "bob")
    bob.goto("/communities/river-keepers")
    expect(bob.locator("#community-journey")).to_contain_text("Your journey here: discovered")
    expect(bob.locator("#community-journey")).to_contain_text("Join the community to take part.")
    bob.get_by_role("button", name="Join").click()
    expect(bob.locator("#community-journey")).to_contain_text("Your journey here: joined")
    bob.locator("#community-journey").get_by_role("link", name="All your journeys").click()
    expect(bob.get_by_role("heading", level=1, name="Your journeys")).to_be_visible()
    expect(bob.get_by_role("row", name=re.compile("River Keepers Joined"))).to_be_visible()

    steward.goto("/communities/river-keepers")
    steward.get_by_role("navigation", name="Community").get_by_role("link", name="Dashboard").click()
    expect(steward.get_by_role("heading", level=1, name="Journeys in River Keepers")).to_be_visible()
    funnel = steward.get_by_role("img", name=re.compile("^Funnel"))
    expect(funnel).to_be_visible()
    expect(funnel.locator("title").first).to_have_text("Discovered: 2 reached it, 0 at this stage now")
    expect(steward.get_by_role("row", name=re.compile(r"^Joined became a member 1 2$"))).to_be_visible()
    steward.screenshot(path=shots / "journeys-dashboard.png", full_page=True)

    steward.evaluate("window.stillThisPage = true")
    steward.get_by_label("Period").select_option(label="6 months")
    expect(steward).to_have_url(re.compile(r"months=6"))
    steward.get_by_text("The figures, month by month").click()
    expect(steward.locator("#conversion tbody tr")).to_have_count(6)
    assert steward.evaluate("window.stillThisPage") is True, "the period changes without a page load"
    expect(steward.get_by_role("img", name=re.compile("^Share of members at joined"))).to_be_visible()
