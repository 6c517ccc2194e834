"""JSON routes of the governance domain under /api/v1/governance."""

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, status
from sqlalchemy.orm import Session

from aicommons.core.pagination import Paging
from aicommons.core.web import DbSession
from aicommons.governance import parameters, service, tally
from aicommons.governance.models import Proposal
from aicommons.governance.schemas import (
    ParameterRead,
    PowerRead,
    ProposalCreate,
    ProposalFilter,
    ProposalPage,
    ProposalRead,
    StepRead,
    TallyRead,
    VoteCast,
    VotePage,
    VoteRead,
)
from aicommons.members.auth import CurrentMember, OptionalMember

router = APIRouter(prefix="/api/v1/governance", tags=["governance"])


def proposal_by_id(
    proposal_id: Annotated[int, Path(ge=1, le=2**31 - 1)], session: DbSession, viewer: OptionalMember
) -> Proposal:
    return service.get(session=session, proposal_id=proposal_id, viewer=viewer)


ProposalById = Annotated[Proposal, Depends(proposal_by_id)]


@router.get("/proposals")
def browse(
    filters: Annotated[ProposalFilter, Query()], page: Paging, session: DbSession, viewer: OptionalMember
) -> ProposalPage:
    """Commons-wide proposals, or a community's with `community`; narrowed by `state` and `kind`."""
    found = service.search(session=session, viewer=viewer, filters=filters, page=page)
    return ProposalPage.model_validate(found, from_attributes=True)


@router.post("/proposals", status_code=status.HTTP_201_CREATED)
def create(form: ProposalCreate, proposer: CurrentMember, session: DbSession) -> ProposalRead:
    """A draft proposal; submit it to put it to the vote."""
    return ProposalRead.model_validate(service.create(session=session, proposer=proposer, form=form))


@router.get("/proposals/{proposal_id}")
def show(proposal: ProposalById) -> ProposalRead:
    return ProposalRead.model_validate(proposal)


@router.post("/proposals/{proposal_id}/submit")
def submit(proposal: ProposalById, actor: CurrentMember, session: DbSession) -> ProposalRead:
    """The proposer puts the draft to the vote (it needs the proposal threshold of tokens)."""
    return ProposalRead.model_validate(service.submit(session=session, actor=actor, proposal=proposal))


@router.post("/proposals/{proposal_id}/cancel")
def cancel(proposal: ProposalById, actor: CurrentMember, session: DbSession) -> ProposalRead:
    """The proposer or a guardian cancels a proposal that is not executed."""
    return ProposalRead.model_validate(service.cancel(session=session, actor=actor, proposal=proposal))


@router.post("/proposals/{proposal_id}/execute")
def execute(proposal: ProposalById, actor: CurrentMember, session: DbSession) -> ProposalRead:
    """Execute a queued proposal whose timelock has passed (the worker does it on its own too)."""
    return ProposalRead.model_validate(service.execute(session=session, proposal=proposal, actor=actor))


@router.get("/proposals/{proposal_id}/votes")
def votes(
    proposal: ProposalById,
    page: Paging,
    session: DbSession,
    history: Annotated[bool, Query(description="every vote cast, changed ones too")] = False,
) -> VotePage:
    """The votes that count, each with its voter's power, newest first."""
    found = service.votes(session=session, proposal=proposal, page=page, history=history)
    return VotePage.model_validate(found, from_attributes=True)


@router.post("/proposals/{proposal_id}/votes", status_code=status.HTTP_201_CREATED)
def vote(proposal: ProposalById, ballot: VoteCast, voter: CurrentMember, session: DbSession) -> VoteRead:
    """Vote, or change your vote: until the voting closes, your last vote counts."""
    cast = service.cast(session=session, voter=voter, proposal=proposal, choice=ballot.choice)
    return VoteRead.model_validate(cast)


@router.get("/proposals/{proposal_id}/tally")
def tally_of(proposal: ProposalById, session: DbSession) -> TallyRead:
    """The published tally: the count recorded at the close, or the live count while voting runs."""
    return tally_read(session, proposal)


def tally_read(session: Session, proposal: Proposal) -> TallyRead:
    document = service.published(session=session, proposal=proposal)
    shown = tally.labels(proposal.method, proposal.options)
    return TallyRead.model_validate(document | {"labels": shown, "final": proposal.result is not None})


@router.get("/proposals/{proposal_id}/power")
def power(proposal: ProposalById, member: CurrentMember, session: DbSession) -> PowerRead:
    """Your voting power on the proposal (0 before the voting opens, or when you may not vote)."""
    held = service.voting_power(session=session, proposal=proposal, member=member)
    return PowerRead(power=held, snapshot=proposal.snapshot, method=proposal.method)


@router.get("/proposals/{proposal_id}/timeline")
def timeline(proposal: ProposalById, session: DbSession) -> list[StepRead]:
    """The proposal's steps: each state it entered, when and by whom (none: the worker, as time passed)."""
    return [StepRead.model_validate(step) for step in service.steps(session=session, proposal=proposal)]


@router.get("/parameters")
def governable(session: DbSession) -> list[ParameterRead]:
    """Every parameter the members may change by vote, with its unit, allowed range and current value."""
    return [
        ParameterRead(**asdict(parameter), value=value) for parameter, value in parameters.current(session)
    ]
