"""JSON routes of the concerns domain under /api/v1/concerns."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, status

from aicommons.concerns import aiid, presentation, service
from aicommons.concerns.models import Concern, Status
from aicommons.concerns.people import Asker
from aicommons.concerns.schemas import (
    AiidSubmission,
    ConcernCreate,
    ConcernPage,
    ConcernRead,
    ConcernReceived,
    CorroborationCreate,
    CorroborationRead,
    Escalation,
    FlagCreate,
    FlagRead,
    HideCreate,
    Merge,
    ResponderCreate,
    ResponderRead,
    ResponseCreate,
    ResponseRead,
    StatusChangeCreate,
    TriageTags,
)
from aicommons.core.pagination import Page, Paging
from aicommons.core.web import AppSettings, DbSession
from aicommons.members.auth import CurrentMember, OptionalMember

router = APIRouter(prefix="/api/v1/concerns", tags=["concerns"])


def concern_by_id(concern_id: int, session: DbSession, viewer: OptionalMember) -> Concern:
    return service.get(session=session, concern_id=concern_id, viewer=viewer)


ConcernById = Annotated[Concern, Depends(concern_by_id)]


def _page(found: Page[Concern]) -> ConcernPage:
    items = [presentation.summary(concern) for concern in found.items]
    return ConcernPage(items=items, total=found.total, page=found.page, size=found.size)


def public_url(request: Request, path: str) -> str:
    return f"{str(request.base_url).rstrip('/')}{path}"


@router.get("")
def browse(page: Paging, session: DbSession, status: Status | None = None) -> ConcernPage:
    """Concerns anyone may see, newest first; `status` narrows the list."""
    return _page(service.browse(session=session, status=status, page=page))


@router.post("", status_code=status.HTTP_201_CREATED)
def raise_concern(
    form: ConcernCreate, request: Request, person: Asker, session: DbSession
) -> ConcernReceived:
    """Raise a concern, with or without an account. The answer holds the private tracking link, once."""
    received = service.receive(session=session, form=form, person=person)
    read = service.read(session=session, concern=received.concern, viewer=None, tracking=True)
    url = public_url(request, f"/concerns/track/{received.token}")
    return ConcernReceived(concern=read, tracking_token=received.token, tracking_url=url)


@router.get("/mine")
def mine(page: Paging, session: DbSession, member: CurrentMember) -> ConcernPage:
    """The concerns you raised while signed in, hidden ones too."""
    return _page(service.mine(session=session, member=member, page=page))


@router.get("/moderation")
def moderation_queue(page: Paging, session: DbSession, actor: CurrentMember) -> ConcernPage:
    """Hidden and flagged concerns, for moderators."""
    return _page(service.moderation_queue(session=session, actor=actor, page=page))


@router.get("/track/{token}")
def track(token: str, session: DbSession) -> ConcernRead:
    """A concern by its private tracking token: every status change and its reason."""
    concern = service.by_token(session=session, token=token)
    return service.read(session=session, concern=concern, viewer=None, tracking=True)


@router.post("/responders", status_code=status.HTTP_201_CREATED)
def name_responder(form: ResponderCreate, session: DbSession, actor: CurrentMember) -> ResponderRead:
    """Name a member who answers for the deploying organisation (moderators)."""
    responder = service.name_responder(session=session, actor=actor, form=form)
    return ResponderRead(
        handle=form.handle,
        organisation=responder.organisation,
        concern=responder.concern_id,
        ai_tool=form.ai_tool,
    )


@router.get("/{concern_id}")
def show(concern: ConcernById, session: DbSession, viewer: OptionalMember) -> ConcernRead:
    return service.read(session=session, concern=concern, viewer=viewer)


@router.post("/{concern_id}/status")
def move(
    concern: ConcernById, change: StatusChangeCreate, session: DbSession, actor: CurrentMember
) -> ConcernRead:
    service.move(session=session, actor=actor, concern=concern, change=change)
    return service.read(session=session, concern=concern, viewer=actor)


@router.put("/{concern_id}/tags")
def triage(concern: ConcernById, tags: TriageTags, session: DbSession, actor: CurrentMember) -> ConcernRead:
    service.triage(session=session, actor=actor, concern=concern, tags=tags)
    return service.read(session=session, concern=concern, viewer=actor)


@router.post("/{concern_id}/merge")
def merge(concern: ConcernById, form: Merge, session: DbSession, actor: CurrentMember) -> ConcernRead:
    """Close this concern as a duplicate of `into`; the answer is the concern that is kept."""
    kept = service.merge(session=session, actor=actor, concern=concern, into=form.into)
    return service.read(session=session, concern=kept, viewer=actor)


@router.post("/{concern_id}/escalate")
def escalate(concern: ConcernById, form: Escalation, session: DbSession, actor: CurrentMember) -> ConcernRead:
    service.escalate(session=session, actor=actor, concern=concern, form=form)
    return service.read(session=session, concern=concern, viewer=actor)


@router.get("/{concern_id}/aiid")
def aiid_submission(concern: ConcernById, request: Request, settings: AppSettings) -> AiidSubmission:
    """The concern in the AI Incident Database's submission shape (escalated to the AIID only)."""
    url = public_url(request, f"/concerns/{concern.id}")
    return aiid.submission(concern, url=url, commons=settings.name)


@router.post("/{concern_id}/corroborations", status_code=status.HTTP_201_CREATED)
def corroborate(
    concern: ConcernById, form: CorroborationCreate, person: Asker, session: DbSession
) -> CorroborationRead:
    """ "I have seen this too", with your sector; anyone, once."""
    added = service.corroborate(session=session, concern=concern, person=person, sector=form.sector)
    return CorroborationRead.model_validate(added)


@router.post("/{concern_id}/flags", status_code=status.HTTP_201_CREATED)
def flag(
    concern: ConcernById, form: FlagCreate, person: Asker, session: DbSession, response: Response
) -> FlagRead:
    """Flag spam, an off-topic concern or personal data; a repeated flag answers 200 and changes nothing."""
    flagged = service.flag(session=session, concern=concern, person=person, reason=form.reason)
    if not flagged.new:
        response.status_code = status.HTTP_200_OK
    return FlagRead(reason=flagged.flag.reason, created_at=flagged.flag.created_at, hidden=concern.hidden)


@router.post("/{concern_id}/hide")
def hide(concern: ConcernById, form: HideCreate, session: DbSession, actor: CurrentMember) -> ConcernRead:
    """Keep a concern hidden (or hide it) after reviewing its flags (moderators)."""
    service.hide(session=session, actor=actor, concern=concern, reason=form.reason)
    return service.read(session=session, concern=concern, viewer=actor)


@router.post("/{concern_id}/restore")
def restore(concern: ConcernById, session: DbSession, actor: CurrentMember) -> ConcernRead:
    """Show a hidden concern again (moderators)."""
    service.restore(session=session, actor=actor, concern=concern)
    return service.read(session=session, concern=concern, viewer=actor)


@router.post("/{concern_id}/responses", status_code=status.HTTP_201_CREATED)
def respond(
    concern: ConcernById, form: ResponseCreate, session: DbSession, actor: CurrentMember
) -> ResponseRead:
    """The deploying organisation's response, by a member a moderator named for it."""
    posted = service.respond(session=session, actor=actor, concern=concern, form=form)
    return ResponseRead(organisation=posted.organisation, body=posted.body, created_at=posted.created_at)
