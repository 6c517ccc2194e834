"""The rules of events: who schedules, finds, changes and cancels them, and links what they produced."""

from datetime import UTC, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, or_, select
from sqlalchemy.orm import Session

from aicommons.communities import service as communities
from aicommons.communities.models import Community, Membership, MembershipStatus, Visibility
from aicommons.core import ratelimit
from aicommons.core.db import utcnow
from aicommons.core.errors import CommonsError, ErrorCode
from aicommons.core.pagination import Page, PageRequest, paginate
from aicommons.events import attendance, log, permissions
from aicommons.events.models import Event, EventStatus, Outcome
from aicommons.events.permissions import Action
from aicommons.events.recurrence import Series
from aicommons.events.schemas import EventFilter, EventForm, EventUpdate, OutcomeCreate, When
from aicommons.members.models import GlobalRole, Member

MAX_AHEAD = timedelta(days=3 * 366)
MAX_OUTCOMES = 50
SCHEDULING = ratelimit.Limit(20, timedelta(hours=1))


def schedule(*, session: Session, actor: Member, community: Community, form: EventForm) -> Event:
    """A new event of `community`, by one of its stewards or organizers."""
    _require(session, Action.SCHEDULE, actor, community)
    if community.archived:
        raise CommonsError(ErrorCode.COMMUNITY_ARCHIVED, f"{community.slug} is archived")
    ratelimit.hit(session, f"events:schedule:member:{actor.id}", SCHEDULING)
    event = Event(community=community, created_by_id=actor.id, going_count=0, waitlist_count=0)
    _set_fields(event, form)
    _check_start(event)
    session.add(event)
    session.flush()
    facts = {"kind": str(event.kind), "mode": str(event.mode), "recurring": bool(event.recurrence)}
    log.record(session, "events:event:schedule", event, actor_id=actor.id, data=facts)
    return event


def _set_fields(event: Event, form: EventForm) -> None:
    values = form.model_dump(exclude={"start", "end"})
    for field, value in values.items():
        setattr(event, field, value)
    event.starts_at, event.ends_at = form.start.astimezone(UTC), form.end.astimezone(UTC)
    series = Series(event.starts_at, event.ends_at - event.starts_at, event.zone, event.recurrence)
    event.over_at = series.last_end()


def _check_start(event: Event) -> None:
    now = utcnow()
    if event.starts_at <= now:
        raise CommonsError(ErrorCode.VALIDATION_FAILED, "the start must be in the future")
    if event.starts_at > now + MAX_AHEAD:
        raise CommonsError(ErrorCode.VALIDATION_FAILED, "schedule at most three years ahead")


def get(*, session: Session, event_id: int, viewer: Member | None) -> Event:
    """The event, as long as the viewer may know it exists (404 otherwise, as for its community)."""
    event = session.get(Event, event_id)
    if event is None or not permissions.may_see(
        event.community, viewer, communities.membership_of(session, event.community, viewer)
    ):
        raise CommonsError(ErrorCode.EVENT_NOT_FOUND, f"no event {event_id}")
    return event


def search(
    *, session: Session, viewer: Member | None, filters: EventFilter, page: PageRequest
) -> Page[Event]:
    """Events across the communities the viewer may see (public ones, and their own)."""
    query = (
        select(Event)
        .join(Community, Community.id == Event.community_id)
        .where(_visible_to(viewer), *_matching(filters))
    )
    return paginate(session, _in_order(query, filters.when), page)


def of_community(*, session: Session, community: Community, when: When, page: PageRequest) -> Page[Event]:
    """A community's events (the caller has checked that the viewer may see the community)."""
    query = select(Event).where(Event.community_id == community.id, _when(when))
    return paginate(session, _in_order(query, when), page)


def _visible_to(viewer: Member | None) -> ColumnElement[bool]:
    public = Community.visibility == Visibility.PUBLIC
    if viewer is None:
        return public
    if viewer.role == GlobalRole.ADMIN:
        return Community.id.is_not(None)
    mine = select(Membership.community_id).where(
        Membership.member_id == viewer.id, Membership.status == MembershipStatus.ACTIVE
    )
    return or_(public, Community.id.in_(mine))


def _matching(filters: EventFilter) -> list[ColumnElement[bool]]:
    conditions = [_when(filters.when)]
    if filters.kind:
        conditions.append(Event.kind == filters.kind)
    if filters.mode:
        conditions.append(Event.mode == filters.mode)
    if filters.format:
        conditions.append(Community.format == filters.format)
    if filters.community:
        conditions.append(Community.slug == filters.community)
    return conditions


def _when(when: When) -> ColumnElement[bool]:
    """Upcoming: not over yet (a series until its last date ends); past: over."""
    return Event.over_at > utcnow() if when == When.UPCOMING else Event.over_at <= utcnow()


def _in_order(query: Select[Event], when: When) -> Select[Event]:
    if when == When.UPCOMING:
        return query.order_by(Event.starts_at, Event.id)
    return query.order_by(Event.starts_at.desc(), Event.id.desc())


def update_event(*, session: Session, actor: Member, event: Event, changes: EventUpdate) -> Event:
    """Change an event; a higher capacity promotes the first on the waitlist at once."""
    _require(session, Action.EDIT, actor, event.community)
    attendance.lock(session, event)
    _require_scheduled(event)
    before = _current_form(event)
    form = changes.applied_to(before)
    _set_fields(event, form)
    if event.starts_at != before["start"]:
        _check_start(event)
    event.updated_at = utcnow()
    changed = sorted(field for field, value in before.items() if getattr(form, field) != value)
    log.record(session, "events:event:update", event, actor_id=actor.id, data={"fields": changed})
    attendance.promote(session, event)
    session.flush()
    return event


def _current_form(event: Event) -> dict[str, Any]:
    fields = set(EventForm.model_fields) - {"start", "end"}
    current = {field: getattr(event, field) for field in fields}
    return current | {
        "start": event.starts_at.astimezone(event.zone),
        "end": event.ends_at.astimezone(event.zone),
    }


def cancel(*, session: Session, actor: Member, event: Event) -> Event:
    """Cancel what is left of an event; those who answered going are told."""
    _require(session, Action.CANCEL, actor, event.community)
    attendance.lock(session, event)
    if event.cancelled:
        return event
    if event.over_at <= utcnow():
        raise CommonsError(ErrorCode.EVENT_OVER, "the event is over: there is nothing left to cancel")
    event.status = EventStatus.CANCELLED
    event.updated_at = utcnow()
    log.record(session, "events:event:cancel", event, actor_id=actor.id)
    attendance.tell_cancelled(session, event)
    session.flush()
    return event


def link_outcome(*, session: Session, actor: Member, event: Event, form: OutcomeCreate) -> Outcome:
    """Link what the event produced, once its first session has ended."""
    _require(session, Action.LINK_OUTCOMES, actor, event.community)
    _require_scheduled(event)
    if event.ends_at > utcnow():
        raise CommonsError(ErrorCode.EVENT_NOT_OVER, "link what the event produced once it has ended")
    if len(event.outcomes) >= MAX_OUTCOMES:
        raise CommonsError(ErrorCode.VALIDATION_FAILED, f"an event lists at most {MAX_OUTCOMES} outcomes")
    outcome = Outcome(**form.model_dump(), created_by_id=actor.id)
    event.outcomes.append(outcome)
    session.flush()
    log.record(
        session,
        "events:outcome:link",
        event,
        actor_id=actor.id,
        data={"kind": str(outcome.kind), "outcome": outcome.id},
    )
    return outcome


def schedulable_communities(*, session: Session, member: Member) -> list[Community]:
    """The open communities where the member may schedule events (for the new-event form)."""
    query = select(Community).where(Community.archived_at.is_(None))
    if member.role != GlobalRole.ADMIN:
        query = query.join(Membership, Membership.community_id == Community.id).where(
            Membership.member_id == member.id,
            Membership.status == MembershipStatus.ACTIVE,
            Membership.role.in_(permissions.ALLOWED[Action.SCHEDULE]),
        )
    return list(session.scalars(query.order_by(Community.name).limit(200)))


def may(session: Session, action: Action, viewer: Member | None, event: Event) -> bool:
    return permissions.may(action, viewer, communities.membership_of(session, event.community, viewer))


def _require(session: Session, action: Action, actor: Member, community: Community) -> None:
    permissions.require(action, actor, communities.membership_of(session, community, actor))


def _require_scheduled(event: Event) -> None:
    if event.cancelled:
        raise CommonsError(ErrorCode.EVENT_CANCELLED, "the event is cancelled")
