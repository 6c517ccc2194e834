"""Tables of the problems domain: problems, teams, submissions and what they declared they used."""

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from aicommons.core.db import Base, UTCDateTime, utcnow
from aicommons.members.models import Member


class ProblemState(StrEnum):
    DRAFT = "draft"  # the owner is still setting it up; the bounty is not yet in escrow
    OPEN = "open"  # published: the bounty is in escrow, solvers submit between opens_at and closes_at
    CLOSED = "closed"  # the private leaderboard is revealed and the bounty paid


class PayoutRule(StrEnum):
    WINNER = "winner"  # the winner takes all
    TOP3 = "top3"  # 50%, 30%, 20% to the first three


class RequestKind(StrEnum):
    INVITATION = "invitation"  # a member of the team invited the member; the member accepts or declines
    REQUEST = "request"  # the member asked to join; a member of the team approves or declines


class RequestState(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"  # the member joined the team
    DECLINED = "declined"


class SubmissionState(StrEnum):
    QUEUED = "queued"
    SCORED = "scored"
    FAILED = "failed"  # a bad file or a stuck job: it does not count against the limits


class Problem(Base):
    __tablename__ = "problem"
    __table_args__ = (Index("ix_problem_state_closes", "state", "closes_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(60), unique=True)
    title: Mapped[str] = mapped_column(String(120))
    statement: Mapped[str] = mapped_column(Text, default="")  # Markdown
    task: Mapped[str] = mapped_column(String(16))
    metric: Mapped[str] = mapped_column(String(24))
    id_column: Mapped[str] = mapped_column(String(120))
    target_column: Mapped[str] = mapped_column(String(120))
    classes: Mapped[list[Any]] = mapped_column(JSON, default=list)  # classification: the labels
    input_columns: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    input_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("dataset_version.id", ondelete="SET NULL")
    )
    evaluation_blob: Mapped[str | None] = mapped_column(String(64))  # never downloadable
    evaluation_rows: Mapped[int] = mapped_column(BigInteger, default=0)
    public_percent: Mapped[int] = mapped_column(Integer, default=30)
    split_seed: Mapped[int] = mapped_column(BigInteger)
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime)
    daily_limit: Mapped[int] = mapped_column(Integer, default=5)
    total_limit: Mapped[int] = mapped_column(Integer, default=100)
    team_size_limit: Mapped[int] = mapped_column(Integer, default=5)
    bounty: Mapped[int] = mapped_column(BigInteger, default=0)
    payout_rule: Mapped[PayoutRule] = mapped_column(String(16), default=PayoutRule.WINNER)
    dividend_percent: Mapped[int] = mapped_column(Integer, default=10)
    state: Mapped[ProblemState] = mapped_column(String(16), default=ProblemState.DRAFT)
    rank_correlation: Mapped[float | None] = mapped_column(Float, default=None)  # public vs private, at close
    owner_member_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    owner_community_id: Mapped[int | None] = mapped_column(ForeignKey("community.id", ondelete="SET NULL"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)

    target_rows: Mapped[list["ProblemTarget"]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="ProblemTarget.target"
    )
    dataset_rows: Mapped[list["ProblemDataset"]] = relationship(cascade="all, delete-orphan", lazy="selectin")

    @property
    def sdg_targets(self) -> list[str]:
        return [row.target for row in self.target_rows]

    @property
    def dataset_versions(self) -> list[int]:
        return sorted(row.version_id for row in self.dataset_rows)


class ProblemTarget(Base):
    """An SDG target a problem serves, e.g. 2.1; its goal is kept for the catalog's filter."""

    __tablename__ = "problem_target"
    __table_args__ = (Index("ix_problem_target_goal", "goal", "problem_id"),)

    problem_id: Mapped[int] = mapped_column(ForeignKey("problem.id", ondelete="CASCADE"), primary_key=True)
    target: Mapped[str] = mapped_column(String(8), primary_key=True)
    goal: Mapped[int] = mapped_column(Integer)


class ProblemDataset(Base):
    """A dataset version solvers may use for the problem."""

    __tablename__ = "problem_dataset"

    problem_id: Mapped[int] = mapped_column(ForeignKey("problem.id", ondelete="CASCADE"), primary_key=True)
    version_id: Mapped[int] = mapped_column(
        ForeignKey("dataset_version.id", ondelete="CASCADE"), primary_key=True
    )


class Team(Base):
    """Who competes: a team, or a solver alone (a team of one named after them).

    A team also holds its standing, so that a leaderboard is one indexed query: its best public score
    (kept current as each submission is scored), and its private rank and score (set at the close).
    """

    __tablename__ = "team"
    __table_args__ = (
        UniqueConstraint("problem_id", "name", name="uq_team_problem_name"),
        Index("ix_team_problem_public", "problem_id", "public_score"),
        Index("ix_team_problem_private", "problem_id", "private_rank"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    problem_id: Mapped[int] = mapped_column(ForeignKey("problem.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(60))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    public_score: Mapped[float | None] = mapped_column(Float, default=None)  # of its best scored submission
    public_low: Mapped[float | None] = mapped_column(Float, default=None)
    public_high: Mapped[float | None] = mapped_column(Float, default=None)
    scored_submissions: Mapped[int] = mapped_column(Integer, default=0)
    last_submission_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    private_rank: Mapped[int | None] = mapped_column(Integer, default=None)
    private_score: Mapped[float | None] = mapped_column(Float, default=None)

    members: Mapped[list["TeamMember"]] = relationship(cascade="all, delete-orphan", lazy="selectin")
    requests: Mapped[list["TeamRequest"]] = relationship(cascade="all, delete-orphan", back_populates="team")


class TeamMember(Base):
    __tablename__ = "team_member"
    __table_args__ = (UniqueConstraint("problem_id", "member_id", name="uq_team_member_problem_member"),)

    team_id: Mapped[int] = mapped_column(ForeignKey("team.id", ondelete="CASCADE"), primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"), primary_key=True)
    problem_id: Mapped[int] = mapped_column(ForeignKey("problem.id", ondelete="CASCADE"))

    member: Mapped[Member] = relationship(lazy="joined")


class TeamRequest(Base):
    """How a member comes to join an existing team, with both sides' consent: an invitation from one of its
    members that the member accepts, or the member's request that one of its members approves.

    One row for each team and member: its latest invitation or request (the log keeps the earlier ones).
    """

    __tablename__ = "team_request"
    __table_args__ = (
        UniqueConstraint("team_id", "member_id", name="uq_team_request_team_member"),
        Index("ix_team_request_problem_member", "problem_id", "member_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("team.id", ondelete="CASCADE"))
    problem_id: Mapped[int] = mapped_column(ForeignKey("problem.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"))  # who would join
    kind: Mapped[RequestKind] = mapped_column(String(16))
    state: Mapped[RequestState] = mapped_column(String(16), default=RequestState.PENDING)
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)

    team: Mapped[Team] = relationship(back_populates="requests", lazy="joined")
    member: Mapped[Member] = relationship(foreign_keys=[member_id], lazy="joined")
    invited_by: Mapped[Member | None] = relationship(foreign_keys=[invited_by_id], lazy="joined")

    @property
    def team_name(self) -> str:
        return self.team.name

    @property
    def handle(self) -> str:
        return self.member.handle

    @property
    def inviter(self) -> str | None:
        return self.invited_by.handle if self.invited_by else None


class Submission(Base):
    __tablename__ = "submission"
    __table_args__ = (
        Index("ix_submission_problem_team", "problem_id", "team_id", "created_at"),
        Index("ix_submission_problem_state", "problem_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    problem_id: Mapped[int] = mapped_column(ForeignKey("problem.id", ondelete="CASCADE"))
    team_id: Mapped[int] = mapped_column(ForeignKey("team.id", ondelete="CASCADE"))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    blob_sha256: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    note: Mapped[str] = mapped_column(String(500), default="")
    state: Mapped[SubmissionState] = mapped_column(String(16), default=SubmissionState.QUEUED)
    job_id: Mapped[int | None] = mapped_column(ForeignKey("job.id", ondelete="SET NULL"))
    public_score: Mapped[float | None] = mapped_column(Float, default=None)
    public_low: Mapped[float | None] = mapped_column(Float, default=None)
    public_high: Mapped[float | None] = mapped_column(Float, default=None)
    private_score: Mapped[float | None] = mapped_column(Float, default=None)
    selected: Mapped[bool] = mapped_column(Boolean, default=False)
    error: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    datasets: Mapped[list[int]] = mapped_column(JSON, default=list)  # declared dataset version ids
    # measured shares of the data behind it ({account, share}), e.g. a federated model's contributors
    contributions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    scored_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)

    team: Mapped[Team] = relationship(lazy="joined")

    @property
    def team_name(self) -> str:
        return self.team.name
