"""Tables of the communities domain."""

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, SmallInteger, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from aicommons.core.db import Base, UTCDateTime, utcnow
from aicommons.members.models import Member


class Format(StrEnum):
    DISCUSSION = "discussion"
    EVENT = "event"
    PROJECT = "project"
    POLICY = "policy"
    STRATEGIC = "strategic"


class Visibility(StrEnum):
    PUBLIC = "public"
    PRIVATE = "private"


class JoinPolicy(StrEnum):
    OPEN = "open"
    APPROVAL = "approval"
    INVITE = "invite"


class Role(StrEnum):
    STEWARD = "steward"
    ORGANIZER = "organizer"
    MEMBER = "member"


class MembershipStatus(StrEnum):
    ACTIVE = "active"
    PENDING = "pending"  # asked to join an approval-only community
    INVITED = "invited"  # invited, has not accepted yet


class Community(Base):
    __tablename__ = "community"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(50), unique=True)
    name: Mapped[str] = mapped_column(String(80), index=True)
    format: Mapped[Format] = mapped_column(String(16), index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    region: Mapped[str] = mapped_column(String(16), index=True)
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    visibility: Mapped[Visibility] = mapped_column(String(16), default=Visibility.PUBLIC)
    join_policy: Mapped[JoinPolicy] = mapped_column(String(16), default=JoinPolicy.OPEN)
    registered: Mapped[bool] = mapped_column(Boolean, default=False)
    channels: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    member_count: Mapped[int] = mapped_column(Integer, default=0)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # No index: SQLite would pick it over ix_community_name and sort every open community per page.
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)

    sector_rows: Mapped[list["CommunitySector"]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="CommunitySector.sector"
    )
    sdg_rows: Mapped[list["CommunitySdg"]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="CommunitySdg.goal"
    )

    @property
    def sectors(self) -> list[str]:
        return [row.sector for row in self.sector_rows]

    @property
    def sdgs(self) -> list[int]:
        return [row.goal for row in self.sdg_rows]

    @property
    def archived(self) -> bool:
        return self.archived_at is not None


class CommunitySector(Base):
    __tablename__ = "community_sector"
    __table_args__ = (Index("ix_community_sector_sector", "sector", "community_id"),)

    community_id: Mapped[int] = mapped_column(
        ForeignKey("community.id", ondelete="CASCADE"), primary_key=True
    )
    sector: Mapped[str] = mapped_column(String(32), primary_key=True)


class CommunitySdg(Base):
    __tablename__ = "community_sdg"
    __table_args__ = (Index("ix_community_sdg_goal", "goal", "community_id"),)

    community_id: Mapped[int] = mapped_column(
        ForeignKey("community.id", ondelete="CASCADE"), primary_key=True
    )
    goal: Mapped[int] = mapped_column(SmallInteger, primary_key=True)


class Membership(Base):
    __tablename__ = "membership"
    __table_args__ = (
        UniqueConstraint("community_id", "member_id"),
        Index("ix_membership_member", "member_id", "status"),
        Index("ix_membership_community_status", "community_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"))
    role: Mapped[Role] = mapped_column(String(16), default=Role.MEMBER)
    status: Mapped[MembershipStatus] = mapped_column(String(16), default=MembershipStatus.ACTIVE)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    community: Mapped[Community] = relationship()
    member: Mapped[Member] = relationship(lazy="joined")

    @property
    def community_slug(self) -> str:
        return self.community.slug

    @property
    def member_handle(self) -> str:
        return self.member.handle

    @property
    def member_display_name(self) -> str:
        return self.member.display_name


class CommunityStats(Base):
    """Figures about a community, recomputed by a background job."""

    __tablename__ = "community_stats"

    community_id: Mapped[int] = mapped_column(
        ForeignKey("community.id", ondelete="CASCADE"), primary_key=True
    )
    figures: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    refreshed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CommunityReward(Base):
    """The reward for creating or registering a community, owed to one member: paid once the community has
    enough established members besides those it rewards, and the member is under the period's cap
    (communities/rewards.py, decision 0046). `amount` is what was minted (0 while waiting)."""

    __tablename__ = "community_reward"
    __table_args__ = (
        UniqueConstraint("community_id", "event", "member_id"),
        Index("ix_community_reward_member", "member_id", "event", "paid_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"))
    event: Mapped[str] = mapped_column(String(64))
    amount: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
