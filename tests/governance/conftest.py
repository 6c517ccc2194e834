"""Governance fixtures: a small commons with tokens on its log, a community, and known voting rules; and
helpers that move a proposal along at explicit moments (no test sleeps)."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from aicommons.app import log_identity
from aicommons.communities import service as communities
from aicommons.communities.models import Community
from aicommons.communities.schemas import CommunityCreate
from aicommons.core.db import utcnow
from aicommons.core.security import hash_password
from aicommons.governance import parameters, service
from aicommons.governance.models import Proposal
from aicommons.governance.schemas import ProposalCreate
from aicommons.ledger import service as ledger
from aicommons.ledger import tokens
from aicommons.members import service as members
from aicommons.members.models import GlobalRole, Member
from aicommons.members.schemas import SignUp
from tests.conftest import PASSWORD
from tests.datasets.test_views import browser  # noqa: F401 (a browser of its own for each person)

_HASH = hash_password(PASSWORD)
DELAY, PERIOD, TIMELOCK, GRACE, EXTENSION = 60, 1440, 120, 600, 180  # minutes
RULES = {
    parameters.VOTING_DELAY: DELAY,
    parameters.VOTING_PERIOD: PERIOD,
    parameters.TIMELOCK: TIMELOCK,
    parameters.GRACE_PERIOD: GRACE,
    parameters.LATE_QUORUM_EXTENSION: EXTENSION,
    parameters.QUORUM_PERCENT: 50,
    parameters.PROPOSAL_THRESHOLD: 10,
}
# Who holds what: alice stewards water-watch, bob, carol and dave are its members; erin and root are not.
TOKENS = {"alice": 100, "bob": 400, "carol": 9, "dave": 0, "erin": 50, "root": 0}
TREASURY, COMMUNITY_ACCOUNT = 1000, 200


@dataclass
class World:
    people: dict[str, Member]
    community: Community

    def __getitem__(self, handle: str) -> Member:
        return self.people[handle]


def add_member(session: Session, handle: str, role: GlobalRole = GlobalRole.MEMBER) -> Member:
    form = SignUp(
        handle=handle, email=f"{handle}@example.org", password=PASSWORD, display_name=handle.title()
    )
    return members.sign_up(session=session, form=form, role=role, password_hash=_HASH)


def community_form(slug: str = "water-watch", **changes: Any) -> CommunityCreate:
    fields = {"name": "Water Watch", "slug": slug, "format": "project", "sectors": ["water"], "sdgs": [6]}
    return CommunityCreate(**fields | {"region": "africa"} | changes)


def build(session: Session, log: ledger.LogIdentity) -> World:
    """The small commons, its tokens minted and its log sequenced (so that snapshots hold the tokens)."""
    for name, value in RULES.items():
        tokens.set_parameter(session, name, value)
    people = {handle: add_member(session, handle) for handle in TOKENS if handle != "root"}
    people["root"] = add_member(session, "root", GlobalRole.ADMIN)
    community = communities.create(session=session, creator=people["alice"], form=community_form())
    for handle in ("bob", "carol", "dave"):
        communities.join(session=session, community=community, member=people[handle])
    for handle, amount in TOKENS.items():
        if amount:
            fund(session, tokens.member_account(people[handle].id), amount)
    fund(session, tokens.TREASURY, TREASURY)
    fund(session, tokens.community_account(community.id), COMMUNITY_ACCOUNT)
    ledger.integrate(session, log)
    return World(people, community)


def fund(session: Session, account: str, amount: int) -> None:
    tokens.mint(session, key=f"test/{account}/{amount}", target=account, amount=amount, reason="tests")


@pytest.fixture
def log(settings) -> ledger.LogIdentity:
    return log_identity(settings)


@pytest.fixture
def world(session: Session, log: ledger.LogIdentity) -> World:
    return build(session, log)


@pytest.fixture
def commons(factory: sessionmaker[Session], log: ledger.LogIdentity) -> World:
    """The small commons, committed, with no voting delay: votes through the API, the pages or the CLI
    come at the real time, as the voting opens."""
    with factory.begin() as session:
        built = build(session, log)
        tokens.set_parameter(session, parameters.VOTING_DELAY, 0)
    return built


@pytest.fixture
def start() -> datetime:
    """The moment proposals are submitted; every later moment is counted in minutes from it."""
    return utcnow().replace(microsecond=0)


def at(start: datetime, minutes: float) -> datetime:
    return start + timedelta(minutes=minutes)


def draft(
    session: Session, world: World, who: str = "alice", now: datetime | None = None, **form: Any
) -> Proposal:
    fields = {"title": "Fund the sensor repairs", "body": "Three sensors are down."} | form
    return service.create(session=session, proposer=world[who], form=ProposalCreate(**fields), now=now)


def opened(session: Session, world: World, start: datetime, who: str = "alice", **form: Any) -> Proposal:
    """A proposal submitted at `start`, its voting open from DELAY minutes later."""
    proposal = draft(session, world, who, now=start, **form)
    service.submit(session=session, actor=world[who], proposal=proposal, now=start)
    assert service.advance(session, proposal.id, at(start, DELAY)) == "active"
    return proposal


def close(session: Session, proposal: Proposal, start: datetime) -> str | None:
    """Take the step due when the voting period is over: the close."""
    return service.advance(session, proposal.id, at(start, DELAY + PERIOD))


def vote(
    session: Session, world: World, proposal: Proposal, who: str, choice: Any, minutes: float = DELAY + 1
) -> Any:
    return service.cast(
        session=session,
        voter=world[who],
        proposal=proposal,
        choice=choice,
        now=at(proposal_start(proposal), minutes),
    )


def proposal_start(proposal: Proposal) -> datetime:
    assert proposal.submitted_at is not None
    return proposal.submitted_at
