"""Who comes: answers to events, the first-come waitlist and its automatic promotion, and a member's events.

Every change to who has a place happens under the event's row lock (SELECT … FOR UPDATE on PostgreSQL;
SQLite's transactions take the write lock up front), so two people never get the same last place and
the waitlist keeps the order in which people asked."""

from datetime import timedelta

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session

from aicommons.communities import service as communities
from aicommons.communities.models import Community, Membership, MembershipStatus, Visibility
from aicommons.core import ratelimit
from aicommons.core.db import utcnow
from aicommons.core.errors import CommonsError, ErrorCode
from aicommons.core.pagination import Page, PageRequest, paginate
from aicommons.events import log, permissions
from aicommons.events.models import Answer, Event, Rsvp
from aicommons.events.permissions import Action
from aicommons.events.schemas import When
from aicommons.members.models import Member
from aicommons.members.notifications import notify

ANSWER_CHANGES = ratelimit.Limit(30, timedelta(minutes=10))


def lock(session: Session, event: Event) -> Event:
    """Wait for the event's row lock, then read its counts afresh."""
    query = select(Event).where(Event.id == event.id).with_for_update(of=Event)
    return session.scalars(query.execution_options(populate_existing=True)).one()


def answer(*, session: Session, event: Event, member: Member, choice: Answer) -> Rsvp:
    """Going, interested or declined, for the whole series. Going beyond capacity joins the waitlist;
    giving up a place hands it to the first in line."""
    lock(session, event)
    _require_open(session, event, member)
    rsvp = rsvp_of(session, event, member)
    if rsvp is not None and rsvp.answer == choice:
        return rsvp
    ratelimit.hit(session, f"events:rsvp:member:{member.id}", ANSWER_CHANGES)
    if rsvp is None:
        rsvp = Rsvp(event=event, member=member, answer=choice)
        session.add(rsvp)
    else:
        _give_up(event, rsvp)
    rsvp.answer, rsvp.updated_at = choice, utcnow()
    if choice == Answer.GOING:
        _take_place_or_wait(event, rsvp)
    data = {"answer": str(choice), "waitlisted": rsvp.waitlisted}
    log.record(session, "events:rsvp:set", event, actor_id=member.id, data=data)
    promote(session, event)
    session.flush()
    return rsvp


def _require_open(session: Session, event: Event, member: Member) -> None:
    permissions.require_answer(
        event.community, member, communities.membership_of(session, event.community, member)
    )
    if event.cancelled:
        raise CommonsError(ErrorCode.EVENT_CANCELLED, "the event is cancelled")
    if event.over_at <= utcnow():
        raise CommonsError(ErrorCode.EVENT_OVER, "the event is over: answers are closed")
    if event.community.archived:
        raise CommonsError(ErrorCode.COMMUNITY_ARCHIVED, f"{event.community.slug} is archived")


def _give_up(event: Event, rsvp: Rsvp) -> None:
    """Leave whatever the answer held: a place or a spot in line."""
    if rsvp.has_place:
        event.going_count -= 1
    elif rsvp.waitlisted:
        event.waitlist_count -= 1
    rsvp.waitlisted_at = None


def _take_place_or_wait(event: Event, rsvp: Rsvp) -> None:
    if event.waitlist_count == 0 and (event.capacity is None or event.going_count < event.capacity):
        event.going_count += 1
    else:
        rsvp.waitlisted_at = utcnow()
        event.waitlist_count += 1


def promote(session: Session, event: Event) -> list[Rsvp]:
    """Give free places to the first in line, in the order they asked, and tell them (call under the lock)."""
    free = event.waitlist_count if event.capacity is None else event.capacity - event.going_count
    if free <= 0 or event.waitlist_count == 0:
        return []
    session.flush()
    first = session.scalars(_waitlist(event).limit(min(free, event.waitlist_count))).all()
    for rsvp in first:
        rsvp.waitlisted_at, rsvp.updated_at = None, utcnow()
        event.waitlist_count -= 1
        event.going_count += 1
        _tell(session, rsvp.member_id, event, "waitlist", f"A place for you: {event.title}")
        log.record(
            session, "events:waitlist:promote", event, actor_id=None, subject={"member": rsvp.member_id}
        )
    return list(first)


def _waitlist(event: Event) -> Select[Rsvp]:
    return (
        select(Rsvp)
        .where(Rsvp.event_id == event.id, Rsvp.waitlisted_at.is_not(None))
        .order_by(Rsvp.waitlisted_at, Rsvp.id)
    )


def tell_cancelled(session: Session, event: Event) -> None:
    """Everyone going or waiting learns that the event is cancelled."""
    going = session.scalars(
        select(Rsvp.member_id).where(Rsvp.event_id == event.id, Rsvp.answer == Answer.GOING)
    )
    for member_id in going:
        _tell(session, member_id, event, "event", f"Cancelled: {event.title}")


def _tell(session: Session, member_id: int, event: Event, kind: str, title: str) -> None:
    notify(session, member_id, kind=kind, title=title, body=f"{event.community.name}", url=event.path)


def rsvp_of(session: Session, event: Event, member: Member | None) -> Rsvp | None:
    if member is None:
        return None
    return session.scalar(select(Rsvp).where(Rsvp.event_id == event.id, Rsvp.member_id == member.id))


def position(session: Session, rsvp: Rsvp) -> int | None:
    """Where a waiting answer stands in line: 1 is next."""
    if rsvp.waitlisted_at is None:
        return None
    ahead = select(func.count()).where(
        Rsvp.event_id == rsvp.event_id,
        Rsvp.waitlisted_at.is_not(None),
        or_(
            Rsvp.waitlisted_at < rsvp.waitlisted_at,
            and_(Rsvp.waitlisted_at == rsvp.waitlisted_at, Rsvp.id < rsvp.id),
        ),
    )
    return (session.scalar(ahead) or 0) + 1


def attendees(
    *, session: Session, viewer: Member, event: Event, choice: Answer, page: PageRequest
) -> Page[Rsvp]:
    """Who answered `choice`, for the event's organizers: places first, then the waitlist in order."""
    permissions.require(
        Action.SEE_ATTENDEES, viewer, communities.membership_of(session, event.community, viewer)
    )
    query = select(Rsvp).where(Rsvp.event_id == event.id, Rsvp.answer == choice)
    in_line = Rsvp.waitlisted_at.is_not(None)
    return paginate(session, query.order_by(in_line, Rsvp.waitlisted_at, Rsvp.updated_at, Rsvp.id), page)


def mine(*, session: Session, member: Member, when: When, page: PageRequest) -> Page[Rsvp]:
    """A member's going and interested answers, for events they may still see."""
    now = utcnow()
    query = (
        select(Rsvp)
        .join(Event, Event.id == Rsvp.event_id)
        .join(Community, Community.id == Event.community_id)
        .where(
            Rsvp.member_id == member.id,
            Rsvp.answer != Answer.DECLINED,
            Event.over_at > now if when == When.UPCOMING else Event.over_at <= now,
            or_(Community.visibility == Visibility.PUBLIC, Community.id.in_(_active_in(member))),
        )
    )
    order = (
        (Event.starts_at, Event.id) if when == When.UPCOMING else (Event.starts_at.desc(), Event.id.desc())
    )
    return paginate(session, query.order_by(*order), page)


def _active_in(member: Member) -> Select[int]:
    return select(Membership.community_id).where(
        Membership.member_id == member.id, Membership.status == MembershipStatus.ACTIVE
    )


def may_join_online(session: Session, event: Event, viewer: Member | None) -> bool:
    """The link to join online is for those with a place, and for the event's organizers."""
    if viewer is None:
        return False
    rsvp = rsvp_of(session, event, viewer)
    membership = communities.membership_of(session, event.community, viewer)
    return (rsvp is not None and rsvp.has_place) or permissions.may(Action.EDIT, viewer, membership)
