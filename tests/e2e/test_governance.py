"""Governance in a real browser: a member proposes a change of the reward policy, two members vote (one
changes their mind), the live tally follows without a reload, and the worker executes the change."""

import re
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import update

from aicommons.core.db import make_engine, make_session_factory, unit_of_work, utcnow
from aicommons.governance import parameters
from aicommons.governance.models import Proposal
from aicommons.ledger import tokens
from tests.e2e.people import sign_up

pytestmark = pytest.mark.browser
REWARD = "reward:communities:community:create"


def commons_rules(tmp_path: Path, **rules: int) -> None:
    """Set voting rules in the served commons' database (as an earlier vote would have)."""
    engine = make_engine(f"sqlite:///{tmp_path / 'commons.db'}")
    with unit_of_work(make_session_factory(engine)) as session:
        for name, value in rules.items():
            tokens.set_parameter(session, name, value)
    engine.dispose()


def end_the_voting(tmp_path: Path) -> None:
    """Let the voting period run out at once (the test cannot wait days)."""
    engine = make_engine(f"sqlite:///{tmp_path / 'commons.db'}")
    with unit_of_work(make_session_factory(engine)) as session:
        past = utcnow() - timedelta(seconds=1)
        session.execute(update(Proposal).values(voting_ends_at=past, next_step_at=past))
    engine.dispose()


def propose_the_reward_change(page) -> None:
    """Through the navigation and the form of a parameter change, to a draft, submitted for the vote."""
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Governance").click()
    expect(page.get_by_role("heading", level=1, name="Governance")).to_be_visible()
    page.get_by_role("link", name="New proposal").click()
    page.get_by_role("link", name="Parameter change").click()
    page.get_by_label("Title").fill("Reward founders with 25 tokens")
    page.get_by_label("Why").fill("Starting a community takes **work**.")
    page.get_by_label("Parameter").select_option(value=REWARD)
    page.get_by_label("New value").fill("25")
    page.get_by_role("button", name="Save draft").click()
    expect(page.locator("#state")).to_have_text("Draft")
    expect(page.locator("#summary")).to_contain_text("to 25 tokens")
    page.get_by_role("button", name="Submit for vote").click()


def reload_until(page, state: str) -> None:
    """Reload until the worker has moved the proposal to `state` (it comes by every half second)."""
    for _ in range(40):
        if page.locator("#state").inner_text() == state:
            break
        page.wait_for_timeout(250)
        page.reload()
    expect(page.locator("#state")).to_have_text(state)


def test_a_parameter_change_is_proposed_voted_and_executed(new_page, server, tmp_path, shots):
    commons_rules(
        tmp_path,
        **{parameters.VOTING_DELAY: 0, parameters.TIMELOCK: 0, parameters.PROPOSAL_THRESHOLD: 0},
    )
    alice, bob = new_page(), new_page()
    sign_up(alice, "alice")
    sign_up(bob, "bob")  # before the voting opens: accounts made later do not vote (decision 0044)
    propose_the_reward_change(alice)
    reload_until(alice, "Active")
    expect(alice.locator("#my-power")).to_have_text("1")
    alice.get_by_label("For", exact=True).check()
    alice.get_by_role("button", name="Vote").click()
    expect(alice.get_by_text("Your vote is counted")).to_be_visible()
    expect(alice.locator("#voters")).to_have_text("1")

    bob.goto(alice.url)
    bob.get_by_label("Against", exact=True).check()
    bob.get_by_role("button", name="Vote").click()
    expect(bob.locator("#my-votes")).to_contain_text("Against with power 1")
    bob.get_by_label("For", exact=True).check()
    bob.get_by_role("button", name="Change my vote").click()
    expect(bob.locator("#my-votes li")).to_have_count(2)
    expect(bob.locator("#my-votes li").first).to_contain_text("counts")
    expect(bob.locator("#my-votes li").last).to_contain_text("changed since")

    late = new_page()
    sign_up(late, "carol")  # after the voting opened: she sees why she has no vote, and no ballot
    late.goto(alice.url)
    expect(late.get_by_text("only those who were members of the commons")).to_be_visible()
    expect(late.get_by_label("Against", exact=True)).to_have_count(0)

    expect(alice.locator("#voters")).to_have_text("2", timeout=12_000)  # the tally polls itself
    expect(alice.get_by_role("img", name=re.compile("^Tally: for 2, against 0"))).to_be_visible()
    alice.screenshot(path=shots / "governance-proposal.png", full_page=True)

    end_the_voting(tmp_path)
    reload_until(alice, "Executed")  # closed, queued and executed by the worker
    expect(alice.locator("#outcome-note")).to_contain_text("went from 0 to 25")
    expect(alice.locator("#timeline")).to_contain_text("Queued")
    alice.goto("/governance/parameters")
    expect(alice.locator("#value-reward-communities-community-create")).to_have_text("25 tokens")
    alice.goto("/governance?state=executed")
    expect(alice.get_by_role("link", name="Reward founders with 25 tokens")).to_be_visible()
