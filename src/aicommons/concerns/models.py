"""Tables of the concerns domain: concerns, their status history, corroborations, flags and responses."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from aicommons.core.db import Base, UTCDateTime, utcnow


class Status(StrEnum):
    RECEIVED = "received"
    TRIAGED = "triaged"
    UNDER_DISCUSSION = "under-discussion"
    ESCALATED = "escalated"
    RESOLVED = "resolved"
    CLOSED = "closed"


class Harm(StrEnum):
    INCIDENT = "incident"  # harm has happened
    HAZARD = "hazard"  # harm could happen


class Worry(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    SEVERE = "severe"


class FlagReason(StrEnum):
    SPAM = "spam"
    OFF_TOPIC = "off-topic"
    PERSONAL_DATA = "personal-data"


class Concern(Base):
    """A concern about an AI system, raised by anyone; who raised it is never shown."""

    __tablename__ = "concern"
    __table_args__ = (Index("ix_concern_status", "status", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ai_tool: Mapped[str] = mapped_column(String(120))
    where_seen: Mapped[str] = mapped_column(String(200))
    what_happened: Mapped[str] = mapped_column(Text)
    who_affected: Mapped[str] = mapped_column(String(500))
    harm: Mapped[Harm] = mapped_column(String(16))
    worry: Mapped[Worry] = mapped_column(String(16))
    reporter_role: Mapped[str] = mapped_column(String(80), default="")
    contact: Mapped[str | None] = mapped_column(String(254), default=None)  # moderators only
    reporter_id: Mapped[int | None] = mapped_column(
        ForeignKey("member.id", ondelete="SET NULL"), index=True, default=None
    )
    tracking_hash: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[Status] = mapped_column(String(24), default=Status.RECEIVED)
    risk_entity: Mapped[str | None] = mapped_column(String(16), default=None)
    risk_intent: Mapped[str | None] = mapped_column(String(16), default=None)
    risk_timing: Mapped[str | None] = mapped_column(String(16), default=None)
    risk_domains: Mapped[list[str]] = mapped_column(JSON, default=list)
    harm_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    deployer: Mapped[str] = mapped_column(String(120), default="")
    developer: Mapped[str] = mapped_column(String(120), default="")
    escalated_to_id: Mapped[int | None] = mapped_column(
        ForeignKey("community.id", ondelete="SET NULL"), index=True, default=None
    )
    escalation_note: Mapped[str] = mapped_column(Text, default="")  # for the policy community only
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    exported_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)  # to the AIID
    merged_into_id: Mapped[int | None] = mapped_column(
        ForeignKey("concern.id", ondelete="SET NULL"), default=None
    )
    corroboration_count: Mapped[int] = mapped_column(Integer, default=0)
    flag_count: Mapped[int] = mapped_column(Integer, default=0)  # flags no moderator has reviewed yet
    hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    history: Mapped[list["StatusChange"]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="StatusChange.id"
    )
    responses: Mapped[list["OrganisationResponse"]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="OrganisationResponse.id"
    )

    @property
    def hidden(self) -> bool:
        return self.hidden_at is not None


class StatusChange(Base):
    """One step of a concern's lifecycle and the reason the reporter is given for it."""

    __tablename__ = "concern_status_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    concern_id: Mapped[int] = mapped_column(ForeignKey("concern.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[Status | None] = mapped_column(String(24), default=None)
    to_status: Mapped[Status] = mapped_column(String(24))
    reason: Mapped[str] = mapped_column(Text, default="")
    changed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("member.id", ondelete="SET NULL"), default=None
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Corroboration(Base):
    """Someone else has seen this too; `witness` is a member id or a keyed hash of an address, never shown."""

    __tablename__ = "concern_corroboration"
    __table_args__ = (UniqueConstraint("concern_id", "witness"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    concern_id: Mapped[int] = mapped_column(ForeignKey("concern.id", ondelete="CASCADE"))
    witness: Mapped[str] = mapped_column(String(80))
    sector: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Flag(Base):
    """A visitor's flag (spam, off-topic, personal data) waiting for, or settled by, a moderator."""

    __tablename__ = "concern_flag"
    __table_args__ = (UniqueConstraint("concern_id", "flagger"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    concern_id: Mapped[int] = mapped_column(ForeignKey("concern.id", ondelete="CASCADE"))
    flagger: Mapped[str] = mapped_column(String(80))
    reason: Mapped[FlagReason] = mapped_column(String(16))
    reviewed: Mapped[bool] = mapped_column(Boolean, default=False)
    # Whether it counts toward hiding the concern: an established member's or a moderator's (decision 0046).
    counts: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Responder(Base):
    """A member who answers for the organisation that deploys an AI tool: for one concern, or for every
    concern about a tool (`tool_key`, its name in lower case with single spaces)."""

    __tablename__ = "concern_responder"
    __table_args__ = (Index("ix_concern_responder_member", "member_id", "concern_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"))
    organisation: Mapped[str] = mapped_column(String(120))
    concern_id: Mapped[int | None] = mapped_column(ForeignKey("concern.id", ondelete="CASCADE"), default=None)
    tool_key: Mapped[str | None] = mapped_column(String(120), default=None)
    named_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("member.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OrganisationResponse(Base):
    """What the deploying organisation says about a concern, shown publicly under its name."""

    __tablename__ = "concern_response"

    id: Mapped[int] = mapped_column(primary_key=True)
    concern_id: Mapped[int] = mapped_column(ForeignKey("concern.id", ondelete="CASCADE"), index=True)
    responder_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    organisation: Mapped[str] = mapped_column(String(120))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
