"""HTML pages of the governance domain: proposals commons-wide and per community, the form by kind, a
proposal with its live tally and voting form, and the governable parameters."""

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session

from aicommons.communities import service as communities
from aicommons.communities.loaders import CommunityBySlug
from aicommons.communities.models import Community, Role
from aicommons.core.db import utcnow
from aicommons.core.errors import CommonsError, ErrorCode
from aicommons.core.pagination import PageRequest, Paging
from aicommons.core.web import (
    DbSession,
    FormData,
    PageRenderer,
    Pages,
    is_htmx,
    parse_form,
    query_filters,
    require_csrf,
    wants_fragment,
)
from aicommons.governance import actions, parameters, permissions, service, tally
from aicommons.governance.models import FINAL, Kind, Method, Proposal, State
from aicommons.governance.schemas import ACTIONS, ProposalCreate, ProposalFilter, Recipient
from aicommons.members.auth import OptionalMember, PageMember
from aicommons.members.models import Member
from aicommons.web.charts import Bar, Chart, Label
from aicommons.web.navigation import refusal, see_other

router = APIRouter(include_in_schema=False, dependencies=[Depends(require_csrf)])

KINDS = {
    Kind.SIGNAL: ("Signal", "Ask the members what they think: yes or no, or options to approve or rank."),
    Kind.TREASURY_TRANSFER: (
        "Treasury transfer",
        "Send tokens to a member, a community or a problem's bounty.",
    ),
    Kind.PARAMETER_CHANGE: ("Parameter change", "Change a reward amount, the data dividend or another rule."),
    Kind.DATASET_ADMISSION: (
        "Dataset admission",
        "Admit an open dataset to the commons, with a token subsidy.",
    ),
    Kind.MEMBERSHIP: ("Membership decision", "Appoint a steward or an organizer of the community."),
}
METHODS = {
    Method.ONE_MEMBER: "One member, one vote",
    Method.TOKEN: "Token-weighted (tokens held at the snapshot)",
    Method.QUADRATIC: "Quadratic (square root of tokens held)",
    Method.APPROVAL: "Approval (approve any of several options)",
    Method.RANKED: "Ranked choice (instant runoff over several options)",
}
STATE_BADGES = {State.DRAFT: "warn", State.DEFEATED: "quiet", State.CANCELED: "quiet", State.EXPIRED: "quiet"}
CHOICES = {
    "states": [(state.value, state.value.capitalize()) for state in State],
    "kinds": [(kind.value, label) for kind, (label, _) in KINDS.items()],
    "recipients": [(recipient.value, recipient.value.capitalize()) for recipient in Recipient],
    "roles": [(role.value, role.value.capitalize()) for role in Role],
}
FIELD_OF = {
    Kind.TREASURY_TRANSFER: {
        ErrorCode.MEMBER_NOT_FOUND: "to",
        ErrorCode.COMMUNITY_NOT_FOUND: "to",
        ErrorCode.PROBLEM_NOT_FOUND: "to",
        ErrorCode.PROBLEM_CLOSED: "to",
        ErrorCode.VALIDATION_FAILED: "to",
    },
    Kind.PARAMETER_CHANGE: {ErrorCode.VALIDATION_FAILED: "value"},
    Kind.DATASET_ADMISSION: {
        ErrorCode.DATASET_NOT_FOUND: "dataset",
        ErrorCode.WRONG_POLICY: "dataset",
        ErrorCode.DATASET_ADMITTED: "dataset",
    },
    Kind.MEMBERSHIP: {ErrorCode.MEMBER_NOT_FOUND: "handle", ErrorCode.NOT_MEMBER: "handle"},
}
CHART_WIDTH, LABEL_WIDTH, ROW_HEIGHT = 360, 110, 24


class BrowseFilter(BaseModel):
    state: State | None = None
    kind: Kind | None = None


def proposal_by_id(proposal_id: int, session: DbSession, viewer: OptionalMember) -> Proposal:
    """The proposal, or the 404 page for anyone who may not see its community."""
    return service.get(session=session, proposal_id=proposal_id, viewer=viewer)


def browse_filters(request: Request) -> BrowseFilter:
    return query_filters(BrowseFilter, request)


ProposalById = Annotated[Proposal, Depends(proposal_by_id)]
Filters = Annotated[BrowseFilter, Depends(browse_filters)]


def _page(viewer: Member | None, **context: Any) -> dict[str, Any]:
    return {
        "viewer": viewer,
        "choices": CHOICES,
        "kinds": KINDS,
        "methods": METHODS,
        "state_badges": STATE_BADGES,
        **context,
    }


# --- lists --------------------------------------------------------------------------------------------


@router.get("/governance")
def browse(
    *,
    request: Request,
    pages: PageRenderer,
    session: DbSession,
    viewer: OptionalMember,
    filters: Filters,
    page: Paging,
) -> Response:
    """Commons-wide proposals; an HTMX request from the filter form gets only the results."""
    return _listing(
        request, pages, session=session, viewer=viewer, community=None, filters=filters, page=page
    )


@router.get("/communities/{slug}/governance")
def community_proposals(
    *,
    request: Request,
    pages: PageRenderer,
    session: DbSession,
    viewer: OptionalMember,
    community: CommunityBySlug,
    filters: Filters,
    page: Paging,
) -> Response:
    return _listing(
        request, pages, session=session, viewer=viewer, community=community, filters=filters, page=page
    )


def _listing(
    request: Request,
    pages: Pages,
    *,
    session: Session,
    viewer: Member | None,
    community: Community | None,
    filters: BrowseFilter,
    page: PageRequest,
) -> Response:
    wanted = ProposalFilter(community=community.slug if community else None, **filters.model_dump())
    found = service.search(session=session, viewer=viewer, filters=wanted, page=page)
    template = "governance/_results.html" if wants_fragment(request, "results") else "governance/browse.html"
    may_propose = permissions.is_member(session, community, viewer)
    context = _page(viewer, found=found, filters=filters, community=community, may_propose=may_propose)
    response = pages.render(request, template, context)
    response.headers["Vary"] = "HX-Request, HX-Target"
    return response


@router.get("/governance/parameters")
def parameters_page(
    request: Request, pages: PageRenderer, session: DbSession, viewer: OptionalMember
) -> Response:
    """Every governable parameter, its range and current value, and what changed it last."""
    return pages.render(
        request, "governance/parameters.html", _page(viewer, current=parameters.current(session))
    )


# --- a new proposal -----------------------------------------------------------------------------------


@router.get("/governance/new")
def new_page(
    *,
    request: Request,
    pages: PageRenderer,
    session: DbSession,
    viewer: PageMember,
    community: Annotated[str | None, Query(max_length=50)] = None,
    kind: Annotated[Kind | None, Query()] = None,
    name: Annotated[str, Query(max_length=80)] = "",
) -> Response:
    """First the kind (each fits a commons-wide or a community proposal), then the form for that kind."""
    place = communities.get(session=session, slug=community, viewer=viewer) if community else None
    values = {
        "method": Method.ONE_MEMBER.value,
        "name": name,
        "role": Role.STEWARD.value,
        "recipient": "member",
    }
    return _form(
        request, pages, session=session, viewer=viewer, community=place, kind=kind, values=values, errors={}
    )


def _form(
    request: Request,
    pages: Pages,
    *,
    session: Session,
    viewer: Member,
    community: Community | None,
    kind: Kind | None,
    values: dict[str, Any],
    errors: dict[str, str],
    status_code: int = 200,
) -> Response:
    allowed = permissions.COMMONS_KINDS if community is None else permissions.COMMUNITY_KINDS
    context = _page(
        viewer,
        community=community,
        kind=kind if kind in allowed else None,
        allowed=[kind for kind in KINDS if kind in allowed],
        values=values,
        errors=errors,
        governable=parameters.current(session),
    )
    return pages.render(request, "governance/new.html", context, status_code=status_code)


@router.post("/governance/new")
def create(
    request: Request, pages: PageRenderer, data: FormData, session: DbSession, viewer: PageMember
) -> Response:
    kind = Kind(data["kind"]) if data.get("kind") in set(Kind) else Kind.SIGNAL
    community = (
        communities.get(session=session, slug=data["community"], viewer=viewer)
        if data.get("community")
        else None
    )
    form, errors = _proposal_form(session, kind, data)
    status = 422
    if form is not None:
        try:
            proposal = service.create(session=session, proposer=viewer, form=form)
        except CommonsError as error:
            errors, status = refusal(session, error, FIELD_OF.get(kind, {}))
        else:
            return see_other(f"/governance/{proposal.id}")
    context: dict[str, Any] = {"community": community, "kind": kind, "values": data, "errors": errors}
    return _form(request, pages, session=session, viewer=viewer, status_code=status, **context)


def _proposal_form(
    session: Session, kind: Kind, data: dict[str, Any]
) -> tuple[ProposalCreate | None, dict[str, str]]:
    """The form's fields as the API takes them, or what is wrong with each (all at once)."""
    errors: dict[str, str] = {}
    action = None
    if kind in ACTIONS:
        try:
            model = ACTIONS[kind]
            action = parse_form(
                model, {key: value for key, value in data.items() if key in model.model_fields}
            )
        except ValidationError as error:
            errors |= refusal(session, error, {}).errors
    base = {key: data.get(key, "") for key in ("community", "title", "body", "method")}
    options = [line.strip() for line in str(data.get("options", "")).splitlines() if line.strip()]
    try:
        form = parse_form(
            ProposalCreate, base | {"options": options} | ({"action": action} if action else {})
        )
    except ValidationError as error:
        return None, refusal(session, error, {}).errors | errors
    return (form if not errors else None), errors


# --- a proposal ---------------------------------------------------------------------------------------


@router.get("/governance/{proposal_id}")
def show(
    *,
    request: Request,
    pages: PageRenderer,
    session: DbSession,
    viewer: OptionalMember,
    proposal: ProposalById,
    page: Paging,
) -> Response:
    if wants_fragment(request, "votes"):
        context = {"proposal": proposal, "labels": tally.labels(proposal.method, proposal.options)}
        return pages.render(request, "governance/_votes.html", context | _votes(session, proposal, page))
    return pages.render(request, "governance/show.html", _detail(session, viewer, proposal, page))


def _detail(
    session: Session,
    viewer: Member | None,
    proposal: Proposal,
    page: PageRequest | None = None,
    **context: Any,
) -> dict[str, Any]:
    return _page(
        viewer,
        proposal=proposal,
        summary=actions.summary(proposal),
        may=_may(session, viewer, proposal),
        steps=service.steps(session=session, proposal=proposal),
        threshold=parameters.value(session, parameters.PROPOSAL_THRESHOLD),
        **_tally(session, proposal),
        **_ballot(session, viewer, proposal),
        **_votes(session, proposal, page or PageRequest()),
        **context,
    )


def _may(session: Session, viewer: Member | None, proposal: Proposal) -> dict[str, bool]:
    now = utcnow()
    queued = proposal.state == State.QUEUED and proposal.eta is not None and proposal.eta <= now
    return {
        "submit": viewer is not None and viewer.id == proposal.proposer_id and proposal.state == State.DRAFT,
        "cancel": proposal.state not in FINAL and permissions.may_cancel(session, viewer, proposal),
        "execute": viewer is not None and queued,
    }


def _tally(session: Session, proposal: Proposal) -> dict[str, Any]:
    document = service.published(session=session, proposal=proposal)
    shown = tally.labels(proposal.method, proposal.options)
    spoken = ", ".join(f"{label} {figure:,}" for label, figure in zip(shown, document["counts"], strict=True))
    chart = tally_chart(shown, document["counts"])
    return {"result": document, "labels": shown, "chart": chart, "description": f"Tally: {spoken}"}


def tally_chart(labels: list[str], counts: list[int]) -> Chart | None:
    """A bar for each choice (or option), longest for the most power; None before the first vote."""
    top = max(counts, default=0)
    if top == 0:
        return None
    span = CHART_WIDTH - LABEL_WIDTH - 60
    bars, marks = [], []
    for row, (label, figure) in enumerate(zip(labels, counts, strict=True)):
        width, y = round(span * figure / top, 1), row * ROW_HEIGHT
        bars.append(Bar(LABEL_WIDTH, y + 4, max(width, 0.5), ROW_HEIGHT - 8, f"{label}: {figure:,}"))
        marks.append(Label(LABEL_WIDTH - 4, y + 16, label if len(label) <= 18 else label[:17] + "…", "end"))
        marks.append(Label(LABEL_WIDTH + width + 4, y + 16, f"{figure:,}"))
    return Chart("tally", CHART_WIDTH, ROW_HEIGHT * len(labels), bars, marks)


def _ballot(session: Session, viewer: Member | None, proposal: Proposal) -> dict[str, Any]:
    """The viewer's power, whether they are in the electorate, and their votes (the newest counts)."""
    if viewer is None:
        return {"power": 0, "elector": False, "mine": []}
    mine = service.votes_of(session=session, proposal=proposal, member=viewer)
    return {
        "power": service.voting_power(session=session, proposal=proposal, member=viewer),
        "elector": service.is_elector(session=session, proposal=proposal, member=viewer),
        "mine": mine,
    }


def _votes(session: Session, proposal: Proposal, page: PageRequest) -> dict[str, Any]:
    return {"votes": service.votes(session=session, proposal=proposal, page=page)}


@router.get("/governance/{proposal_id}/tally")
def tally_fragment(
    request: Request, pages: PageRenderer, session: DbSession, proposal: ProposalById
) -> Response:
    """The tally section alone: it polls itself while the voting runs."""
    return pages.render(
        request, "governance/_tally.html", {"proposal": proposal, **_tally(session, proposal)}
    )


@router.post("/governance/{proposal_id}/vote")
def vote(
    *,
    request: Request,
    pages: PageRenderer,
    data: FormData,
    session: DbSession,
    viewer: PageMember,
    proposal: ProposalById,
) -> Response:
    """Vote or change one's vote; from HTMX, answer with the ballot section and tell the tally to reload."""
    try:
        service.cast(session=session, voter=viewer, proposal=proposal, choice=choice_of(proposal, data))
    except CommonsError as error:
        message = refusal(session, error, {}).errors["form"]
        failed: dict[str, Any] = {"vote_error": message, "status_code": error.code.status}
        return _ballot_page(request, pages, session=session, viewer=viewer, proposal=proposal, **failed)
    if not is_htmx(request):
        return see_other(f"/governance/{proposal.id}#ballot")
    response = _ballot_page(request, pages, session=session, viewer=viewer, proposal=proposal, voted=True)
    response.headers["HX-Trigger"] = "vote-cast"
    return response


def choice_of(proposal: Proposal, data: dict[str, Any]) -> Any:
    """The form's choice as the service takes it: a word; approved option numbers; or options by rank."""
    if proposal.method == Method.APPROVAL:
        return [int(number) for number in _listed(data.get("approve")) if number.isdigit()]
    if proposal.method == Method.RANKED:
        ranks = {
            int(key.removeprefix("rank-")): value
            for key, value in data.items()
            if key.startswith("rank-") and key[5:].isdigit()
        }
        chosen = sorted((int(rank), option) for option, rank in ranks.items() if str(rank).isdigit())
        if len({rank for rank, _ in chosen}) != len(chosen):
            raise CommonsError(ErrorCode.INVALID_CHOICE, "give each option a different rank")
        return [option for _, option in chosen]
    return data.get("choice", "")


def _listed(value: Any) -> list[str]:
    return value if isinstance(value, list) else [value] if isinstance(value, str) else []


def _ballot_page(
    request: Request,
    pages: Pages,
    *,
    session: Session,
    viewer: Member,
    proposal: Proposal,
    status_code: int = 200,
    **context: Any,
) -> Response:
    if is_htmx(request):
        fragment = _page(viewer, proposal=proposal, **_ballot(session, viewer, proposal), **context)
        return pages.render(request, "governance/_ballot.html", fragment, status_code=status_code)
    return pages.render(
        request,
        "governance/show.html",
        _detail(session, viewer, proposal, **context),
        status_code=status_code,
    )


@router.post("/governance/{proposal_id}/{step}")
def move(
    *,
    request: Request,
    step: Literal["submit", "cancel", "execute"],
    pages: PageRenderer,
    session: DbSession,
    viewer: PageMember,
    proposal: ProposalById,
) -> Response:
    """Submit a draft, cancel, or execute once the timelock has passed."""
    try:
        _take(step, session, viewer, proposal)
    except CommonsError as error:
        message = refusal(session, error, {}).errors["form"]
        context = _detail(session, viewer, proposal, action_error=message)
        return pages.render(request, "governance/show.html", context, status_code=error.code.status)
    return see_other(f"/governance/{proposal.id}")


def _take(step: str, session: Session, viewer: Member, proposal: Proposal) -> None:
    if step == "submit":
        service.submit(session=session, actor=viewer, proposal=proposal)
    elif step == "cancel":
        service.cancel(session=session, actor=viewer, proposal=proposal)
    else:
        service.execute(session=session, proposal=proposal, actor=viewer)
