"""The demo commons' governance: proposals in every state, commons-wide and in communities, an executed
treasury transfer and an executed parameter change that changed the reward policy.

Seeding the demo takes seconds, so each test checks several things of one seed."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from aicommons.app import log_identity
from aicommons.communities import service as communities
from aicommons.communities.models import Community, Role
from aicommons.core.blobs import BlobStore
from aicommons.core.db import unit_of_work, utcnow
from aicommons.demo import seed
from aicommons.governance.jobs import move_due
from aicommons.governance.models import Proposal, State
from aicommons.ledger import service as ledger
from aicommons.ledger import tokens
from aicommons.members.models import Member


@pytest.fixture
def demo_commons(factory, settings) -> None:
    with unit_of_work(factory) as session:
        seed(session, store=BlobStore(settings.blob_dir), log=log_identity(settings))  # governance's too


def test_the_demo_has_proposals_in_every_state_commons_wide_and_in_communities(client, factory, demo_commons):
    with factory() as session:
        proposals = session.scalars(select(Proposal).order_by(Proposal.id)).all()
        assert {proposal.state for proposal in proposals} == set(State)
        assert {proposal.community_slug for proposal in proposals} >= {
            None,
            "nurses-on-ai",
            "ai-policy-forum",
        }
        assert {proposal.method for proposal in proposals} >= {
            "one_member",
            "token",
            "quadratic",
            "ranked",
            "approval",
        }
        nurses = communities.get(session=session, slug="nurses-on-ai", viewer=None)
        assert communities.membership_of(session, nurses, _member(session, "ines")).role == Role.STEWARD
    listed = client.get("/api/v1/governance/proposals?size=100").json()
    assert listed["total"] == sum(1 for proposal in proposals if proposal.community_id is None)
    ranked = next(p for p in listed["items"] if p["method"] == "ranked")
    live = client.get(f"/api/v1/governance/proposals/{ranked['id']}/tally").json()
    assert (live["voters"], len(live["rounds"]) > 1, live["final"]) == (7, True, False)


def test_the_executed_proposals_moved_tokens_and_changed_the_reward_policy(client, factory, demo_commons):
    reward = tokens.REWARD_PREFIX + "communities:community:create"
    with factory() as session:
        lab = session.scalar(select(Community).where(Community.slug == "water-sensing-lab"))
        assert tokens.balance(session, tokens.community_account(lab.id)) == 150
        assert tokens.parameter(session, reward) == 60
        changed = session.scalar(
            select(Proposal).where(Proposal.title.like("Raise the reward for starting%"))
        )
        assert changed.outcome == {"parameter": reward, "from": 50, "to": 60}
        expired = session.scalar(select(Proposal).where(Proposal.state == State.EXPIRED))
        assert "fewer than 5000 tokens" in expired.last_error
    assert (
        'id="value-reward-communities-community-create">60 tokens<'
        in client.get("/governance/parameters").text
    )
    page = client.get(f"/governance/{changed.id}").text
    assert "went from 50 to 60" in page and "Executed" in page


def test_the_worker_carries_the_demo_on(factory, settings, demo_commons):
    """Once serving, the worker sequences the demo's log, queues the vote that just succeeded, and opens
    the token-weighted vote with the demo's tokens in its snapshot."""
    with unit_of_work(factory) as session:
        ledger.integrate(session, log_identity(settings))
    move_due(factory, utcnow() + timedelta(minutes=5))
    with factory() as session:
        states = {proposal.title: proposal for proposal in session.scalars(select(Proposal))}
        assert states["Raise the data dividend of new problems to 15%"].state == State.QUEUED
        token_vote = states["Raise the reward of a federated training round to 15 tokens"]
        assert token_vote.state == State.ACTIVE and token_vote.snapshot > 0
        assert token_vote.electorate >= 24 * 100  # every demo member was welcomed with 100 tokens


def _member(session, handle: str) -> Member:
    return session.scalar(select(Member).where(Member.handle == handle))
