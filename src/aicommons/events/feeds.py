"""Calendar feeds (iCalendar, RFC 5545): one event, a community's events, and a member's own feed.

Calendar apps cannot log in, so a member's feed lives at an address with an unguessable token; the
commons keeps only the token's SHA-256 and the member can replace it at any time. Such an address is
fetched by calendar services and easily shared, so it carries only public communities' events."""

from collections.abc import Sequence
from datetime import UTC, timedelta

import icalendar
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from aicommons.communities.models import Community, Visibility
from aicommons.core.db import utcnow
from aicommons.core.errors import CommonsError, ErrorCode
from aicommons.core.markdown import plain
from aicommons.core.security import new_secret, secret_hash
from aicommons.events.models import Answer, AttendanceMode, CalendarFeed, Event, Rsvp
from aicommons.members.models import Member

TOKEN_PREFIX = "aicf"
RECENT = timedelta(days=90)  # feeds keep events that ended this recently
MAX_EVENTS = 500
PRODUCT = "-//AI Commons//Events//EN"


def new_feed(*, session: Session, member: Member) -> tuple[CalendarFeed, str]:
    """A fresh feed address for the member (the old one stops working); the token is returned only now."""
    token = new_secret(TOKEN_PREFIX)
    feed = session.get(CalendarFeed, member.id) or CalendarFeed(member_id=member.id)
    feed.token_hash, feed.created_at = secret_hash(token), utcnow()
    session.add(feed)
    session.flush()
    return feed, token


def feed_of(session: Session, member: Member) -> CalendarFeed | None:
    return session.get(CalendarFeed, member.id)


def member_events(*, session: Session, token: str) -> tuple[Member, list[Event]]:
    """The member behind a feed token and the public events they go to or are interested in."""
    feed = session.scalar(select(CalendarFeed).where(CalendarFeed.token_hash == secret_hash(token)))
    if feed is None:
        raise CommonsError(ErrorCode.NOT_FOUND, "no such calendar feed (was its address replaced?)")
    query = (
        select(Event)
        .join(Rsvp, Rsvp.event_id == Event.id)
        .join(Community, Community.id == Event.community_id)
        .where(
            Rsvp.member_id == feed.member_id,
            Rsvp.answer.in_([Answer.GOING, Answer.INTERESTED]),
            Community.visibility == Visibility.PUBLIC,
            Event.over_at > utcnow() - RECENT,
        )
    )
    return feed.member, _first(session, query)


def community_events(*, session: Session, community: Community) -> list[Event]:
    """A community's events still to come and those that ended recently."""
    query = select(Event).where(Event.community_id == community.id, Event.over_at > utcnow() - RECENT)
    return _first(session, query)


def _first(session: Session, query: Select[Event]) -> list[Event]:
    return list(session.scalars(query.order_by(Event.starts_at, Event.id).limit(MAX_EVENTS)))


def calendar(events: Sequence[Event], *, name: str, base_url: str) -> bytes:
    """An iCalendar document of `events`, with the time zones they are kept in."""
    document = icalendar.Calendar()
    document.add("prodid", PRODUCT)
    document.add("version", "2.0")
    document.add("calscale", "GREGORIAN")
    document.add("method", "PUBLISH")
    document.add("x-wr-calname", name)
    for event in events:
        document.add_component(_entry(event, base_url.rstrip("/")))
    if events:
        first = min(event.starts_at for event in events).date() - timedelta(days=366)
        last = max(event.over_at for event in events).date() + timedelta(days=366)
        document.add_missing_timezones(first_date=first, last_date=last)
    return bytes(document.to_ical())


def _entry(event: Event, base_url: str) -> icalendar.Event:
    entry = icalendar.Event()
    entry.add("uid", f"event-{event.id}@{base_url.rsplit('://', maxsplit=1)[-1]}")
    entry.add("dtstamp", utcnow())
    entry.add("created", event.created_at.astimezone(UTC))
    entry.add("last-modified", event.updated_at.astimezone(UTC))
    entry.add("dtstart", event.starts_at.astimezone(event.zone))
    entry.add("dtend", event.ends_at.astimezone(event.zone))
    entry.add("summary", event.title)
    entry.add("description", plain(event.description, 2000))
    entry.add("url", base_url + event.path)
    entry.add("location", _where(event))
    entry.add("status", "CANCELLED" if event.cancelled else "CONFIRMED")
    entry.add("categories", [str(event.kind)])
    if event.recurrence:
        entry.add("rrule", icalendar.vRecur.from_ical(event.recurrence))
    return entry


def _where(event: Event) -> str:
    if event.mode == AttendanceMode.ONLINE:
        return "Online"
    return event.location + (" and online" if event.mode == AttendanceMode.HYBRID else "")
