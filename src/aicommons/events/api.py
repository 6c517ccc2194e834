"""JSON routes of the events domain under /api/v1."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, status
from sqlalchemy.orm import Session

from aicommons.communities.loaders import CommunityBySlug
from aicommons.core.errors import CommonsError, ErrorCode
from aicommons.core.pagination import Paging
from aicommons.core.web import DbSession
from aicommons.events import attendance, feeds, service
from aicommons.events.models import Answer, Event, Rsvp
from aicommons.events.schemas import (
    AttendeePage,
    EventFilter,
    EventForm,
    EventPage,
    EventRead,
    EventUpdate,
    FeedRead,
    MyEventPage,
    MyEventRead,
    OutcomeCreate,
    OutcomeRead,
    RsvpRead,
    RsvpSet,
    When,
)
from aicommons.members.auth import CurrentMember, OptionalMember
from aicommons.members.models import Member

router = APIRouter(prefix="/api/v1", tags=["events"])


def event_by_id(event_id: int, session: DbSession, viewer: OptionalMember) -> Event:
    return service.get(session=session, event_id=event_id, viewer=viewer)


EventById = Annotated[Event, Depends(event_by_id)]


def present(session: Session, event: Event, viewer: Member | None) -> EventRead:
    """The event as this viewer may read it: the online link only for those going and its organizers."""
    shown = EventRead.model_validate(event)
    if not attendance.may_join_online(session, event, viewer):
        shown.online_url = None
    return shown


def answer_read(session: Session, rsvp: Rsvp) -> RsvpRead:
    return RsvpRead(
        event_id=rsvp.event_id,
        answer=rsvp.answer,
        waitlisted=rsvp.waitlisted,
        position=attendance.position(session, rsvp),
        updated_at=rsvp.updated_at,
    )


@router.get("/events")
def browse(
    filters: Annotated[EventFilter, Query()], page: Paging, session: DbSession, viewer: OptionalMember
) -> EventPage:
    """Upcoming (or past) events of the communities the viewer may see, by kind, mode and community format."""
    found = service.search(session=session, viewer=viewer, filters=filters, page=page)
    items = [present(session, event, viewer) for event in found.items]
    return EventPage(items=items, total=found.total, page=found.page, size=found.size)


@router.get("/communities/{slug}/events")
def community_events(
    community: CommunityBySlug,
    page: Paging,
    session: DbSession,
    viewer: OptionalMember,
    when: When = When.UPCOMING,
) -> EventPage:
    found = service.of_community(session=session, community=community, when=when, page=page)
    items = [present(session, event, viewer) for event in found.items]
    return EventPage(items=items, total=found.total, page=found.page, size=found.size)


@router.post("/communities/{slug}/events", status_code=status.HTTP_201_CREATED)
def schedule(
    community: CommunityBySlug, form: EventForm, actor: CurrentMember, session: DbSession
) -> EventRead:
    """Schedule an event (stewards and organizers): local `start` and `end` in the IANA `timezone`."""
    event = service.schedule(session=session, actor=actor, community=community, form=form)
    return present(session, event, actor)


@router.get("/events/{event_id}")
def show(event: EventById, session: DbSession, viewer: OptionalMember) -> EventRead:
    return present(session, event, viewer)


@router.patch("/events/{event_id}")
def edit(event: EventById, changes: EventUpdate, actor: CurrentMember, session: DbSession) -> EventRead:
    """Change an event; a higher capacity promotes people from the waitlist."""
    updated = service.update_event(session=session, actor=actor, event=event, changes=changes)
    return present(session, updated, actor)


@router.post("/events/{event_id}/cancel")
def cancel(event: EventById, actor: CurrentMember, session: DbSession) -> EventRead:
    return present(session, service.cancel(session=session, actor=actor, event=event), actor)


@router.put("/events/{event_id}/rsvp")
def answer(event: EventById, form: RsvpSet, member: CurrentMember, session: DbSession) -> RsvpRead:
    """Answer going, interested or declined (for a whole series); going beyond capacity joins the waitlist."""
    rsvp = attendance.answer(session=session, event=event, member=member, choice=form.answer)
    return answer_read(session, rsvp)


@router.get("/events/{event_id}/rsvp")
def my_answer(event: EventById, member: CurrentMember, session: DbSession) -> RsvpRead:
    rsvp = attendance.rsvp_of(session, event, member)
    if rsvp is None:
        raise CommonsError(ErrorCode.NOT_FOUND, "you have not answered this event")
    return answer_read(session, rsvp)


@router.get("/events/{event_id}/attendees")
def attendees(
    event: EventById, page: Paging, viewer: CurrentMember, session: DbSession, answer: Answer = Answer.GOING
) -> AttendeePage:
    """Who answered (`going` by default: places first, then the waitlist in order), for its organizers."""
    found = attendance.attendees(session=session, viewer=viewer, event=event, choice=answer, page=page)
    return AttendeePage.model_validate(found, from_attributes=True)


@router.post("/events/{event_id}/outcomes", status_code=status.HTTP_201_CREATED)
def link_outcome(
    event: EventById, form: OutcomeCreate, actor: CurrentMember, session: DbSession
) -> OutcomeRead:
    """Link what the event produced (an insight, a concern, a recommendation), once it has ended."""
    return OutcomeRead.model_validate(
        service.link_outcome(session=session, actor=actor, event=event, form=form)
    )


@router.get("/me/events")
def my_events(
    member: CurrentMember, page: Paging, session: DbSession, when: When = When.UPCOMING
) -> MyEventPage:
    """Your going and interested answers, soonest first (or, with `when=past`, latest first)."""
    found = attendance.mine(session=session, member=member, when=when, page=page)
    items = [
        MyEventRead(event=present(session, rsvp.event, member), rsvp=answer_read(session, rsvp))
        for rsvp in found.items
    ]
    return MyEventPage(items=items, total=found.total, page=found.page, size=found.size)


@router.post("/me/calendar-feed", status_code=status.HTTP_201_CREATED)
def new_calendar_feed(request: Request, member: CurrentMember, session: DbSession) -> FeedRead:
    """A new address for your calendar feed; the old one stops working. The address is shown only now."""
    feed, token = feeds.new_feed(session=session, member=member)
    return FeedRead(url=str(request.url_for("member_feed", token=token)), created_at=feed.created_at)
