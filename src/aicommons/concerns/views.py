"""HTML pages of the concerns domain: the public list, the short form, a concern's page with its forms, the
tracking page, a member's own concerns and the moderation queue."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from aicommons.communities import service as communities
from aicommons.communities.models import Format
from aicommons.communities.schemas import CommunityFilter
from aicommons.concerns import permissions, presentation, service
from aicommons.concerns.api import concern_by_id
from aicommons.concerns.models import Concern, FlagReason, Status
from aicommons.concerns.people import Asker
from aicommons.concerns.permissions import Action
from aicommons.concerns.schemas import (
    ConcernCreate,
    ConcernFilter,
    CorroborationCreate,
    Escalation,
    FlagCreate,
    HideCreate,
    Merge,
    ResponderCreate,
    ResponseCreate,
    StatusChangeCreate,
    TriageTags,
)
from aicommons.core.errors import CommonsError
from aicommons.core.pagination import Page, PageRequest, Paging
from aicommons.core.vocabulary import HarmType, RiskDomain, RiskEntity, RiskIntent, RiskTiming, Sector
from aicommons.core.web import (
    DbSession,
    FormData,
    PageRenderer,
    Pages,
    parse_form,
    query_filters,
    require_csrf,
    wants_fragment,
)
from aicommons.members.auth import OptionalMember, PageMember
from aicommons.members.models import Member
from aicommons.web.choices import labelled
from aicommons.web.navigation import refusal, see_other

router = APIRouter(include_in_schema=False, dependencies=[Depends(require_csrf)])


STATUS_LABELS = {status.value: status.value.replace("-", " ").capitalize() for status in Status}
HARM_LABELS = {
    "incident": "Yes, someone was harmed (an incident)",
    "hazard": "Not yet, but it could happen (a hazard)",
}
WORRY_LABELS = {
    "low": "A little",
    "medium": "Quite worried",
    "high": "Very worried",
    "severe": "Extremely: people could be badly hurt",
}
CHOICES = {
    "statuses": labelled(Status, STATUS_LABELS),
    "harms": list(HARM_LABELS.items()),
    "worries": list(WORRY_LABELS.items()),
    "sectors": labelled(Sector),
    "flag_reasons": labelled(FlagReason, {"personal-data": "It shows someone's personal data"}),
    "entities": labelled(RiskEntity, {"ai": "The AI system"}),
    "intents": labelled(RiskIntent),
    "timings": labelled(RiskTiming),
    "domains": labelled(
        RiskDomain,
        {
            "discrimination-toxicity": "Discrimination and toxicity",
            "privacy-security": "Privacy and security",
            "malicious-actors-misuse": "Malicious actors and misuse",
            "human-computer-interaction": "Human-computer interaction",
            "socioeconomic-environmental": "Socioeconomic and environmental",
            "system-safety-failures-limitations": "AI system safety, failures and limitations",
        },
    ),
    "harm_types": labelled(HarmType, {"economic-property": "Economic or property"}),
}
LABELS = {"status": STATUS_LABELS, "harm": HARM_LABELS, "worry": WORRY_LABELS}

ConcernById = Annotated[Concern, Depends(concern_by_id)]


def list_filters(request: Request) -> ConcernFilter:
    return query_filters(ConcernFilter, request)


def _page(viewer: Member | None, **context: Any) -> dict[str, Any]:
    return {"viewer": viewer, "choices": CHOICES, "labels": LABELS, "errors": {}, "values": {}, **context}


def _summaries(found: Page[Concern]) -> Page[Any]:
    items = [presentation.summary(concern) for concern in found.items]
    return Page(items=items, total=found.total, page=found.page, size=found.size)


@router.get("/concerns")
def browse(
    *,
    request: Request,
    pages: PageRenderer,
    session: DbSession,
    viewer: OptionalMember,
    filters: Annotated[ConcernFilter, Depends(list_filters)],
    page: Paging,
    flagged: bool = False,
) -> Response:
    """Concerns anyone may see; an HTMX request from the status filter gets only the results."""
    found = _summaries(service.browse(session=session, status=filters.status, page=page))
    template = "concerns/_results.html" if wants_fragment(request, "results") else "concerns/browse.html"
    context = _page(viewer, found=found, filters=filters, flagged=flagged)
    response = pages.render(request, template, context)
    response.headers["Vary"] = "HX-Request, HX-Target"
    return response


@router.get("/concerns/new")
def new_page(request: Request, pages: PageRenderer, viewer: OptionalMember) -> Response:
    return pages.render(request, "concerns/new.html", _page(viewer))


@router.post("/concerns/new")
def create(
    request: Request, pages: PageRenderer, data: FormData, session: DbSession, person: Asker
) -> Response:
    """Take the short form from anyone; the reporter goes on to the private tracking page."""
    try:
        received = service.receive(session=session, form=parse_form(ConcernCreate, data), person=person)
    except (ValidationError, CommonsError) as error:
        errors, status = refusal(session, error, {})
        context = _page(person.member, values=data, errors=errors)
        return pages.render(request, "concerns/new.html", context, status_code=status)
    return see_other(f"/concerns/track/{received.token}?new=1")


@router.get("/concerns/mine")
def mine(
    request: Request, pages: PageRenderer, session: DbSession, viewer: PageMember, page: Paging
) -> Response:
    found = _summaries(service.mine(session=session, member=viewer, page=page))
    return pages.render(request, "concerns/mine.html", _page(viewer, found=found))


@router.get("/concerns/moderation")
def moderation(
    request: Request, pages: PageRenderer, session: DbSession, viewer: PageMember, page: Paging
) -> Response:
    """Hidden and flagged concerns with their flags, and the concerns waiting for triage."""
    queued = service.moderation_queue(session=session, actor=viewer, page=page)
    waiting = service.browse(session=session, status=Status.RECEIVED, page=PageRequest(size=50))
    context = _page(
        viewer,
        found=_summaries(queued),
        flags=service.flag_tally(session=session, concerns=queued.items),
        waiting=_summaries(waiting).items,
        waiting_total=waiting.total,
        hide_at=service.HIDE_AT,
    )
    return pages.render(request, "concerns/moderation.html", context)


@router.get("/concerns/track/{token}")
def track(
    *,
    request: Request,
    token: str,
    pages: PageRenderer,
    session: DbSession,
    viewer: OptionalMember,
    new: bool = False,
) -> Response:
    """The reporter's private page: the concern, every status change with its reason, and responses."""
    concern = service.by_token(session=session, token=token)
    context = _detail(session, viewer, concern, tracking=True, new=new, tracking_path=request.url.path)
    response = pages.render(request, "concerns/show.html", context)
    response.headers["Referrer-Policy"] = "no-referrer"  # the token must not travel to other pages
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/concerns/{concern_id}")
def show(
    *,
    request: Request,
    pages: PageRenderer,
    session: DbSession,
    viewer: OptionalMember,
    concern: ConcernById,
    flagged: bool = False,
) -> Response:
    context = _detail(session, viewer, concern, flagged=flagged)
    return pages.render(request, "concerns/show.html", context)


def _detail(
    session: Session, viewer: Member | None, concern: Concern, *, tracking: bool = False, **context: Any
) -> dict[str, Any]:
    """A concern's page: what the viewer may read of it, and the forms they may use."""
    held = service.standing(session, concern, viewer)
    read = service.read(session=session, concern=concern, viewer=viewer, tracking=tracking)
    may = {action.name.lower(): permissions.may(action, held) and not tracking for action in Action}
    if may["escalate"]:
        context["policies"] = _policy_communities(session, viewer)
    next_statuses = [status for status in service.next_statuses(concern) if status != Status.ESCALATED]
    return _page(
        viewer,
        concern=read,
        tracking=tracking,
        may=may,
        next_statuses=next_statuses,
        may_escalate_now=Status.ESCALATED in service.next_statuses(concern),
        **context,
    )


def _policy_communities(session: Session, viewer: Member | None) -> list[tuple[str, str]]:
    filters = CommunityFilter(format=Format.POLICY)
    found = communities.search(session=session, viewer=viewer, filters=filters, page=PageRequest(size=100))
    return [(community.slug, community.name) for community in found.items]


@dataclass(frozen=True)
class ConcernForm:
    """A form posted on a concern's page, with what it takes to show the page again when it is refused."""

    request: Request
    pages: Pages
    session: Session
    concern: Concern

    def handle(
        self, viewer: Member | None, form: str, data: dict[str, Any], act: Callable[[], str]
    ) -> Response:
        """Do `act` and go where it says, or show the concern again with what was wrong next to `form`."""
        try:
            target = act()
        except (ValidationError, CommonsError) as error:
            errors, status = refusal(self.session, error, {})
            context = _detail(self.session, viewer, self.concern, errors={form: errors}, values={form: data})
            return self.pages.render(self.request, "concerns/show.html", context, status_code=status)
        return see_other(target)


def concern_form(
    request: Request, pages: PageRenderer, session: DbSession, concern: ConcernById
) -> ConcernForm:
    return ConcernForm(request, pages, session, concern)


Posted = Annotated[ConcernForm, Depends(concern_form)]


@router.post("/concerns/{concern_id}/corroborate")
def corroborate(posted: Posted, data: FormData, person: Asker) -> Response:
    """ "I have seen this too", with the sector the person works in."""
    session, concern = posted.session, posted.concern

    def act() -> str:
        sector = parse_form(CorroborationCreate, data).sector
        service.corroborate(session=session, concern=concern, person=person, sector=sector)
        return f"/concerns/{concern.id}#corroborations"

    return posted.handle(person.member, "corroborate", data, act)


@router.post("/concerns/{concern_id}/flag")
def flag(posted: Posted, data: FormData, person: Asker) -> Response:
    """Flag for the moderators; a concern that hides itself sends the flagger back to the list."""
    session, concern = posted.session, posted.concern

    def act() -> str:
        reason = parse_form(FlagCreate, data).reason
        service.flag(session=session, concern=concern, person=person, reason=reason)
        visible = permissions.may_see(concern, service.standing(session, concern, person.member))
        return f"/concerns/{concern.id}?flagged=true#flag" if visible else "/concerns?flagged=true"

    return posted.handle(person.member, "flag", data, act)


@router.post("/concerns/{concern_id}/status")
def move(posted: Posted, data: FormData, viewer: PageMember) -> Response:
    session, concern = posted.session, posted.concern

    def act() -> str:
        change = parse_form(StatusChangeCreate, data)
        service.move(session=session, actor=viewer, concern=concern, change=change)
        return f"/concerns/{concern.id}#history"

    return posted.handle(viewer, "status", data, act)


TAG_FIELDS = ("risk_entity", "risk_intent", "risk_timing", "deployer", "developer")


@router.post("/concerns/{concern_id}/tags")
def triage(posted: Posted, data: FormData, viewer: PageMember) -> Response:
    """Set every tag at once: a field left empty clears it."""
    session, concern = posted.session, posted.concern

    def act() -> str:
        fields = {name: data.get(name, "") for name in TAG_FIELDS}
        lists = {name: data.get(name, []) for name in ("risk_domains", "harm_types")}
        tags = parse_form(TriageTags, fields | lists)
        service.triage(session=session, actor=viewer, concern=concern, tags=tags)
        return f"/concerns/{concern.id}#tags"

    return posted.handle(viewer, "tags", data, act)


@router.post("/concerns/{concern_id}/merge")
def merge(posted: Posted, data: FormData, viewer: PageMember) -> Response:
    """Close this concern as a duplicate; the moderator lands on the concern that is kept."""
    session, concern = posted.session, posted.concern

    def act() -> str:
        kept = service.merge(
            session=session, actor=viewer, concern=concern, into=parse_form(Merge, data).into
        )
        return f"/concerns/{kept.id}"

    return posted.handle(viewer, "merge", data, act)


@router.post("/concerns/{concern_id}/escalate")
def escalate(posted: Posted, data: FormData, viewer: PageMember) -> Response:
    session, concern = posted.session, posted.concern

    def act() -> str:
        service.escalate(session=session, actor=viewer, concern=concern, form=parse_form(Escalation, data))
        return f"/concerns/{concern.id}#escalation"

    return posted.handle(viewer, "escalate", data, act)


@router.post("/concerns/{concern_id}/hide")
def hide(posted: Posted, data: FormData, viewer: PageMember) -> Response:
    """Keep hidden (or hide) after looking at the flags; back to the queue."""
    session, concern = posted.session, posted.concern

    def act() -> str:
        reason = parse_form(HideCreate, data).reason
        service.hide(session=session, actor=viewer, concern=concern, reason=reason)
        return "/concerns/moderation"

    return posted.handle(viewer, "hide", data, act)


@router.post("/concerns/{concern_id}/restore")
def restore(posted: Posted, viewer: PageMember) -> Response:
    session, concern = posted.session, posted.concern

    def act() -> str:
        service.restore(session=session, actor=viewer, concern=concern)
        return f"/concerns/{concern.id}"

    return posted.handle(viewer, "hide", {}, act)


@router.post("/concerns/{concern_id}/responders")
def name_responder(posted: Posted, data: FormData, viewer: PageMember) -> Response:
    """Name who answers for the deploying organisation: on this concern, or on every one about its tool."""
    session, concern = posted.session, posted.concern

    def act() -> str:
        scope = {"ai_tool": concern.ai_tool} if data.get("scope") == "tool" else {"concern": concern.id}
        fields = {key: value for key, value in data.items() if key in ("handle", "organisation")}
        service.name_responder(
            session=session, actor=viewer, form=parse_form(ResponderCreate, fields | scope)
        )
        return f"/concerns/{concern.id}#responses"

    return posted.handle(viewer, "responder", data, act)


@router.post("/concerns/{concern_id}/responses")
def respond(posted: Posted, data: FormData, viewer: PageMember) -> Response:
    session, concern = posted.session, posted.concern

    def act() -> str:
        service.respond(session=session, actor=viewer, concern=concern, form=parse_form(ResponseCreate, data))
        return f"/concerns/{concern.id}#responses"

    return posted.handle(viewer, "response", data, act)
