"""Tables of the governance domain: proposals, their electorates, the votes cast on them, and the steps of
their lifecycle."""

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from aicommons.communities.models import Community
from aicommons.core.db import Base, UTCDateTime, utcnow
from aicommons.members.models import Member


class Kind(StrEnum):
    SIGNAL = "signal"  # text only: what the members think
    TREASURY_TRANSFER = "treasury_transfer"  # tokens from the treasury (or a community's account)
    PARAMETER_CHANGE = "parameter_change"  # a governable parameter of the commons
    DATASET_ADMISSION = "dataset_admission"  # an open dataset admitted to the commons, with a subsidy
    MEMBERSHIP = "membership"  # a role in the community, such as appointing a steward


class Method(StrEnum):
    ONE_MEMBER = "one_member"  # one member, one vote
    TOKEN = "token"  # power = tokens held at the snapshot
    QUADRATIC = "quadratic"  # power = the integer square root of those tokens
    APPROVAL = "approval"  # a multi-option signal: approve any number of options
    RANKED = "ranked"  # a multi-option signal: rank options, counted by instant runoff


class State(StrEnum):
    DRAFT = "draft"
    PENDING = "pending"  # submitted; voting opens after the voting delay
    ACTIVE = "active"  # voting
    DEFEATED = "defeated"
    SUCCEEDED = "succeeded"
    QUEUED = "queued"  # waiting out its timelock
    EXECUTED = "executed"
    CANCELED = "canceled"
    EXPIRED = "expired"  # queued, but could not be executed within the grace period


FINAL = frozenset({State.DEFEATED, State.EXECUTED, State.CANCELED, State.EXPIRED})


class Proposal(Base):
    __tablename__ = "proposal"
    __table_args__ = (
        Index("ix_proposal_scope", "community_id", "state", "id"),
        Index("ix_proposal_state", "state", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int | None] = mapped_column(ForeignKey("community.id", ondelete="CASCADE"))
    proposer_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    kind: Mapped[Kind] = mapped_column(String(24))
    method: Mapped[Method] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(160))
    body: Mapped[str] = mapped_column(Text, default="")  # Markdown
    options: Mapped[list[str]] = mapped_column(JSON, default=list)  # approval and ranked votes
    action: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # what executing it does
    state: Mapped[State] = mapped_column(String(16), default=State.DRAFT)
    rules: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)  # the parameters when submitted
    # The worker's next look at it (voting opens or closes, the timelock passes); none once it is final.
    next_step_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    voting_starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    voting_ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    quorum_reached_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    eta: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)  # executable from
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)  # reached a final state
    snapshot: Mapped[int | None] = mapped_column(BigInteger, default=None)  # log size when voting opened
    electorate: Mapped[int | None] = mapped_column(BigInteger, default=None)  # eligible power then
    quorum: Mapped[int | None] = mapped_column(BigInteger, default=None)
    extended: Mapped[bool] = mapped_column(default=False)  # quorum came late: the voting ran longer
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)  # the tally at the close
    outcome: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)  # what the execution did
    last_error: Mapped[str] = mapped_column(String(500), default="")  # why the last execution failed

    community: Mapped[Community | None] = relationship(lazy="joined")
    proposer: Mapped[Member | None] = relationship(lazy="joined")

    @property
    def commons_wide(self) -> bool:
        return self.community_id is None

    @property
    def community_slug(self) -> str | None:
        return self.community.slug if self.community is not None else None

    @property
    def proposer_handle(self) -> str | None:
        return self.proposer.handle if self.proposer is not None else None

    @property
    def multi_option(self) -> bool:
        return self.method in (Method.APPROVAL, Method.RANKED)


class Vote(Base):
    """A vote as cast; a changed vote is superseded by the next one of the same voter, and only the last
    counts."""

    __tablename__ = "vote"
    __table_args__ = (
        Index("ix_vote_current", "proposal_id", "superseded_at", "id"),
        Index("ix_vote_voter", "proposal_id", "voter_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposal.id", ondelete="CASCADE"))
    voter_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"))
    choice: Mapped[Any] = mapped_column(JSON)  # "for", "against", "abstain", or a list of option numbers
    power: Mapped[int] = mapped_column(BigInteger)
    cast_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    superseded_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)

    voter: Mapped[Member] = relationship(lazy="joined")

    @property
    def voter_handle(self) -> str:
        return self.voter.handle

    @property
    def current(self) -> bool:
        return self.superseded_at is None


class Elector(Base):
    """A member of a proposal's electorate, fixed when its voting opened: a member of the commons (of the
    community, for its proposals) in the log's first `snapshot` entries (governance/electorate.py)."""

    __tablename__ = "elector"

    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposal.id", ondelete="CASCADE"), primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"), primary_key=True)


class ProposalStep(Base):
    """A moment of a proposal's lifecycle, for its timeline: the state it entered (or `extended`, `failed`),
    when, and who moved it (nobody when the worker did, as time passed)."""

    __tablename__ = "proposal_step"
    __table_args__ = (Index("ix_proposal_step_proposal", "proposal_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposal.id", ondelete="CASCADE"))
    step: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    note: Mapped[str] = mapped_column(String(300), default="")

    actor: Mapped[Member | None] = relationship(lazy="joined")

    @property
    def actor_handle(self) -> str | None:
        return self.actor.handle if self.actor is not None else None
