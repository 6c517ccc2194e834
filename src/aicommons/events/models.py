"""Tables of the events domain: events, the answers members give them, what they produced, calendar feeds."""

from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from aicommons.communities.models import Community
from aicommons.core.db import Base, UTCDateTime, utcnow
from aicommons.events import recurrence
from aicommons.members.models import Member


class EventKind(StrEnum):
    MEETUP = "meetup"
    WORKSHOP = "workshop"
    HACKATHON = "hackathon"
    ROUNDTABLE = "roundtable"
    WEBINAR = "webinar"


class AttendanceMode(StrEnum):
    ONLINE = "online"
    IN_PERSON = "in-person"
    HYBRID = "hybrid"


class EventStatus(StrEnum):
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"


class Answer(StrEnum):
    GOING = "going"
    INTERESTED = "interested"
    DECLINED = "declined"


class OutcomeKind(StrEnum):
    INSIGHT = "insight"
    CONCERN = "concern"
    RECOMMENDATION = "recommendation"


class Event(Base):
    """An event of a community, once or as a series (an RRULE); its times are kept in UTC."""

    __tablename__ = "event"
    __table_args__ = (
        Index("ix_event_community_starts", "community_id", "starts_at"),
        Index("ix_event_over_starts", "over_at", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(120))
    kind: Mapped[EventKind] = mapped_column(String(16))
    mode: Mapped[AttendanceMode] = mapped_column(String(16))
    description: Mapped[str] = mapped_column(Text, default="")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the first occurrence's start
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the first occurrence's end
    over_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the last occurrence's end
    timezone: Mapped[str] = mapped_column(String(64))
    recurrence: Mapped[str] = mapped_column(String(300), default="")  # an RRULE, "" for a one-off
    location: Mapped[str] = mapped_column(String(200), default="")
    online_url: Mapped[str] = mapped_column(String(500), default="")
    capacity: Mapped[int | None] = mapped_column(Integer, default=None)
    going_count: Mapped[int] = mapped_column(Integer, default=0)  # with a place, not waiting
    waitlist_count: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[EventStatus] = mapped_column(String(16), default=EventStatus.SCHEDULED)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    community: Mapped[Community] = relationship(lazy="selectin")
    outcomes: Mapped[list["Outcome"]] = relationship(
        back_populates="event", cascade="all, delete-orphan", lazy="selectin", order_by="Outcome.id"
    )

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def cancelled(self) -> bool:
        return self.status == EventStatus.CANCELLED

    @property
    def community_slug(self) -> str:
        return self.community.slug

    @property
    def community_name(self) -> str:
        return self.community.name

    @property
    def remaining(self) -> int | None:
        """Places left, or None when the event takes everyone."""
        return None if self.capacity is None else max(0, self.capacity - self.going_count)

    @property
    def path(self) -> str:
        return f"/events/{self.id}"

    def next_starts(self, after: datetime, limit: int = 5) -> list[datetime]:
        """The starts (UTC) of the next occurrences still to end after `after`."""
        series = recurrence.Series(self.starts_at, self.ends_at - self.starts_at, self.zone, self.recurrence)
        return series.starts_after(after, limit)

    @property
    def upcoming_starts(self) -> list[datetime]:
        return self.next_starts(utcnow())


class Rsvp(Base):
    """A member's answer to an event (the whole series); a "going" beyond capacity waits its turn."""

    __tablename__ = "rsvp"
    __table_args__ = (
        UniqueConstraint("event_id", "member_id"),
        Index("ix_rsvp_member", "member_id", "answer"),
        Index("ix_rsvp_waitlist", "event_id", "waitlisted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"))
    answer: Mapped[Answer] = mapped_column(String(16))
    waitlisted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    event: Mapped[Event] = relationship(lazy="joined")
    member: Mapped[Member] = relationship(lazy="joined")

    @property
    def waitlisted(self) -> bool:
        return self.waitlisted_at is not None

    @property
    def handle(self) -> str:
        return self.member.handle

    @property
    def display_name(self) -> str:
        return self.member.display_name

    @property
    def has_place(self) -> bool:
        return self.answer == Answer.GOING and self.waitlisted_at is None


class Outcome(Base):
    """What an event produced: an insight, a concern (by link) or a recommendation (a link or a text)."""

    __tablename__ = "event_outcome"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    kind: Mapped[OutcomeKind] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(200))
    url: Mapped[str] = mapped_column(String(500), default="")
    note: Mapped[str] = mapped_column(Text, default="")  # Markdown
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    event: Mapped[Event] = relationship(back_populates="outcomes")


class CalendarFeed(Base):
    """A member's subscribable calendar: calendar apps cannot log in, so an unguessable token in the URL
    stands for the member; only its SHA-256 is kept."""

    __tablename__ = "calendar_feed"

    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"), primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    member: Mapped[Member] = relationship(lazy="joined")
