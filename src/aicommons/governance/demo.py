"""The demo's governance: proposals in every state, commons-wide and in communities, played through the
services at moments in the past (the members' votes included), so that the worker carries on from there.

Two executed proposals changed the commons visibly: a treasury transfer funded the water-sensing lab, and a
parameter change raised the reward for creating a community from 50 to 60 tokens (shown on
/governance/parameters and in the execution's log entry)."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from aicommons.core.db import utcnow
from aicommons.core.errors import CommonsError
from aicommons.governance import service
from aicommons.governance.models import Proposal, State
from aicommons.governance.schemas import ProposalCreate
from aicommons.ledger import service as ledger
from aicommons.ledger import tokens
from aicommons.members.models import Member

ENDOWMENT = 2_000  # the treasury's tokens before the members spend any
YES = ("for",) * 7 + ("against",) * 2 + ("abstain",)  # a comfortable majority, over the quorum
VOTERS = ("kofi", "lucia", "raj", "mei", "tom", "sara", "olu", "ines", "yuki", "pita")


@dataclass(frozen=True)
class DemoProposal:
    """A proposal, who votes what, how long ago it was submitted, and the state the demo leaves it in."""

    proposer: str
    form: dict[str, Any]
    ago: timedelta
    until: State
    votes: tuple[tuple[str, Any], ...] = field(default_factory=tuple)


def _commons_yes() -> tuple[tuple[str, Any], ...]:
    return tuple(zip(VOTERS, YES, strict=True))


PROPOSALS = (
    DemoProposal(
        "raj",
        {
            "title": "Fund field kits for the Community Water Sensing Lab",
            "body": "Twelve villages asked for sensor kits. **150 tokens** buy the parts for the first six; "
            "the lab publishes every reading to the data commons.",
            "action": {
                "kind": "treasury_transfer",
                "recipient": "community",
                "to": "water-sensing-lab",
                "amount": 150,
            },
        },
        timedelta(days=20),
        State.EXECUTED,
        _commons_yes(),
    ),
    DemoProposal(
        "mei",
        {
            "title": "Raise the reward for starting a community to 60 tokens",
            "body": "New communities bring new members. Starting one takes work: reward it a little more.",
            "action": {
                "kind": "parameter_change",
                "name": "reward:communities:community:create",
                "value": 60,
            },
        },
        timedelta(days=18),
        State.EXECUTED,
        _commons_yes(),
    ),
    DemoProposal(
        "amina",
        {
            "community": "nurses-on-ai",
            "title": "Make Inês a steward of the circle",
            "body": "Inês has run our data clinic all year: as a steward she admits members.",
            "action": {"kind": "membership", "handle": "ines", "role": "steward"},
        },
        timedelta(days=12),
        State.EXECUTED,
        (("amina", "for"), ("grace", "for"), ("ana", "for"), ("elena", "abstain")),
    ),
    DemoProposal(
        "sara",
        {
            "title": "Grant 5,000 tokens to the Humanitarian AI Summit",
            "body": "Travel grants for field staff from twenty countries.",
            "action": {
                "kind": "treasury_transfer",
                "recipient": "community",
                "to": "humanitarian-ai-summit",
                "amount": 5000,
            },
        },
        timedelta(days=25),
        State.EXPIRED,
        _commons_yes(),
    ),
    DemoProposal(
        "ahmed",
        {
            "title": "Cut the daily submission limit of new problems to 2",
            "body": "Fewer submissions a day, less leaderboard probing.",
            "action": {"kind": "parameter_change", "name": "problems:daily-limit", "value": 2},
        },
        timedelta(days=10),
        State.DEFEATED,
        tuple(zip(VOTERS, ("against",) * 6 + ("for",) * 3 + ("abstain",), strict=True)),
    ),
    DemoProposal(
        "hugo",
        {
            "title": "Pay for a stand at the press freedom fair",
            "body": "Withdrawn: the fair was cancelled.",
            "action": {"kind": "treasury_transfer", "recipient": "member", "to": "hugo", "amount": 80},
        },
        timedelta(days=8),
        State.CANCELED,
        (("hugo", "for"), ("nadia", "for")),
    ),
    DemoProposal(
        "ines",
        {
            "title": "Add 100 tokens to the diabetes progression bounty",
            "body": "The problem matters for every clinic of the circle; a larger bounty draws more solvers.",
            "action": {
                "kind": "treasury_transfer",
                "recipient": "problem",
                "to": "diabetes-progression-forecast",
                "amount": 100,
            },
        },
        timedelta(days=4, hours=5),
        State.QUEUED,
        _commons_yes(),
    ),
    DemoProposal(
        "olu",
        {
            "title": "Raise the data dividend of new problems to 15%",
            "body": "Data owners carry the commons; let them share more of each bounty.",
            "action": {"kind": "parameter_change", "name": "problems:dividend-percent", "value": 15},
        },
        timedelta(days=4, minutes=1),
        State.SUCCEEDED,
        _commons_yes(),
    ),
    DemoProposal(
        "nadia",
        {
            "community": "ai-policy-forum",
            "title": "Adopt the public-procurement checklist, version 2",
            "body": "The checklist adds a redress section and a question on training data provenance.",
        },
        timedelta(days=1, hours=12),
        State.ACTIVE,
        (("nadia", "for"), ("olu", "for"), ("hugo", "against"), ("elena", "for")),
    ),
    DemoProposal(
        "amina",
        {
            "title": "Which goal should the commons put first in 2027?",
            "body": "Rank the goals: the first round of grants follows the winner.",
            "method": "ranked",
            "options": ["3 · Good health", "6 · Clean water", "13 · Climate action", "4 · Quality education"],
        },
        timedelta(days=1, hours=10),
        State.ACTIVE,
        (
            ("amina", [0, 1]),
            ("grace", [0, 3]),
            ("raj", [1, 0]),
            ("pita", [2, 1]),
            ("mei", [2, 1]),
            ("lucia", [3, 0]),
            ("ana", [1, 0]),
        ),
    ),
    DemoProposal(
        "kofi",
        {
            "community": "smallholder-ml-meetups",
            "title": "Which meetups should we run next season?",
            "method": "approval",
            "options": ["Crop disease from phone photos", "Weather apps in the field", "Selling data fairly"],
        },
        timedelta(days=1, hours=8),
        State.ACTIVE,
        (("kofi", [0, 1]), ("diego", [0]), ("grace", [0, 2]), ("sam", [1])),
    ),
    DemoProposal(
        "jonas",
        {
            "title": "Raise the reward of a federated training round to 15 tokens",
            "body": "Token-weighted: the tokens each member held when the voting opens count.",
            "method": "token",
            "action": {"kind": "parameter_change", "name": "reward:federation:round", "value": 15},
        },
        timedelta(days=1) - timedelta(minutes=3),  # the voting opens minutes after the demo starts
        State.PENDING,
    ),
    DemoProposal(
        "liam",
        {
            "title": "Admit the iris flowers dataset to the commons with a 50-token subsidy",
            "body": "Quadratic: many small holders weigh more than a few large ones.",
            "method": "quadratic",
            "action": {"kind": "dataset_admission", "dataset": "iris-flowers", "subsidy": 50},
        },
        timedelta(hours=2),
        State.PENDING,
    ),
    DemoProposal(
        "raj",
        {
            "community": "water-sensing-lab",
            "title": "Make Ana a steward of the lab",
            "body": "Draft: Ana has agreed; we submit it after the next meeting.",
            "action": {"kind": "membership", "handle": "ana", "role": "steward"},
        },
        timedelta(hours=1),
        State.DRAFT,
    ),
)


def seed(session: Session, people: dict[str, Member], log: ledger.LogIdentity) -> None:
    """Endow the treasury and sequence the log, as the worker would have long before these votes (who votes
    is the members in the log's signed snapshot when the voting opens), then play every demo proposal to
    its state."""
    tokens.mint(
        session, key="demo/treasury-endowment", target=tokens.TREASURY, amount=ENDOWMENT, reason="demo"
    )
    ledger.integrate(session, log)
    now = utcnow()
    for spec in PROPOSALS:
        _play(session, people, spec, now)


def _play(session: Session, people: dict[str, Member], spec: DemoProposal, now: datetime) -> Proposal:
    submitted = now - spec.ago
    proposer = people[spec.proposer]
    proposal = service.create(
        session=session, proposer=proposer, form=ProposalCreate(**spec.form), now=submitted
    )
    if spec.until == State.DRAFT:
        return proposal
    service.submit(session=session, actor=proposer, proposal=proposal, now=submitted)
    if spec.until == State.PENDING:
        return proposal
    assert proposal.voting_starts_at is not None and proposal.voting_ends_at is not None
    service.advance(session, proposal.id, proposal.voting_starts_at)
    for minutes, (handle, choice) in enumerate(spec.votes, 1):
        moment = proposal.voting_starts_at + timedelta(minutes=7 * minutes)
        service.cast(session=session, voter=people[handle], proposal=proposal, choice=choice, now=moment)
    if spec.until == State.CANCELED:
        service.cancel(
            session=session,
            actor=proposer,
            proposal=proposal,
            now=proposal.voting_starts_at + timedelta(hours=12),
        )
    elif spec.until != State.ACTIVE:
        _after_the_vote(session, proposal, spec.until)
    return proposal


def _after_the_vote(session: Session, proposal: Proposal, until: State) -> None:
    """Close the voting when it ended; queue, execute or let expire as the spec says."""
    assert proposal.voting_ends_at is not None
    service.advance(session, proposal.id, proposal.voting_ends_at)
    if until in (State.SUCCEEDED, State.DEFEATED):
        return
    service.advance(session, proposal.id, proposal.voting_ends_at)
    assert proposal.eta is not None
    if until == State.EXECUTED:
        service.advance(session, proposal.id, proposal.eta)
    elif until == State.EXPIRED:
        _fail_then_expire(session, proposal)


def _fail_then_expire(session: Session, proposal: Proposal) -> None:
    """The execution the treasury cannot pay is refused, retried, and expires with its grace period."""
    assert proposal.eta is not None
    try:
        with session.begin_nested():
            service.advance(session, proposal.id, proposal.eta)
    except CommonsError as refused:
        session.refresh(proposal)
        service.note_failure(session, proposal.id, refused.detail, proposal.eta)
    service.advance(session, proposal.id, proposal.eta + timedelta(minutes=proposal.rules["grace_period"]))
