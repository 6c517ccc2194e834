"""JSON routes of the problems domain under /api/v1/problems."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, status
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from aicommons.core.blobs import BlobStore
from aicommons.core.errors import CommonsError, ErrorCode
from aicommons.core.pagination import Paging
from aicommons.core.web import AppSettings, DbSession
from aicommons.datasets import uploads
from aicommons.members.auth import CurrentMember, OptionalMember
from aicommons.problems import service, standings, teams
from aicommons.problems.models import Problem, ProblemState, RequestKind, Team
from aicommons.problems.schemas import (
    InvitationCreate,
    Leaderboard,
    LeaderboardRow,
    ProblemCreate,
    ProblemPage,
    ProblemRead,
    SubmissionRead,
    TeamMembers,
    TeamRead,
    TeamRequestRead,
)

router = APIRouter(prefix="/api/v1/problems", tags=["problems"])


def problem_by_ref(ref: str, session: DbSession, viewer: OptionalMember) -> Problem:
    return service.get(session=session, ref=ref, viewer=viewer)


def blob_store(settings: AppSettings) -> BlobStore:
    return BlobStore(settings.blob_dir)


ProblemByRef = Annotated[Problem, Depends(problem_by_ref)]
Store = Annotated[BlobStore, Depends(blob_store)]


class Finals(BaseModel):
    submission_ids: list[int] = Field(min_length=1, max_length=2)


@router.get("")
def catalog(
    page: Paging, session: DbSession, sdg: Annotated[int | None, Query(ge=1, le=17)] = None
) -> ProblemPage:
    """Published problems, open ones first; `sdg` narrows to one goal."""
    return ProblemPage.model_validate(
        service.search(session=session, sdg=sdg, page=page), from_attributes=True
    )


@router.post("", status_code=status.HTTP_201_CREATED)
def create(form: ProblemCreate, creator: CurrentMember, session: DbSession) -> ProblemRead:
    """A draft problem; upload its evaluation data, then publish it."""
    return ProblemRead.model_validate(service.create(session=session, creator=creator, form=form))


@router.get("/{ref}")
def show(problem: ProblemByRef) -> ProblemRead:
    return ProblemRead.model_validate(problem)


@router.post("/{ref}/evaluation")
async def evaluation(  # noqa: PLR0917 (FastAPI passes what the route declares)
    ref: str, request: Request, actor: CurrentMember, session: DbSession, store: Store, settings: AppSettings
) -> ProblemRead:
    """The hidden evaluation rows as the body (CSV or Parquet with the id and target columns)."""
    chosen = uploads.format_of(request.headers.get("content-type", ""), None)
    problem = await run_in_threadpool(service.get, session=session, ref=ref, viewer=actor)
    with store.scratch() as path:
        upload = await uploads.receive(request, path, chosen, limit=settings.max_upload_bytes)
        changed = await run_in_threadpool(
            service.set_evaluation, session=session, store=store, actor=actor, problem=problem, upload=upload
        )
    return ProblemRead.model_validate(changed)


@router.post("/{ref}/publish")
def publish(problem: ProblemByRef, actor: CurrentMember, session: DbSession) -> ProblemRead:
    """Open the problem: the bounty moves from the owner's account to escrow."""
    return ProblemRead.model_validate(service.publish(session=session, actor=actor, problem=problem))


@router.post("/{ref}/close")
def close(problem: ProblemByRef, actor: CurrentMember, session: DbSession) -> ProblemRead:
    """After the closing time: reveal the private leaderboard and pay the bounty and the data dividend."""
    return ProblemRead.model_validate(service.close(session=session, actor=actor, problem=problem))


@router.get("/{ref}/team")
def my_team(problem: ProblemByRef, member: CurrentMember, session: DbSession) -> TeamRead:
    """Your team and what waits: invitations to you, requests to your team, your own requests and your
    team's invitations."""
    team = service.current_team(session, problem, member)
    waiting = teams.pending(session=session, problem=problem, member=member)
    return TeamRead.model_validate(
        {"team": team.name if team else None, "members": _handles(team)} | vars(waiting),
        from_attributes=True,
    )


def _handles(team: Team | None) -> list[str]:
    return sorted(row.member.handle for row in team.members) if team else []


@router.post("/{ref}/teams/{name}")
def join_team(problem: ProblemByRef, name: str, member: CurrentMember, session: DbSession) -> TeamMembers:
    """Found a team by a fresh name, or join the team of that name that invited you (`team_consent_required`
    otherwise: ask to join it)."""
    team = teams.join_team(session=session, problem=problem, member=member, team_name=name)
    return TeamMembers(team=team.name, members=_handles(team))


@router.post("/{ref}/teams/{name}/invitations", status_code=status.HTTP_201_CREATED)
def invite(
    problem: ProblemByRef, name: str, invitation: InvitationCreate, member: CurrentMember, session: DbSession
) -> TeamRequestRead:
    """Invite a member to your team by handle; they accept or decline."""
    found = teams.invite(
        session=session, problem=problem, actor=member, team_name=name, handle=invitation.handle
    )
    return TeamRequestRead.model_validate(found)


@router.post("/{ref}/teams/{name}/requests", status_code=status.HTTP_201_CREATED)
def ask(problem: ProblemByRef, name: str, member: CurrentMember, session: DbSession) -> TeamRequestRead:
    """Ask to join a team; one of its members approves or declines."""
    return TeamRequestRead.model_validate(
        teams.ask(session=session, problem=problem, member=member, team_name=name)
    )


@router.post("/{ref}/invitations/{request_id}/accept")
def accept_invitation(
    problem: ProblemByRef, request_id: int, member: CurrentMember, session: DbSession
) -> TeamRequestRead:
    """Accept an invitation to a team: you join it (only its invitee may)."""
    found = teams.accept(session=session, problem=problem, actor=member, request_id=request_id)
    return TeamRequestRead.model_validate(found)


@router.post("/{ref}/invitations/{request_id}/decline")
def decline_invitation(
    problem: ProblemByRef, request_id: int, member: CurrentMember, session: DbSession
) -> TeamRequestRead:
    """Decline an invitation to a team (only its invitee may)."""
    found = teams.decline(
        session=session, problem=problem, actor=member, request_id=request_id, kind=RequestKind.INVITATION
    )
    return TeamRequestRead.model_validate(found)


@router.post("/{ref}/requests/{request_id}/approve")
def approve_request(
    problem: ProblemByRef, request_id: int, member: CurrentMember, session: DbSession
) -> TeamRequestRead:
    """Approve a request to join your team: the member who asked joins it (any member of the team may)."""
    found = teams.approve(session=session, problem=problem, actor=member, request_id=request_id)
    return TeamRequestRead.model_validate(found)


@router.post("/{ref}/requests/{request_id}/decline")
def decline_request(
    problem: ProblemByRef, request_id: int, member: CurrentMember, session: DbSession
) -> TeamRequestRead:
    """Decline a request to join your team (any member of the team may)."""
    found = teams.decline(
        session=session, problem=problem, actor=member, request_id=request_id, kind=RequestKind.REQUEST
    )
    return TeamRequestRead.model_validate(found)


@router.post("/{ref}/submissions", status_code=status.HTTP_201_CREATED)
async def submit(  # noqa: PLR0917 (FastAPI passes what the route declares)
    ref: str,
    request: Request,
    member: CurrentMember,
    session: DbSession,
    store: Store,
    settings: AppSettings,
    datasets: Annotated[list[int], Query(description="dataset version ids the solution used")] = [],  # noqa: B006
    note: Annotated[str, Query(max_length=500)] = "",
) -> SubmissionRead:
    """Predictions as a CSV body (the id column and the prediction); a background job scores them."""
    if request.headers.get("content-type", "").split(";", maxsplit=1)[0].strip() != "text/csv":
        raise CommonsError(ErrorCode.UNSUPPORTED_FORMAT, "send predictions as text/csv")
    problem = await run_in_threadpool(service.get, session=session, ref=ref, viewer=member)
    limit = min(settings.max_upload_bytes, service.submission_limit_bytes(problem))
    with store.scratch(".csv") as path:
        upload = await uploads.receive(request, path, "csv", limit=limit)
        created = await run_in_threadpool(
            service.submit,
            session=session,
            store=store,
            member=member,
            problem=problem,
            upload=upload,
            datasets_used=datasets,
            note=note,
        )
    return SubmissionRead.model_validate(created)


@router.get("/{ref}/submissions/mine")
def my_submissions(problem: ProblemByRef, member: CurrentMember, session: DbSession) -> list[SubmissionRead]:
    """Your team's submissions, newest first, with their public scores (private ones after the close)."""
    found = service.my_submissions(session=session, member=member, problem=problem)
    shown = [SubmissionRead.model_validate(one) for one in found]
    if problem.state != ProblemState.CLOSED:
        for one in shown:
            one.private_score = None
    return shown


@router.put("/{ref}/finals")
def finals(
    problem: ProblemByRef, chosen: Finals, member: CurrentMember, session: DbSession
) -> list[SubmissionRead]:
    """Choose up to two submissions for the private leaderboard (by default, your best public one)."""
    selected = service.select_finals(
        session=session, member=member, problem=problem, submission_ids=chosen.submission_ids
    )
    return [SubmissionRead.model_validate(one).model_copy(update={"private_score": None}) for one in selected]


@router.get("/{ref}/leaderboard")
def leaderboard(
    problem: ProblemByRef,
    session: DbSession,
    page: Paging,
    board: Annotated[str, Query(pattern="^(public|private)$")] = "public",
) -> Leaderboard:
    """Teams by their best public score with its 95% interval; the private board once the problem closed."""
    if board == "private" and problem.state != ProblemState.CLOSED:
        raise CommonsError(ErrorCode.PROBLEM_STILL_OPEN, "the private leaderboard is revealed at the close")
    found = standings.leaderboard(session=session, problem=problem, private=board == "private", page=page)
    return Leaderboard(
        problem=problem.slug,
        board=board,
        metric=problem.metric,
        rows=[LeaderboardRow.model_validate(row) for row in found.items],
        total=found.total,
        page=found.page,
        size=found.size,
    )
