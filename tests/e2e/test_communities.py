"""Communities in a real browser: create, find, join and leave; approval; private communities."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.people import PRIVATE, create_community, member_count, sign_up

pytestmark = pytest.mark.browser


def test_alice_creates_a_community_and_bob_finds_joins_and_leaves_it(new_page, shots):
    alice = new_page()
    sign_up(alice, "alice")
    expect(alice).to_have_url(re.compile(r"/$"))
    expect(alice.get_by_role("link", name="Alice")).to_be_visible()
    create_community(alice, "Water Watch", "water-watch")
    create_community(alice, "Solar Circle", "solar-circle")
    alice.goto("/communities/water-watch")
    expect(alice.get_by_text("You are a steward of this community")).to_be_visible()
    expect(member_count(alice)).to_have_text("1")
    alice.screenshot(path=shots / "community.png", full_page=True)

    bob = new_page()
    sign_up(bob, "bob")
    bob.screenshot(path=shots / "home.png", full_page=True)
    bob.get_by_role("navigation", name="Main").get_by_role("link", name="Communities").click()
    results = bob.locator("#results")
    expect(results.get_by_role("link", name="Solar Circle")).to_be_visible()
    bob.screenshot(path=shots / "communities.png", full_page=True)
    bob.evaluate("window.stillThisPage = true")
    bob.get_by_label("Search").press_sequentially("water", delay=40)
    expect(results.get_by_role("link", name="Solar Circle")).to_have_count(0)
    expect(results.get_by_text("1 community found")).to_be_visible()
    expect(bob).to_have_url(re.compile(r"q=water"))
    assert bob.evaluate("window.stillThisPage") is True, "the results should change without a page load"
    expect(bob.locator("header.site")).to_have_count(1)

    results.get_by_role("link", name="Water Watch").click()
    expect(bob.get_by_role("heading", level=1, name="Water Watch")).to_be_visible()
    bob.get_by_role("button", name="Join").click()
    expect(member_count(bob)).to_have_text("2")
    expect(bob.get_by_text("You are a member of this community")).to_be_visible()
    bob.get_by_role("button", name="Leave").click()
    expect(member_count(bob)).to_have_text("1")
    expect(bob.get_by_role("button", name="Join")).to_be_visible()


def test_a_steward_approves_a_request_to_join(new_page):
    steward = new_page()
    sign_up(steward, "stella")
    create_community(steward, "Clinic Data Circle", "clinic-data", policy="Join on approval")

    member = new_page()
    sign_up(member, "omar")
    member.goto("/communities/clinic-data")
    member.get_by_role("button", name="Ask to join").click()
    expect(member.get_by_text("You asked to join")).to_be_visible()
    expect(member_count(member)).to_have_text("1")

    steward.goto("/communities/clinic-data")
    steward.get_by_role("link", name="Members").click()
    expect(steward.get_by_role("heading", name="Asking to join (1)")).to_be_visible()
    steward.get_by_role("button", name="Approve omar").click()
    expect(steward.get_by_role("heading", name="Members (2)")).to_be_visible()
    expect(steward.get_by_text("Nobody is waiting")).to_be_visible()

    member.reload()
    expect(member.get_by_text("You are a member of this community")).to_be_visible()
    expect(member_count(member)).to_have_text("2")

    steward.goto("/communities/clinic-data")
    steward.get_by_role("button", name="Refresh statistics").click()
    stats = steward.locator("#stats")
    expect(stats.get_by_text("Last refreshed")).to_be_visible(timeout=20_000)
    expect(stats.get_by_role("figure").filter(has_text="By role")).to_contain_text("steward")


def test_a_private_community_is_invisible_to_outsiders_and_visible_to_its_members(new_page):
    owner = new_page()
    sign_up(owner, "priya")
    create_community(owner, "Quiet Room", "quiet-room", visibility=PRIVATE, policy="By invitation")
    expect(owner.get_by_text("Private", exact=True)).to_be_visible()

    visitor = new_page()
    response = visitor.goto("/communities/quiet-room")
    assert response.status == 404
    expect(visitor.get_by_role("heading", name="No such community")).to_be_visible()
    visitor.goto("/communities")
    expect(visitor.get_by_role("link", name="Quiet Room")).to_have_count(0)

    outsider = new_page()
    sign_up(outsider, "oscar")
    assert outsider.goto("/communities/quiet-room").status == 404

    owner.goto("/communities/quiet-room/members")
    owner.get_by_label("Invite a member by handle").fill("oscar")
    owner.get_by_role("button", name="Invite", exact=True).click()
    expect(owner.get_by_role("heading", name="Invitations (1)")).to_be_visible()

    assert outsider.goto("/communities/quiet-room").status == 200
    expect(outsider.get_by_text("You are invited to join")).to_be_visible()
    outsider.get_by_role("button", name="Accept invitation").click()
    expect(outsider.get_by_text("You are a member of this community")).to_be_visible()
    expect(member_count(outsider)).to_have_text("2")
    outsider.goto("/members/oscar")
    expect(outsider.get_by_role("link", name="Quiet Room")).to_be_visible()


def test_browsing_and_joining_work_without_javascript(new_page):
    alice = new_page()
    sign_up(alice, "alice")
    create_community(alice, "Water Watch", "water-watch")
    create_community(alice, "Solar Circle", "solar-circle")

    page = new_page(java_script_enabled=False)
    sign_up(page, "nojs")
    page.goto("/communities")
    page.get_by_label("Search").fill("solar")
    page.get_by_label("Search").press("Enter")
    expect(page).to_have_url(re.compile(r"q=solar"))
    expect(page.get_by_text("1 community found")).to_be_visible()
    page.get_by_role("link", name="Solar Circle").click()
    page.get_by_role("button", name="Join").click()
    expect(member_count(page)).to_have_text("2")
