"""Tables and words of the journeys domain: the stages of a member's journey, and private visits."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from aicommons.core.db import Base, UTCDateTime, utcnow


class Stage(StrEnum):
    """How far a member has come in a community, in order: each stage is higher than the one before."""

    DISCOVERED = "discovered"
    JOINED = "joined"
    CONTRIBUTED = "contributed"
    PARTICIPATING = "participating"
    NETWORKED = "networked"
    LEADING = "leading"

    @property
    def rank(self) -> int:
        return RANKS[self]


RANKS = {stage: number for number, stage in enumerate(Stage)}


class CommunityVisit(Base):
    """A member looked at a community's page: when first and when last. Kept off the public log."""

    __tablename__ = "community_visit"
    __table_args__ = (Index("ix_community_visit_member", "member_id", "community_id"),)

    community_id: Mapped[int] = mapped_column(
        ForeignKey("community.id", ondelete="CASCADE"), primary_key=True
    )
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"), primary_key=True)
    first_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
