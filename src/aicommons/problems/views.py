"""HTML pages of problems: the catalog by goal, a problem with its forms, the leaderboards, a team's
submissions."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Request, UploadFile
from fastapi.responses import Response
from markdown_it import MarkdownIt
from markupsafe import Markup
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from aicommons.core.blobs import BlobStore
from aicommons.core.db import utcnow
from aicommons.core.errors import CommonsError, ErrorCode
from aicommons.core.pagination import Paging
from aicommons.core.web import (
    AppSettings,
    DbSession,
    FormData,
    PageRenderer,
    Pages,
    query_filters,
    require_csrf,
    wants_fragment,
)
from aicommons.datasets import uploads
from aicommons.datasets.models import Dataset, DatasetVersion
from aicommons.members.auth import OptionalMember, PageMember
from aicommons.members.models import Member
from aicommons.problems import service, standings, teams
from aicommons.problems.models import Problem, ProblemState, RequestKind, Submission, SubmissionState
from aicommons.problems.scoring import Metric, Task, prediction_columns
from aicommons.web.charts import Label
from aicommons.web.navigation import refusal, see_other

router = APIRouter(include_in_schema=False, dependencies=[Depends(require_csrf)])

PAYOUT_LABELS = {
    "winner": "The winner takes all",
    "top3": "50%, 30% and 20% to the first three teams",
}
TASK_LABELS = {
    Task.BINARY: "Binary classification",
    Task.MULTICLASS: "Classification",
    Task.REGRESSION: "Regression",
}
EVALUATION_FORMATS = {".csv": "csv", ".parquet": "parquet"}
PREDICTION_FORMATS = {".csv": "csv"}
MAX_FINALS = 2
NOTE_LENGTH = 500
# Raw HTML in a statement is shown as text: a problem's owner cannot put scripts on its page.
STATEMENT_MARKDOWN = MarkdownIt("commonmark", {"html": False})


class ProblemFilter(BaseModel):
    sdg: int | None = Field(default=None, ge=1, le=17)


def problem_by_ref(ref: str, session: DbSession, viewer: OptionalMember) -> Problem:
    return service.get(session=session, ref=ref, viewer=viewer)


def catalog_filters(request: Request) -> ProblemFilter:
    return query_filters(ProblemFilter, request)


ProblemByRef = Annotated[Problem, Depends(problem_by_ref)]
Filters = Annotated[ProblemFilter, Depends(catalog_filters)]
Board = Literal["public", "private"]


def _page(viewer: Member | None, **context: Any) -> dict[str, Any]:
    return {"viewer": viewer, "payout_labels": PAYOUT_LABELS, "task_labels": TASK_LABELS, **context}


# --- the catalog -------------------------------------------------------------------------------------


@router.get("/problems")
def catalog(
    *,
    request: Request,
    pages: PageRenderer,
    session: DbSession,
    viewer: OptionalMember,
    filters: Filters,
    page: Paging,
) -> Response:
    """Published problems, open ones first; an HTMX request from the goal select gets only the results."""
    found = service.search(session=session, sdg=filters.sdg, page=page)
    template = "problems/_results.html" if wants_fragment(request, "results") else "problems/catalog.html"
    response = pages.render(request, template, _page(viewer, found=found, filters=filters, now=utcnow()))
    response.headers["Vary"] = "HX-Request, HX-Target"
    return response


# --- a problem -----------------------------------------------------------------------------------------


@router.get("/problems/{ref}")
def show(
    request: Request, pages: PageRenderer, session: DbSession, viewer: OptionalMember, problem: ProblemByRef
) -> Response:
    return pages.render(request, "problems/show.html", _detail(session, viewer, problem))


# What the problem page's forms show when nothing was posted: no errors, no values.
FORM_KEYS = ("submit_errors", "team_errors", "evaluation_errors", "action_errors", "values")


def _detail(session: Session, viewer: Member | None, problem: Problem, **context: Any) -> dict[str, Any]:
    """Everything the problem's page shows: the statement, data, rules, timeline and the viewer's forms."""
    columns = prediction_columns(Task(problem.task), Metric(problem.metric), problem.classes)
    team = service.current_team(session, problem, viewer) if viewer else None
    waiting = teams.pending(session=session, problem=problem, member=viewer) if viewer else teams.Pending()
    return _page(
        viewer,
        problem=problem,
        statement=Markup(STATEMENT_MARKDOWN.render(problem.statement)),
        versions=_dataset_versions(session, problem.dataset_versions),
        submission_columns=[problem.id_column, *columns],
        higher_is_better=Metric(problem.metric).higher_is_better,
        owner=service.is_owner(session, problem, viewer),
        team=team,
        may_change_team=team is None or teams.may_leave(session, team),
        pending=waiting,
        now=utcnow(),
        **({key: {} for key in FORM_KEYS} | context),
    )


@dataclass(frozen=True)
class VersionLink:
    """A dataset version solvers may use, as the page links it."""

    id: int
    slug: str
    title: str
    number: int


def _dataset_versions(session: Session, version_ids: Sequence[int]) -> list[VersionLink]:
    query = (
        select(DatasetVersion.id, Dataset.slug, Dataset.title, DatasetVersion.number)
        .join(Dataset, Dataset.id == DatasetVersion.dataset_id)
        .where(DatasetVersion.id.in_(list(version_ids)))
        .order_by(Dataset.title, DatasetVersion.number)
    )
    return [VersionLink(*row) for row in session.execute(query)]


def _act(
    request: Request,
    *,
    pages: Pages,
    session: Session,
    viewer: Member,
    problem: Problem,
    act: Callable[[], str],
    errors_key: str = "action_errors",
    **context: Any,
) -> Response:
    """Do `act` and go where it says, or show the problem again with why it was refused."""
    try:
        target = act()
    except (ValidationError, CommonsError) as error:
        errors, status = refusal(session, error, {})
        page = _detail(session, viewer, problem, **{errors_key: errors}, **context)
        return pages.render(request, "problems/show.html", page, status_code=status)
    return see_other(target)


@router.post("/problems/{ref}/submissions")
def submit(  # noqa: PLR0917 (FastAPI passes what the route declares)
    request: Request,
    pages: PageRenderer,
    data: FormData,
    session: DbSession,
    settings: AppSettings,
    viewer: PageMember,
    problem: ProblemByRef,
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """Predictions from the submission form (the path ends in /submissions for the body limit)."""
    store = BlobStore(settings.blob_dir)
    limit = min(settings.max_upload_bytes, service.submission_limit_bytes(problem))

    def act() -> str:
        used, note = _declared(data)
        with store.scratch(".csv") as path:
            upload = uploads.from_form(file, path, limit=limit, formats=PREDICTION_FORMATS)
            service.submit(
                session=session,
                store=store,
                member=viewer,
                problem=problem,
                upload=upload,
                datasets_used=used,
                note=note,
            )
        return f"/problems/{problem.slug}/submissions"

    return _act(
        request,
        pages=pages,
        session=session,
        viewer=viewer,
        problem=problem,
        act=act,
        errors_key="submit_errors",
        values=data,
    )


def _declared(data: dict[str, Any]) -> tuple[list[int], str]:
    """The dataset versions the form's boxes declare, and the note."""
    chosen, note = _listed(data.get("datasets", [])), str(data.get("note", "")).strip()
    if not all(value.isdigit() for value in chosen):
        raise CommonsError(ErrorCode.VALIDATION_FAILED, "declare dataset versions from the list")
    if len(note) > NOTE_LENGTH:
        raise CommonsError(ErrorCode.VALIDATION_FAILED, f"keep the note under {NOTE_LENGTH} characters")
    return [int(value) for value in chosen], note


def _listed(value: str | list[str]) -> list[str]:
    return value if isinstance(value, list) else [value]


# --- the team section: founding, invitations and requests --------------------------------------------------


def _found_or_join(session: Session, problem: Problem, viewer: Member, data: dict[str, Any]) -> None:
    teams.join_team(session=session, problem=problem, member=viewer, team_name=str(data.get("team", "")))


def _ask(session: Session, problem: Problem, viewer: Member, data: dict[str, Any]) -> None:
    teams.ask(session=session, problem=problem, member=viewer, team_name=str(data.get("ask", "")))


def _invite(session: Session, problem: Problem, viewer: Member, data: dict[str, Any]) -> None:
    team = service.current_team(session, problem, viewer)
    name, handle = team.name if team else "", str(data.get("handle", "")).strip()
    teams.invite(session=session, problem=problem, actor=viewer, team_name=name, handle=handle)


TEAM_FORMS: dict[str | None, Callable[[Session, Problem, Member, dict[str, Any]], None]] = {
    None: _found_or_join,  # a fresh name founds a team; the name of a team that invited you takes it up
    "requests": _ask,  # ask to join a team by its name; one of its members approves or declines
    "invitations": _invite,  # invite a member to your team by handle
}


@router.post("/problems/{ref}/team")
@router.post("/problems/{ref}/team/{form}")
def team_form(  # noqa: PLR0917 (FastAPI passes what the route declares)
    request: Request,
    pages: PageRenderer,
    data: FormData,
    session: DbSession,
    viewer: PageMember,
    problem: ProblemByRef,
    form: Literal["requests", "invitations"] | None = None,
) -> Response:
    """The team section's forms: found a team (or take up an invitation), ask to join one, invite a member."""

    def act() -> str:
        TEAM_FORMS[form](session, problem, viewer, data)
        return f"/problems/{problem.slug}#team"

    return _team_act(
        request, pages=pages, session=session, viewer=viewer, problem=problem, act=act, values=data
    )


@router.post("/problems/{ref}/invitations/{request_id}/{decision}")
def decide_invitation(  # noqa: PLR0917 (FastAPI passes what the route declares)
    request: Request,
    pages: PageRenderer,
    session: DbSession,
    viewer: PageMember,
    problem: ProblemByRef,
    request_id: int,
    decision: Literal["accept", "decline"],
) -> Response:
    """The invitee accepts (joining the team) or declines an invitation."""

    def act() -> str:
        if decision == "accept":
            teams.accept(session=session, problem=problem, actor=viewer, request_id=request_id)
        else:
            kind = RequestKind.INVITATION
            teams.decline(session=session, problem=problem, actor=viewer, request_id=request_id, kind=kind)
        return f"/problems/{problem.slug}#team"

    return _team_act(request, pages=pages, session=session, viewer=viewer, problem=problem, act=act)


@router.post("/problems/{ref}/requests/{request_id}/{decision}")
def decide_request(  # noqa: PLR0917 (FastAPI passes what the route declares)
    request: Request,
    pages: PageRenderer,
    session: DbSession,
    viewer: PageMember,
    problem: ProblemByRef,
    request_id: int,
    decision: Literal["approve", "decline"],
) -> Response:
    """A member of the team approves (the member who asked joins) or declines a request to join it."""

    def act() -> str:
        if decision == "approve":
            teams.approve(session=session, problem=problem, actor=viewer, request_id=request_id)
        else:
            kind = RequestKind.REQUEST
            teams.decline(session=session, problem=problem, actor=viewer, request_id=request_id, kind=kind)
        return f"/problems/{problem.slug}#team"

    return _team_act(request, pages=pages, session=session, viewer=viewer, problem=problem, act=act)


def _team_act(request: Request, **arguments: Any) -> Response:
    """A team action from the team section, refused next to its forms."""
    return _act(request, errors_key="team_errors", **arguments)


# --- the owners' actions ----------------------------------------------------------------------------------


@router.post("/problems/{ref}/evaluation")
def evaluation(  # noqa: PLR0917 (FastAPI passes what the route declares)
    request: Request,
    pages: PageRenderer,
    session: DbSession,
    settings: AppSettings,
    viewer: PageMember,
    problem: ProblemByRef,
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """The hidden evaluation rows from the owner's form, while the problem is a draft."""
    store = BlobStore(settings.blob_dir)

    def act() -> str:
        with store.scratch() as path:
            upload = uploads.from_form(
                file, path, limit=settings.max_upload_bytes, formats=EVALUATION_FORMATS
            )
            service.set_evaluation(session=session, store=store, actor=viewer, problem=problem, upload=upload)
        return f"/problems/{problem.slug}#owner"

    return _act(
        request,
        pages=pages,
        session=session,
        viewer=viewer,
        problem=problem,
        act=act,
        errors_key="evaluation_errors",
    )


@router.post("/problems/{ref}/publish")
def publish(
    request: Request, pages: PageRenderer, session: DbSession, viewer: PageMember, problem: ProblemByRef
) -> Response:
    """Open a draft: its bounty moves to escrow."""

    def act() -> str:
        service.publish(session=session, actor=viewer, problem=problem)
        return f"/problems/{problem.slug}"

    return _act(request, pages=pages, session=session, viewer=viewer, problem=problem, act=act)


@router.post("/problems/{ref}/close")
def close(
    request: Request, pages: PageRenderer, session: DbSession, viewer: PageMember, problem: ProblemByRef
) -> Response:
    """After the closing time: reveal the private leaderboard and pay the bounty and the data dividend."""

    def act() -> str:
        service.close(session=session, actor=viewer, problem=problem)
        return f"/problems/{problem.slug}/leaderboard?board=private"

    return _act(request, pages=pages, session=session, viewer=viewer, problem=problem, act=act)


# --- the leaderboards --------------------------------------------------------------------------------------


@router.get("/problems/{ref}/leaderboard")
def leaderboard(  # noqa: PLR0917 (FastAPI passes what the route declares)
    request: Request,
    pages: PageRenderer,
    session: DbSession,
    viewer: OptionalMember,
    problem: ProblemByRef,
    paging: Paging,
    board: Board = "public",
) -> Response:
    """Teams by their best public score with its 95% interval; the private board once the problem closed."""
    context = _page(viewer, problem=problem, board=board, rows=[], found=None, hidden=False)
    if board == "private" and problem.state != ProblemState.CLOSED:
        context["hidden"] = True
        status = ErrorCode.PROBLEM_STILL_OPEN.status
        return pages.render(request, "problems/leaderboard.html", context, status_code=status)
    found = standings.leaderboard(session=session, problem=problem, private=board == "private", page=paging)
    context |= {"rows": found.items, "found": found}
    return pages.render(request, "problems/leaderboard.html", context)


# --- a team's submissions -----------------------------------------------------------------------------------


@router.get("/problems/{ref}/submissions")
def submissions_page(
    request: Request, pages: PageRenderer, session: DbSession, viewer: PageMember, problem: ProblemByRef
) -> Response:
    """The viewer's team's submissions with their scores, errors and the choice of finals."""
    return pages.render(request, "problems/submissions.html", _mine(session, viewer, problem))


def _mine(session: Session, viewer: Member, problem: Problem, **context: Any) -> dict[str, Any]:
    found = service.my_submissions(session=session, member=viewer, problem=problem)
    return _page(
        viewer,
        problem=problem,
        submissions=found,
        history=score_history(found),
        choosing=problem.state == ProblemState.OPEN and utcnow() < problem.closes_at,
        max_finals=MAX_FINALS,
        **({"finals_errors": {}} | context),
    )


@router.post("/problems/{ref}/finals")
def choose_finals(  # noqa: PLR0917 (FastAPI passes what the route declares)
    request: Request,
    pages: PageRenderer,
    data: FormData,
    session: DbSession,
    viewer: PageMember,
    problem: ProblemByRef,
) -> Response:
    """Choose the one or two submissions the private leaderboard ranks the team by."""
    try:
        chosen = _listed(data.get("finals", []))
        if not all(value.isdigit() for value in chosen):
            raise CommonsError(ErrorCode.VALIDATION_FAILED, "choose submissions from the list")
        ids = [int(value) for value in chosen]
        service.select_finals(session=session, member=viewer, problem=problem, submission_ids=ids)
    except CommonsError as error:
        errors, status = refusal(session, error, {})
        context = _mine(session, viewer, problem, finals_errors=errors)
        return pages.render(request, "problems/submissions.html", context, status_code=status)
    return see_other(f"/problems/{problem.slug}/submissions")


# --- the score history as a chart -------------------------------------------------------------------------


@dataclass(frozen=True)
class Point:
    """A scored submission: its public score at `y`, its 95% interval from `low` to `high` (y grows down)."""

    x: float
    y: float
    low: float
    high: float
    title: str


@dataclass(frozen=True)
class History:
    """An inline SVG chart of public scores over time, laid out here so that the template only draws it."""

    width: int
    height: int
    points: list[Point]
    labels: list[Label]

    @property
    def line(self) -> str:
        return " ".join(f"{point.x},{point.y}" for point in self.points)


HISTORY_WIDTH = 320
HISTORY_HEIGHT = 120
LEFT = 44
BOTTOM = 16


def score_history(submissions: Sequence[Submission]) -> History | None:
    """The scored submissions' public scores by time (oldest first); None when none is scored yet."""
    scored = sorted(
        (found for found in submissions if found.state == SubmissionState.SCORED),
        key=lambda found: found.created_at,
    )
    if not scored:
        return None
    bottom, top = _score_range(scored)
    place_x = _time_scale([found.created_at for found in scored])

    def place_y(score: float) -> float:
        return round(HISTORY_HEIGHT * (top - score) / (top - bottom), 1)

    points = [_point(found, place_x(found.created_at), place_y) for found in scored]
    return History(HISTORY_WIDTH, HISTORY_HEIGHT + BOTTOM, points, _axes(bottom, top, scored))


def _score_range(scored: Sequence[Submission]) -> tuple[float, float]:
    values = [value for found in scored for value in _interval(found)]
    bottom, top = min(values), max(values)
    if top == bottom:
        return bottom - 0.5, top + 0.5
    return bottom, top


def _interval(found: Submission) -> tuple[float, float, float]:
    score = found.public_score or 0.0
    low = found.public_low if found.public_low is not None else score
    high = found.public_high if found.public_high is not None else score
    return low, score, high


def _time_scale(times: Sequence[datetime]) -> Callable[[datetime], float]:
    first, span, width = times[0], (times[-1] - times[0]).total_seconds(), HISTORY_WIDTH - LEFT - 8

    def place(moment: datetime) -> float:
        if not span:
            return float(LEFT + width // 2)
        return round(LEFT + width * (moment - first).total_seconds() / span, 1)

    return place


def _point(found: Submission, x: float, place_y: Callable[[float], float]) -> Point:
    low, score, high = _interval(found)
    when = f"{found.created_at:%d %b %H:%M}"
    title = f"#{found.id}, {when}: {score:.4g} (95% CI {low:.4g} to {high:.4g})"
    return Point(x, place_y(score), place_y(low), place_y(high), title)


def _axes(bottom: float, top: float, scored: Sequence[Submission]) -> list[Label]:
    axis = HISTORY_HEIGHT + 13
    return [
        Label(LEFT - 4, 9, f"{top:.4g}", "end"),
        Label(LEFT - 4, HISTORY_HEIGHT, f"{bottom:.4g}", "end"),
        Label(LEFT, axis, f"{scored[0].created_at:%d %b}"),
        Label(HISTORY_WIDTH - 8, axis, f"{scored[-1].created_at:%d %b}", "end"),
    ]
