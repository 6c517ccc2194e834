"""What a person does in the browser, step by step, as the browser tests need it again and again."""

from typing import Any

from playwright.sync_api import expect

PASSWORD = "correct horse battery"
PUBLIC = "Anyone (public)"
PRIVATE = "Members only (private)"


def sign_up(page: Any, handle: str) -> None:
    """Sign up through the form; the new member lands logged in."""
    page.goto("/signup")
    page.get_by_label("Handle", exact=True).fill(handle)
    page.get_by_label("Display name").fill(handle.title())
    page.get_by_label("Email").fill(f"{handle}@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def create_community(
    page: Any, name: str, slug: str, *, policy: str = "Open to all", visibility: str = PUBLIC
) -> None:
    """Fill in the new-community form and submit it; ends on the community's page."""
    page.goto("/communities/new")
    fill_community_form(page, name, slug, policy=policy, visibility=visibility)
    page.get_by_role("button", name="Create community").click()
    expect(page.get_by_role("heading", level=1, name=name)).to_be_visible()


def fill_community_form(page: Any, name: str, slug: str, *, policy: str, visibility: str) -> None:
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("Web address (slug)").fill(slug)
    page.get_by_label("Description").fill(f"{name}: people who meet to talk about AI in their work.")
    page.get_by_label("Format").select_option(label="Discussion")
    page.get_by_label("Region").select_option(label="Africa")
    page.get_by_label("Water", exact=True).check()
    page.get_by_label("6 · Clean water and sanitation").check()
    page.get_by_label("Who can see it").select_option(label=visibility)
    page.get_by_label("Who can join").select_option(label=policy)


def member_count(page: Any) -> Any:
    return page.locator("#member-count")
