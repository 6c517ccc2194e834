"""Forms, API tokens, keyboard use and phones, in a real browser."""

import re

import httpx
import pytest
from playwright.sync_api import expect

from tests.e2e.people import PUBLIC, create_community, fill_community_form, sign_up

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}
PHONE_PAGES = [
    "/",
    "/communities",
    "/communities/new",
    "/communities/long-name",
    "/communities/long-name/members",
    "/profile",
]
PHONE_SHOTS = {"/": "phone-home", "/communities": "phone-communities"}
FITS = "document.documentElement.scrollWidth <= document.documentElement.clientWidth"


def test_a_bad_slug_is_shown_next_to_its_field_and_nothing_is_created(new_page, server):
    page = new_page()
    sign_up(page, "alice")
    page.goto("/communities/new")
    fill_community_form(page, "Water Watch", "Bad Slug!", policy="Open to all", visibility=PUBLIC)
    with page.expect_response(lambda response: response.request.method == "POST") as posted:
        page.get_by_role("button", name="Create community").click()
    assert posted.value.status == 422
    slug = page.get_by_label("Web address (slug)")
    expect(slug).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#slug-error")).to_contain_text("lowercase letters, digits and hyphens")
    expect(slug).to_have_value("Bad Slug!")
    expect(page.get_by_label("Name", exact=True)).to_have_value("Water Watch")
    expect(page.get_by_label("Water", exact=True)).to_be_checked()
    assert httpx.get(f"{server}/api/v1/communities").json()["total"] == 0

    refused = page.request.post(f"{server}/communities/new", form={"name": "Sneaky", "slug": "sneaky"})
    assert refused.status == 403
    assert httpx.get(f"{server}/api/v1/communities").json()["total"] == 0


def test_an_api_token_is_shown_once_works_and_stops_working_when_revoked(new_page, server):
    page = new_page()
    sign_up(page, "alice")
    page.get_by_role("link", name="Alice").click()
    page.get_by_label("New token name").fill("laptop")
    page.get_by_role("button", name="Create token").click()
    expect(page.get_by_text("it is shown only this once")).to_be_visible()
    secret = page.get_by_label("Token secret").input_value()
    assert secret.startswith("aic_")

    me = httpx.get(f"{server}/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert me.status_code == 200
    assert me.json()["handle"] == "alice"

    page.goto("/profile")
    assert secret not in page.content()
    page.get_by_role("button", name="Revoke laptop").click()
    expect(page.get_by_text("Revoked", exact=True)).to_be_visible()
    again = httpx.get(f"{server}/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert again.status_code == 401


def test_sign_up_works_from_the_keyboard_alone(new_page):
    page = new_page()
    page.goto("/signup")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"
    for _ in range(15):
        if page.evaluate("document.activeElement.id") == "f-handle":
            break
        page.keyboard.press("Tab")
    expect(page.get_by_label("Handle", exact=True)).to_be_focused()
    for text in ("keyla", "Keyla", "keyla@example.org", "correct horse battery"):
        page.keyboard.type(text)
        page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Create account")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/$"))


def test_pages_fit_a_phone_screen(new_page, shots):
    page = new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    sign_up(page, "mobile")
    create_community(page, "A Community With A Rather Long Name Indeed", "long-name")
    for path in PHONE_PAGES:
        page.goto(path)
        assert page.evaluate(FITS), f"{path} scrolls sideways on a 390px wide screen"
        if shot := PHONE_SHOTS.get(path):
            page.screenshot(path=shots / f"{shot}.png", full_page=True)
