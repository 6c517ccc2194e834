"""Concerns in a real browser: a nurse raises one without an account (hostile Markdown in it runs nothing),
someone else has seen it too, a moderator triages and escalates it, the nurse follows every step on the
private tracking page, and flags from three established members hide it until the moderator restores it."""

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import update

from aicommons.core.db import make_engine, make_session_factory, utcnow
from aicommons.core.security import hash_password
from aicommons.members import service as members
from aicommons.members.models import GlobalRole, Member
from aicommons.members.schemas import SignUp
from tests.e2e.people import PASSWORD, sign_up

pytestmark = pytest.mark.browser

HOSTILE = (
    "At night **TriageBot** told a man with chest pain to wait four hours.\n\n"
    "<script>window.pwned = 1; alert('script')</script>\n\n"
    "<img src=x onerror=\"window.pwned = 2; alert('img')\"> [details](javascript:alert('link'))\n\n"
    "Call me on +33 6 12 34 56 78."
)


def make_moderator(tmp_path: Path, handle: str) -> None:
    """The commons' first moderator is made on the server, as `aicommons members create` does."""
    engine = make_engine(f"sqlite:///{tmp_path / 'commons.db'}")
    with make_session_factory(engine).begin() as session:
        form = SignUp(handle=handle, email=f"{handle}@example.org", password=PASSWORD, display_name="Mona")
        members.sign_up(
            session=session, form=form, role=GlobalRole.MODERATOR, password_hash=hash_password(PASSWORD)
        )
    engine.dispose()


def age_accounts(tmp_path: Path, handles: tuple[str, ...]) -> None:
    """Make the accounts a month old: only established members' flags hide a concern (decision 0046)."""
    engine = make_engine(f"sqlite:///{tmp_path / 'commons.db'}")
    with make_session_factory(engine).begin() as session:
        earlier = utcnow() - timedelta(days=30)
        session.execute(update(Member).where(Member.handle.in_(handles)).values(created_at=earlier))
    engine.dispose()


def log_in(page: Any, handle: str) -> None:
    page.goto("/login")
    page.get_by_label("Handle or email").fill(handle)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def watch_for_scripts(page: Any) -> list[str]:
    """Every dialog a script opens (none should), answered so that nothing blocks."""
    opened: list[str] = []

    def dismissed(dialog: Any) -> None:
        opened.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", dismissed)
    return opened


def raise_concern(page: Any) -> str:
    """Fill in the short form as a nurse without an account; returns the private tracking link."""
    page.goto("/concerns")
    page.get_by_role("link", name="Raise a concern").click()
    page.get_by_label("Which AI tool or system?").fill("TriageBot")
    page.get_by_label("Where did you see it?").fill("The emergency department of a hospital in Lyon")
    page.get_by_label("What happened?").fill(HOSTILE)
    page.get_by_label("Who could be affected?").fill("Patients who arrive at night")
    page.get_by_label("Yes, someone was harmed (an incident)").check()
    page.get_by_label("Very worried").check()
    page.get_by_label("Your role (optional)").fill("nurse")
    page.get_by_role("button", name="Send concern").click()
    expect(page.get_by_text("Thank you: your concern is #1.")).to_be_visible()
    return str(page.get_by_label("Your private tracking link").input_value())


def test_a_nurse_raises_a_concern_and_follows_it_as_a_moderator_moves_it_on(new_page, tmp_path, shots):
    make_moderator(tmp_path, "mona")
    nurse = new_page()
    dialogs = watch_for_scripts(nurse)
    nurse.goto("/concerns/new")
    nurse.get_by_role("button", name="Send concern").click()
    expect(nurse.locator("#concern-ai_tool-error")).to_have_text("Please fill this in.")
    link = raise_concern(nurse)
    assert re.search(r"/concerns/track/aict_[\w-]{43}$", link)
    expect(nurse.get_by_text("[phone removed]")).to_be_visible()
    expect(nurse.locator("#status")).to_have_text("Received")
    expect(nurse.get_by_text("<script>window.pwned = 1; alert('script')</script>")).to_be_visible()
    assert nurse.evaluate("window.pwned") is None and dialogs == []
    nurse.screenshot(path=shots / "concern-tracking.png", full_page=True)

    witness = new_page()
    sign_up(witness, "ben")
    witness.goto("/concerns/1")
    witness.get_by_label("Your sector").select_option(label="Health")
    witness.get_by_role("button", name="I have seen this too").click()
    expect(witness.get_by_text("1 person has seen this too.")).to_be_visible()

    moderator = new_page()
    log_in(moderator, "mona")
    moderator.goto("/concerns/1")
    moderator.get_by_label("New status").select_option(label="Triaged")
    moderator.get_by_label("Reason (the reporter reads it)").first.fill("A risk to patients: we are on it.")
    moderator.get_by_role("button", name="Change status").click()
    expect(moderator.locator("#status")).to_have_text("Triaged")
    moderator.get_by_label("Caused by").select_option(label="The AI system")
    moderator.get_by_label("Physical", exact=True).check()
    moderator.get_by_role("button", name="Save tags").click()
    expect(moderator.get_by_text("Entity: ai")).to_be_visible()
    moderator.get_by_label("Export to the AI Incident Database").check()
    moderator.get_by_role("form", name="Escalate").get_by_label("Reason (the reporter reads it)").fill(
        "Shared with the AI Incident Database."
    )
    moderator.get_by_role("button", name="Escalate").click()
    expect(moderator.locator("#status")).to_have_text("Escalated")
    moderator.screenshot(path=shots / "concern-moderator.png", full_page=True)

    nurse.goto(link)
    history = nurse.locator("#history")
    expect(history.get_by_text("A risk to patients: we are on it.")).to_be_visible()
    expect(history.get_by_text("Shared with the AI Incident Database.")).to_be_visible()
    expect(nurse.get_by_role("link", name="the submission")).to_be_visible()
    assert nurse.evaluate("window.pwned") is None and dialogs == []


def test_three_flags_hide_a_concern_until_a_moderator_restores_it(new_page, tmp_path, shots):
    make_moderator(tmp_path, "mona")
    raise_concern(new_page())
    flaggers = {handle: new_page() for handle in ("fay", "gus", "hal")}
    for handle, flagger in flaggers.items():
        sign_up(flagger, handle)
    age_accounts(tmp_path, tuple(flaggers))
    for flagger in flaggers.values():
        flagger.goto("/concerns/1")
        flagger.get_by_label("Flag it for the moderators").select_option(
            label="It shows someone's personal data"
        )
        flagger.get_by_role("button", name="Flag").click()
    expect(flagger.get_by_text("Moderators will look at the concern you flagged")).to_be_visible()
    expect(flagger.get_by_text("0 concerns")).to_be_visible()

    moderator = new_page()
    log_in(moderator, "mona")
    moderator.goto("/concerns/moderation")
    expect(moderator.get_by_text("personal data: 3")).to_be_visible()
    moderator.screenshot(path=shots / "concern-moderation.png", full_page=True)
    moderator.get_by_role("button", name="Restore #1").click()
    expect(moderator.get_by_role("heading", name="Concern #1: TriageBot")).to_be_visible()
    visitor = new_page()
    visitor.goto("/concerns")
    expect(visitor.get_by_role("link", name="#1 · TriageBot")).to_be_visible()
