"""Tables of federated learning: data owners' nodes, training runs and their rounds, and trained models."""

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from aicommons.core.db import Base, UTCDateTime, utcnow
from aicommons.members.models import Member


class RunState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class Node(Base):
    """A data owner's node: it trains on rows that never leave it, for the problems its owner accepts.

    A node of the simulation engine trains on rows its owner uploaded (`data_blob`, Parquet in the blob
    store, standing in for the owner's machine), fingerprinted so that the same rows back one node only;
    a node of the Deployment Engine runs elsewhere and is known by its `public_key`.
    """

    __tablename__ = "federated_node"
    __table_args__ = (UniqueConstraint("dataset_id", "name", name="uq_federated_node_dataset_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60))
    dataset_id: Mapped[int] = mapped_column(ForeignKey("dataset.id", ondelete="CASCADE"))
    version_id: Mapped[int] = mapped_column(ForeignKey("dataset_version.id", ondelete="CASCADE"))
    owner_member_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    owner_community_id: Mapped[int | None] = mapped_column(ForeignKey("community.id", ondelete="SET NULL"))
    data_blob: Mapped[str | None] = mapped_column(String(64), default=None)  # a simulated node's rows
    row_hashes_blob: Mapped[str | None] = mapped_column(String(64), default=None)  # their sorted row hashes
    rows_fingerprint: Mapped[str | None] = mapped_column(String(64), default=None, unique=True)
    public_key: Mapped[str | None] = mapped_column(Text, default=None)
    rows: Mapped[int] = mapped_column(BigInteger, default=0)
    accepted_problems: Mapped[list[int]] = mapped_column(JSON, default=list)  # empty: any that uses its data
    max_rounds: Mapped[int] = mapped_column(Integer, default=50)
    max_local_epochs: Mapped[int] = mapped_column(Integer, default=10)
    require_privacy: Mapped[bool] = mapped_column(Boolean, default=False)  # differential privacy required
    max_epsilon: Mapped[float | None] = mapped_column(Float, default=None)  # the privacy budget it allows
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)

    owner_member: Mapped[Member | None] = relationship(lazy="joined")

    @property
    def simulated(self) -> bool:
        return self.public_key is None

    @property
    def awaiting_rows(self) -> bool:
        """A simulated node whose owner has not uploaded its rows yet: it takes part in no run."""
        return self.simulated and self.data_blob is None


class TrainingRun(Base):
    """A federated training run for a problem: its configuration, state, and the model it made."""

    __tablename__ = "training_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    problem_id: Mapped[int] = mapped_column(ForeignKey("problem.id", ondelete="CASCADE"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    family: Mapped[str] = mapped_column(String(16))
    strategy: Mapped[str] = mapped_column(String(16))
    rounds: Mapped[int] = mapped_column(Integer)
    fraction: Mapped[float] = mapped_column(Float, default=1.0)
    min_nodes: Mapped[int] = mapped_column(Integer, default=2)
    local_epochs: Mapped[int] = mapped_column(Integer, default=1)
    learning_rate: Mapped[float] = mapped_column(Float, default=0.1)
    proximal_mu: Mapped[float] = mapped_column(Float, default=0.0)
    clip_norm: Mapped[float | None] = mapped_column(Float, default=None)
    noise_multiplier: Mapped[float] = mapped_column(Float, default=0.0)
    delta: Mapped[float] = mapped_column(Float, default=1e-5)
    license: Mapped[str] = mapped_column(String(64), default="CC-BY-4.0")
    seed: Mapped[int] = mapped_column(BigInteger, default=0)
    state: Mapped[RunState] = mapped_column(String(16), default=RunState.QUEUED)
    job_id: Mapped[int | None] = mapped_column(ForeignKey("job.id", ondelete="SET NULL"))
    error: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)

    nodes: Mapped[list["RunNode"]] = relationship(cascade="all, delete-orphan", lazy="selectin")
    round_rows: Mapped[list["TrainingRound"]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="TrainingRound.number"
    )

    @property
    def node_ids(self) -> list[int]:
        return sorted(row.node_id for row in self.nodes)


class RunNode(Base):
    """A node invited to a run."""

    __tablename__ = "run_node"

    run_id: Mapped[int] = mapped_column(ForeignKey("training_run.id", ondelete="CASCADE"), primary_key=True)
    node_id: Mapped[int] = mapped_column(
        ForeignKey("federated_node.id", ondelete="CASCADE"), primary_key=True
    )


class TrainingRound(Base):
    """One round as the log has it: the model's hash, each participant's update, value and reward, metrics."""

    __tablename__ = "training_round"

    run_id: Mapped[int] = mapped_column(ForeignKey("training_run.id", ondelete="CASCADE"), primary_key=True)
    number: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_sha256: Mapped[str] = mapped_column(String(64))
    method: Mapped[str] = mapped_column(String(24))  # how contributions were valued
    metrics: Mapped[dict[str, float]] = mapped_column(JSON, default=dict)
    participants: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    epsilon: Mapped[float | None] = mapped_column(Float, default=None)  # the privacy spent so far, if private
    dropped: Mapped[int] = mapped_column(Integer, default=0)  # nodes that did not answer the round
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TrainedModel(Base):
    """The model a completed run made, with its card; it belongs to the contributors by their shares."""

    __tablename__ = "trained_model"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("training_run.id", ondelete="CASCADE"), unique=True)
    problem_id: Mapped[int] = mapped_column(ForeignKey("problem.id", ondelete="CASCADE"), index=True)
    blob_sha256: Mapped[str] = mapped_column(String(64))
    architecture: Mapped[dict[str, Any]] = mapped_column(JSON)
    card: Mapped[dict[str, Any]] = mapped_column(JSON)
    contributors: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)  # account, share
    license: Mapped[str] = mapped_column(String(64))
    price_per_prediction: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
