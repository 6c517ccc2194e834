"""The worker's chore moves proposals along in transactions of their own: one whose execution the services
refuse is retried, then expires, and neither stops the others."""

from datetime import datetime, timedelta

import pytest

from aicommons.app import make_worker
from aicommons.core.db import unit_of_work
from aicommons.governance import service
from aicommons.governance.jobs import move_due
from aicommons.governance.models import Proposal, State
from aicommons.ledger import tokens
from tests.governance.conftest import DELAY, GRACE, PERIOD, TIMELOCK, TREASURY, World, at, build, draft


@pytest.fixture
def scheduled(factory, log) -> World:
    """The small commons, committed, with its voting delay."""
    with factory.begin() as session:
        return build(session, log)


def voted_through(factory, world: World, start: datetime, amount: int) -> int:
    """A commons-wide transfer to bob, voted for by four of six members; returns its number."""
    with unit_of_work(factory) as session:
        action = {"kind": "treasury_transfer", "recipient": "member", "to": "bob", "amount": amount}
        proposal = draft(session, world, now=start, title=f"Send bob {amount}", action=action)
        service.submit(session=session, actor=session.merge(world["alice"]), proposal=proposal, now=start)
        proposal_id = proposal.id
    move_due(factory, at(start, DELAY))
    with unit_of_work(factory) as session:
        proposal = session.get(Proposal, proposal_id)
        for who in ("alice", "bob", "carol", "erin"):
            voter = session.merge(world[who])
            service.cast(
                session=session, voter=voter, proposal=proposal, choice="for", now=at(start, DELAY + 1)
            )
    return proposal_id


def state_of(factory, proposal_id: int) -> Proposal:
    with factory() as session:
        return session.get(Proposal, proposal_id)


def test_the_chore_executes_one_proposal_and_retries_the_other_until_it_expires(factory, scheduled):
    start = datetime.now().astimezone().replace(microsecond=0)
    affordable = voted_through(factory, scheduled, start, 100)
    too_dear = voted_through(factory, scheduled, start, 5000)
    move_due(factory, at(start, DELAY + PERIOD))  # both close and are queued
    assert {state_of(factory, n).state for n in (affordable, too_dear)} == {State.QUEUED}
    move_due(factory, at(start, DELAY + PERIOD + TIMELOCK))
    assert state_of(factory, affordable).state == State.EXECUTED
    failed = state_of(factory, too_dear)
    assert (failed.state, failed.last_error) == (
        State.QUEUED,
        "the paying account holds fewer than 5000 tokens",
    )
    assert failed.next_step_at == at(start, DELAY + PERIOD + TIMELOCK + 1)
    move_due(factory, at(start, DELAY + PERIOD + TIMELOCK + GRACE))
    assert state_of(factory, too_dear).state == State.EXPIRED
    with factory() as session:
        assert tokens.balance(session, tokens.TREASURY) == TREASURY - 100


def test_the_app_worker_runs_the_governance_chore(settings, factory, scheduled, log):
    with unit_of_work(factory) as session:
        proposal = draft(session, scheduled, title="Now or never")
        service.submit(session=session, actor=session.merge(scheduled["alice"]), proposal=proposal)
        proposal.next_step_at = proposal.voting_starts_at = datetime.now().astimezone() - timedelta(seconds=1)
        proposal_id = proposal.id
    make_worker(settings, factory, log).run_once()
    assert state_of(factory, proposal_id).state == State.ACTIVE
