"""The rules of governance: a proposal is drafted, submitted, voted on, closed, queued and executed.

Lifecycle (after OpenZeppelin Governor and Compound's Governor Bravo): draft → pending (the voting
delay) → active → defeated or succeeded → queued (the timelock) → executed; or canceled, or expired.
Time moves a proposal along: `advance` takes the one step due at `now`, and the worker's chore calls it
(governance/jobs.py). Every step, vote and execution is an entry of the log.
"""

import json
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy
from sqlalchemy import ColumnElement, Text, case, func, insert, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from aicommons.communities import service as communities
from aicommons.core.db import utcnow
from aicommons.core.errors import CommonsError, ErrorCode
from aicommons.core.pagination import Page, PageRequest, paginate
from aicommons.core.ratelimit import Limit, hit
from aicommons.governance import actions, electorate, parameters, permissions, tally
from aicommons.governance.models import FINAL, Elector, Proposal, ProposalStep, State, Vote
from aicommons.governance.schemas import ProposalCreate, ProposalFilter
from aicommons.ledger import service as ledger
from aicommons.ledger import tokens
from aicommons.ledger.entries import parse
from aicommons.ledger.models import Account, LogEntry, Transfer
from aicommons.members.models import Member
from aicommons.members.notifications import notify

PROPOSALS_AN_HOUR = Limit(10, timedelta(hours=1))
RETRY = timedelta(minutes=1)  # a failed execution is tried again this much later, until it expires


def create(
    *, session: Session, proposer: Member, form: ProposalCreate, now: datetime | None = None
) -> Proposal:
    """A draft, which its proposer then submits."""
    community = (
        communities.get(session=session, slug=form.community, viewer=proposer) if form.community else None
    )
    permissions.require_kind(form.kind, community)
    permissions.require_proposer_of(session, proposer, community)
    hit(session, f"governance:propose:{proposer.id}", PROPOSALS_AN_HOUR, now=now)
    action = actions.prepare(session, form.action, community, proposer)
    proposal = Proposal(
        **form.model_dump(include={"title", "body", "method", "options"}),
        community_id=community.id if community else None,
        proposer_id=proposer.id,
        kind=form.kind,
        action=action,
        state=State.DRAFT,
        created_at=now or utcnow(),
    )
    session.add(proposal)
    session.flush()
    _step(session, proposal, State.DRAFT, proposal.created_at, actor=proposer)
    facts = {"kind": str(proposal.kind), "method": str(proposal.method), "options": len(proposal.options)}
    _record(session, "create", proposer, proposal, facts)
    return proposal


def get(*, session: Session, proposal_id: int, viewer: Member | None) -> Proposal:
    """The proposal, as long as the viewer may see its community."""
    found = session.get(Proposal, proposal_id)
    if found is None or not permissions.may_see(session, viewer, found):
        raise CommonsError(ErrorCode.PROPOSAL_NOT_FOUND, f"no proposal {proposal_id}")
    return found


def search(
    *, session: Session, viewer: Member | None, filters: ProposalFilter, page: PageRequest
) -> Page[Proposal]:
    """Commons-wide proposals, or those of one community, newest first."""
    conditions: list[ColumnElement[bool]] = [Proposal.community_id.is_(None)]
    if filters.community:
        community = communities.get(session=session, slug=filters.community, viewer=viewer)
        conditions = [Proposal.community_id == community.id]
    if filters.state:
        conditions.append(Proposal.state == filters.state)
    if filters.kind:
        conditions.append(Proposal.kind == filters.kind)
    return paginate(session, select(Proposal).where(*conditions).order_by(Proposal.id.desc()), page)


def submit(*, session: Session, actor: Member, proposal: Proposal, now: datetime | None = None) -> Proposal:
    """Put a draft to the vote: voting opens after the voting delay and lasts the voting period."""
    permissions.require_submit(actor, proposal)
    if proposal.state != State.DRAFT:
        raise CommonsError(ErrorCode.PROPOSAL_STATE, f"the proposal is {proposal.state}, not a draft")
    threshold = parameters.value(session, parameters.PROPOSAL_THRESHOLD)
    held = tokens.balance(session, tokens.member_account(actor.id))
    if held < threshold:
        raise CommonsError(ErrorCode.BELOW_THRESHOLD, f"you hold {held} tokens; proposing takes {threshold}")
    now = now or utcnow()
    proposal.rules = parameters.rules(session) | {"proposal_threshold": threshold}
    proposal.submitted_at = now
    proposal.voting_starts_at = now + _minutes(proposal, "voting_delay")
    proposal.voting_ends_at = proposal.voting_starts_at + _minutes(proposal, "voting_period")
    _enter(session, proposal, State.PENDING, now, actor=actor, next_step_at=proposal.voting_starts_at)
    window = {
        "voting_starts_at": _iso(proposal.voting_starts_at),
        "voting_ends_at": _iso(proposal.voting_ends_at),
    }
    _record(session, "submit", actor, proposal, window)
    return proposal


def cancel(*, session: Session, actor: Member, proposal: Proposal, now: datetime | None = None) -> Proposal:
    """The proposer or a guardian withdraws a proposal that is not executed (nor otherwise over)."""
    permissions.require_cancel(session, actor, proposal)
    if proposal.state in FINAL:
        raise CommonsError(ErrorCode.PROPOSAL_STATE, f"a proposal that is {proposal.state} is not canceled")
    _enter(session, proposal, State.CANCELED, now or utcnow(), actor=actor)
    _record(session, "cancel", actor, proposal)
    return proposal


# --- votes --------------------------------------------------------------------------------------------


def cast(
    *, session: Session, voter: Member, proposal: Proposal, choice: Any, now: datetime | None = None
) -> Vote:
    """Vote, or change one's vote: until the voting closes, only a voter's last vote counts."""
    now = now or utcnow()
    _require_voting(proposal, now)
    parsed = tally.parse_choice(proposal.method, len(proposal.options), choice)
    if not is_elector(session=session, proposal=proposal, member=voter):
        raise CommonsError(ErrorCode.NO_VOTING_POWER, _not_elector(proposal))
    power = voting_power(session=session, proposal=proposal, member=voter)
    if power <= 0:
        raise CommonsError(ErrorCode.NO_VOTING_POWER, _powerless(proposal))
    session.execute(
        update(Vote)
        .where(Vote.proposal_id == proposal.id, Vote.voter_id == voter.id, Vote.superseded_at.is_(None))
        .values(superseded_at=now)
    )
    vote = Vote(proposal_id=proposal.id, voter_id=voter.id, choice=parsed, power=power, cast_at=now)
    session.add(vote)
    ledger.record(
        session,
        "governance:vote:cast",
        actor_id=voter.id,
        subject={"proposal": proposal.id},
        community_id=proposal.community_id,
        data={"choice": parsed, "power": power},
    )
    session.flush()
    _extend_if_quorum_is_late(session, proposal, now)
    return vote


def _require_voting(proposal: Proposal, now: datetime) -> None:
    if proposal.state != State.ACTIVE:
        raise CommonsError(ErrorCode.VOTING_CLOSED, f"a proposal that is {proposal.state} takes no votes")
    assert proposal.voting_starts_at is not None and proposal.voting_ends_at is not None
    if not proposal.voting_starts_at <= now < proposal.voting_ends_at:
        raise CommonsError(
            ErrorCode.VOTING_CLOSED,
            f"the voting runs from {_iso(proposal.voting_starts_at)} to {_iso(proposal.voting_ends_at)}",
        )


def _not_elector(proposal: Proposal) -> str:
    where = proposal.community_slug or "the commons"
    return (
        f"you were not a member of {where} in the log's first {proposal.snapshot} entries, "
        "when the voting opened: only they vote on this proposal"
    )


def _powerless(proposal: Proposal) -> str:
    return f"you held no tokens in the log's first {proposal.snapshot} entries, when the voting opened"


def is_elector(*, session: Session, proposal: Proposal, member: Member | None) -> bool:
    """Whether `member` is in the proposal's electorate, fixed when its voting opened (none before)."""
    if member is None or proposal.snapshot is None:
        return False
    return session.get(Elector, (proposal.id, member.id)) is not None


def voting_power(*, session: Session, proposal: Proposal, member: Member | None) -> int:
    """A member's power on a proposal: 0 before the voting opens or for a member outside its electorate;
    from the tokens held in the log's first `snapshot` entries for token-weighted and quadratic votes."""
    if not is_elector(session=session, proposal=proposal, member=member):
        return 0
    assert member is not None and proposal.snapshot is not None
    held = 0
    if proposal.method in tally.TOKEN_METHODS:
        held = _balance_at(session, tokens.member_account(member.id), proposal.snapshot)
    return tally.power(proposal.method, held)


def _balance_at(session: Session, owner: str, size: int) -> int:
    """An account's balance less the transfers that the log's first `size` entries do not hold."""
    account = session.scalar(select(Account).where(Account.owner == owner))
    if account is None:
        return 0
    change = case((Transfer.to_account_id == account.id, Transfer.amount), else_=-Transfer.amount)
    later = session.scalar(
        select(func.coalesce(func.sum(change), 0))
        .outerjoin(LogEntry, LogEntry.record_id == Transfer.record_id)
        .where(
            or_(Transfer.from_account_id == account.id, Transfer.to_account_id == account.id),
            or_(LogEntry.index.is_(None), LogEntry.index >= size),
        )
    )
    return int(account.balance - (later or 0))


def _extend_if_quorum_is_late(session: Session, proposal: Proposal, now: datetime) -> None:
    """Once quorum is first reached, the voting runs at least the late-quorum extension longer, so that a
    last-minute surge cannot carry a vote that nobody had time to answer."""
    if proposal.quorum_reached_at is not None or _participation(session, proposal) < (proposal.quorum or 1):
        return
    proposal.quorum_reached_at = now
    ends = now + _minutes(proposal, "late_quorum_extension")
    assert proposal.voting_ends_at is not None
    if proposal.voting_ends_at < ends:
        proposal.voting_ends_at = proposal.next_step_at = ends
        proposal.extended = True
        _step(session, proposal, "extended", now, note=f"quorum came late: voting runs until {_iso(ends)}")
        _record(session, "extend", None, proposal, {"voting_ends_at": _iso(ends)})
    session.flush()


def _participation(session: Session, proposal: Proposal) -> int:
    counted = select(func.coalesce(func.sum(Vote.power), 0)).where(
        Vote.proposal_id == proposal.id, Vote.superseded_at.is_(None)
    )
    return int(session.scalar(counted) or 0)


def count(*, session: Session, proposal: Proposal) -> tally.Tally:
    """The tally of the votes as they stand: the database sums the counted votes by choice."""
    choice = sqlalchemy.cast(Vote.choice, Text)  # JSON as text: PostgreSQL does not group by json
    grouped = session.execute(
        select(choice, func.sum(Vote.power), func.count())
        .where(Vote.proposal_id == proposal.id, Vote.superseded_at.is_(None))
        .group_by(choice)
    )
    groups = [(json.loads(text), int(power), int(voters)) for text, power, voters in grouped]
    return tally.count_groups(proposal.method, len(proposal.options), groups, proposal.quorum or 1)


def published(*, session: Session, proposal: Proposal) -> dict[str, Any]:
    """The tally the commons publishes: the one recorded at the close, else the live count."""
    return (
        proposal.result
        if proposal.result is not None
        else count(session=session, proposal=proposal).document()
    )


def votes(*, session: Session, proposal: Proposal, page: PageRequest, history: bool = False) -> Page[Vote]:
    """The votes that count (with `history`, every vote cast, changed ones too), newest first."""
    query = select(Vote).where(Vote.proposal_id == proposal.id)
    if not history:
        query = query.where(Vote.superseded_at.is_(None))
    return paginate(session, query.order_by(Vote.id.desc()), page)


def votes_of(*, session: Session, proposal: Proposal, member: Member) -> list[Vote]:
    """A member's votes on a proposal, newest (the one that counts) first."""
    mine = select(Vote).where(Vote.proposal_id == proposal.id, Vote.voter_id == member.id)
    return list(session.scalars(mine.order_by(Vote.id.desc())))


def steps(*, session: Session, proposal: Proposal) -> list[ProposalStep]:
    query = select(ProposalStep).where(ProposalStep.proposal_id == proposal.id)
    return list(session.scalars(query.order_by(ProposalStep.id)))


# --- time moves proposals along -----------------------------------------------------------------------


def due(session: Session, now: datetime, limit: int = 100) -> list[int]:
    """Proposals with a step due: voting to open or close, a succeeded one to queue, one to execute."""
    query = select(Proposal.id).where(Proposal.next_step_at <= now).order_by(Proposal.next_step_at)
    return list(session.scalars(query.limit(limit)))


def advance(session: Session, proposal_id: int, now: datetime) -> State | None:
    """Take the one step due at `now`; returns the state entered, or None when nothing was due."""
    proposal = session.get(Proposal, proposal_id)
    if proposal is None or proposal.next_step_at is None or proposal.next_step_at > now:
        return None
    if proposal.state == State.PENDING:
        _open(session, proposal, now)
    elif proposal.state == State.ACTIVE:
        _close(session, proposal, now)
    elif proposal.state == State.SUCCEEDED:
        _queue(session, proposal, now)
    elif now >= _deadline(proposal):
        _expire(session, proposal, now)
    else:
        execute(session=session, proposal=proposal, actor=None, now=now)
    return proposal.state


def _open(session: Session, proposal: Proposal, now: datetime) -> None:
    """Voting opens: the log's size is the snapshot of who votes and with what power, and quorum is a share
    of the electorate's power then."""
    proposal.snapshot = ledger.tree_size(session)
    voters = _fix_electorate(session, proposal)
    balances = (
        tokens.balances_at(session, proposal.snapshot) if proposal.method in tally.TOKEN_METHODS else {}
    )
    proposal.electorate = sum(
        tally.power(proposal.method, balances.get(tokens.member_account(member_id), 0))
        for member_id in voters
    )
    proposal.quorum = max(1, -(-proposal.electorate * proposal.rules["quorum_percent"] // 100))
    assert proposal.voting_ends_at is not None
    _enter(session, proposal, State.ACTIVE, now, next_step_at=proposal.voting_ends_at)
    facts = {"snapshot": proposal.snapshot, "electorate": proposal.electorate, "quorum": proposal.quorum}
    _record(
        session,
        "open",
        None,
        proposal,
        facts | {"method": str(proposal.method), "options": len(proposal.options)},
    )
    _notify(
        session,
        proposal,
        voters,
        f"Vote open: {proposal.title}",
        f"Voting closes {_iso(proposal.voting_ends_at)}.",
    )


def _fix_electorate(session: Session, proposal: Proposal) -> list[int]:
    """Store who may vote: the members of the commons (or the community) in the log's first `snapshot`
    entries, by the rule an auditor's recount applies (governance/electorate.py)."""
    assert proposal.snapshot is not None
    query = (
        select(LogEntry.body)
        .where(
            LogEntry.event.in_(electorate.events(proposal.community_id)), LogEntry.index < proposal.snapshot
        )
        .order_by(LogEntry.index)
    )
    if proposal.community_id is not None:
        query = query.where(LogEntry.community_id == proposal.community_id)
    entries = (parse(body) for body in session.scalars(query))
    voters = sorted(electorate.members_at(entries, proposal.community_id))
    if voters:
        session.execute(insert(Elector), [{"proposal_id": proposal.id, "member_id": m} for m in voters])
    return voters


def _close(session: Session, proposal: Proposal, now: datetime) -> None:
    counted = count(session=session, proposal=proposal)
    proposal.result = counted.document()
    state = State.SUCCEEDED if counted.passed else State.DEFEATED
    _enter(session, proposal, state, now, next_step_at=now if counted.passed else None)
    _record(session, "succeed" if counted.passed else "defeat", None, proposal, {"tally": proposal.result})
    voters = set(session.scalars(select(Vote.voter_id).where(Vote.proposal_id == proposal.id)))
    told = sorted(voters | ({proposal.proposer_id} if proposal.proposer_id else set()))
    _notify(session, proposal, told, f"Vote closed: {proposal.title}", f"The proposal {state}.")


def _queue(session: Session, proposal: Proposal, now: datetime) -> None:
    proposal.eta = now + _minutes(proposal, "timelock")
    _enter(session, proposal, State.QUEUED, now, next_step_at=proposal.eta)
    _record(session, "queue", None, proposal, {"eta": _iso(proposal.eta)})


def _deadline(proposal: Proposal) -> datetime:
    assert proposal.eta is not None
    return proposal.eta + _minutes(proposal, "grace_period")


def _expire(session: Session, proposal: Proposal, now: datetime) -> None:
    _enter(session, proposal, State.EXPIRED, now, note=proposal.last_error)
    _record(session, "expire", None, proposal)


def execute(
    *, session: Session, proposal: Proposal, actor: Member | None, now: datetime | None = None
) -> Proposal:
    """Carry out a queued proposal whose timelock has passed (anyone may; the worker does it anyway)."""
    now = now or utcnow()
    _require_executable(proposal, now)
    _enter(session, proposal, State.EXECUTED, now, actor=actor)
    proposal.outcome = actions.execute(session, proposal)
    proposal.last_error = ""
    _record(session, "execute", actor, proposal, {"outcome": proposal.outcome})
    session.flush()
    return proposal


def _require_executable(proposal: Proposal, now: datetime) -> None:
    if proposal.state == State.EXECUTED:
        raise CommonsError(ErrorCode.ALREADY_EXECUTED, f"proposal {proposal.id} was executed already")
    if proposal.state != State.QUEUED:
        raise CommonsError(ErrorCode.PROPOSAL_STATE, f"a proposal that is {proposal.state} is not executed")
    assert proposal.eta is not None
    if now < proposal.eta:
        raise CommonsError(ErrorCode.TIMELOCK_PENDING, f"the timelock passes at {_iso(proposal.eta)}")
    if now >= _deadline(proposal):
        raise CommonsError(ErrorCode.PROPOSAL_STATE, "its grace period is over: the proposal expires")


def note_failure(session: Session, proposal_id: int, detail: str, now: datetime) -> None:
    """An execution the services refused: try again later, or expire at the end of the grace period."""
    proposal = session.get(Proposal, proposal_id)
    if proposal is None or proposal.state != State.QUEUED:
        return
    if detail != proposal.last_error:
        _step(session, proposal, "failed", now, note=detail)
    proposal.last_error = detail[:500]
    proposal.next_step_at = min(now + RETRY, _deadline(proposal))
    session.flush()


# --- shared -------------------------------------------------------------------------------------------


def _enter(
    session: Session,
    proposal: Proposal,
    state: State,
    now: datetime,
    *,
    actor: Member | None = None,
    next_step_at: datetime | None = None,
    note: str = "",
) -> None:
    """Move to `state`, unless another transaction moved the proposal first (then nothing changes)."""
    values = {"state": state, "next_step_at": next_step_at, "ended_at": now if state in FINAL else None}
    moved = session.execute(
        update(Proposal)
        .where(Proposal.id == proposal.id, Proposal.state == proposal.state)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        raise CommonsError(ErrorCode.PROPOSAL_STATE, f"proposal {proposal.id} changed meanwhile; look again")
    for key, value in values.items():
        set_committed_value(proposal, key, value)
    _step(session, proposal, state, now, actor=actor, note=note)


def _step(
    session: Session,
    proposal: Proposal,
    step: str,
    at: datetime,
    *,
    actor: Member | None = None,
    note: str = "",
) -> None:
    session.add(
        ProposalStep(
            proposal_id=proposal.id, step=step, at=at, actor_id=actor.id if actor else None, note=note[:300]
        )
    )


def _record(
    session: Session,
    action: str,
    actor: Member | None,
    proposal: Proposal,
    data: dict[str, Any] | None = None,
) -> None:
    ledger.record(
        session,
        f"governance:proposal:{action}",
        actor_id=actor.id if actor else None,
        subject={"proposal": proposal.id},
        community_id=proposal.community_id,
        data=data or {},
    )


def _notify(session: Session, proposal: Proposal, member_ids: list[int], title: str, body: str) -> None:
    for member_id in member_ids:
        notify(session, member_id, kind="vote", title=title, body=body, url=f"/governance/{proposal.id}")


def _minutes(proposal: Proposal, rule: str) -> timedelta:
    return timedelta(minutes=proposal.rules[rule])


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
