"""Tables of the insights domain: insights and their topics, replies, endorsements, reuse, subscriptions."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from aicommons.communities.models import Community
from aicommons.core.db import Base, UTCDateTime, utcnow
from aicommons.core.markdown import plain
from aicommons.insights import fulltext
from aicommons.members.models import Member


class Kind(StrEnum):
    INSIGHT = "insight"
    QUESTION = "question"
    IDEA = "idea"
    LESSON = "lesson-learned"
    RESOURCE = "resource"


class Audience(StrEnum):
    NETWORK = "network"  # every community of the commons (when its own community is public)
    COMMUNITY = "community"  # the members of its community only


class Facet(StrEnum):
    """What an insight is filed under; also what a member may subscribe to (sector, tag, community)."""

    SECTOR = "sector"
    SDG = "sdg"
    TAG = "tag"
    RISK = "risk"  # a domain of the MIT AI Risk Repository
    COMMUNITY = "community"


class Insight(Base):
    __tablename__ = "insight"
    __table_args__ = (
        # The feed walks the primary key (or a topic's index); see docs/decisions/0022.
        Index("ix_insight_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id", ondelete="CASCADE"))  # also a topic
    author_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    kind: Mapped[Kind] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    audience: Mapped[Audience] = mapped_column(String(16))
    license: Mapped[str] = mapped_column(String(32))
    evidence: Mapped[list[str]] = mapped_column(JSON, default=list)
    endorsement_count: Mapped[int] = mapped_column(Integer, default=0)
    reply_count: Mapped[int] = mapped_column(Integer, default=0)
    reuse_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    community: Mapped[Community] = relationship(lazy="selectin")
    author: Mapped[Member | None] = relationship(lazy="selectin")
    topics: Mapped[list["InsightTopic"]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="InsightTopic.value"
    )

    def _filed_under(self, facet: Facet) -> list[str]:
        return [topic.value for topic in self.topics if topic.facet == facet]

    @property
    def sectors(self) -> list[str]:
        return self._filed_under(Facet.SECTOR)

    @property
    def sdgs(self) -> list[int]:
        return sorted(int(goal) for goal in self._filed_under(Facet.SDG))

    @property
    def tags(self) -> list[str]:
        return self._filed_under(Facet.TAG)

    @property
    def risks(self) -> list[str]:
        return self._filed_under(Facet.RISK)

    @property
    def summary(self) -> str:
        """The text without its Markdown, cut short: for lists, feeds and digests."""
        return plain(self.body, 180)

    @property
    def community_slug(self) -> str:
        return self.community.slug

    @property
    def community_name(self) -> str:
        return self.community.name

    @property
    def author_handle(self) -> str | None:
        return self.author.handle if self.author else None

    @property
    def author_name(self) -> str:
        return self.author.display_name if self.author else "a former member"


fulltext.index(Insight.__table__)


class InsightTopic(Base):
    """One community, sector, goal, tag or risk domain an insight is filed under: the feed's filters walk
    (facet, value, insight_id) from the newest insight."""

    __tablename__ = "insight_topic"
    __table_args__ = (Index("ix_insight_topic_value", "facet", "value", "insight_id"),)

    insight_id: Mapped[int] = mapped_column(ForeignKey("insight.id", ondelete="CASCADE"), primary_key=True)
    facet: Mapped[Facet] = mapped_column(String(16), primary_key=True)
    value: Mapped[str] = mapped_column(String(50), primary_key=True)


class Reply(Base):
    __tablename__ = "insight_reply"
    __table_args__ = (Index("ix_insight_reply_insight", "insight_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    insight_id: Mapped[int] = mapped_column(ForeignKey("insight.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)  # the question's answer

    author: Mapped[Member | None] = relationship(lazy="selectin")

    @property
    def author_handle(self) -> str | None:
        return self.author.handle if self.author else None

    @property
    def author_name(self) -> str:
        return self.author.display_name if self.author else "a former member"

    @property
    def accepted(self) -> bool:
        return self.accepted_at is not None


class Endorsement(Base):
    __tablename__ = "insight_endorsement"

    insight_id: Mapped[int] = mapped_column(ForeignKey("insight.id", ondelete="CASCADE"), primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Reuse(Base):
    """A community recording that it used another community's insight, with both communities' sectors as
    they were then, so that the commons can say across how many sectors an insight travelled."""

    __tablename__ = "insight_reuse"
    __table_args__ = (
        UniqueConstraint("insight_id", "community_id"),
        Index("ix_insight_reuse_community", "community_id"),
        Index("ix_insight_reuse_origin", "origin_community_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    insight_id: Mapped[int] = mapped_column(ForeignKey("insight.id", ondelete="CASCADE"))
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id", ondelete="CASCADE"))
    origin_community_id: Mapped[int] = mapped_column(ForeignKey("community.id", ondelete="CASCADE"))
    sectors: Mapped[list[str]] = mapped_column(JSON, default=list)
    origin_sectors: Mapped[list[str]] = mapped_column(JSON, default=list)
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    insight: Mapped[Insight] = relationship(lazy="selectin")
    community: Mapped[Community] = relationship(foreign_keys=[community_id], lazy="selectin")


class Subscription(Base):
    """A member following a sector, a tag or a community; the daily digest reads it."""

    __tablename__ = "insight_subscription"
    __table_args__ = (
        UniqueConstraint("member_id", "facet", "value"),
        Index("ix_insight_subscription_due", "last_digest_at", "member_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"))
    facet: Mapped[Facet] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(50))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_digest_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def feed(self) -> str:
        """Its public Atom feed: network insights only, since feed readers cannot log in (decision 0021)."""
        return f"/insights/feed.atom?{self.facet}={self.value}"
