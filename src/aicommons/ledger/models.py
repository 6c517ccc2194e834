"""Tables of the transparency log and the token ledger."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from aicommons.core.db import Base, UTCDateTime, utcnow


class LogRecord(Base):
    """An entry recorded inside a domain's transaction and waiting for the sequencer to place it."""

    __tablename__ = "log_record"
    __table_args__ = {"sqlite_autoincrement": True}  # never reuse an id: log_entry.record_id is unique

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    event: Mapped[str] = mapped_column(String(80))
    actor_id: Mapped[int | None] = mapped_column(Integer)
    community_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LogEntry(Base):
    """An entry of the log at its final place: `index` counts from 0 without gaps."""

    __tablename__ = "log_entry"
    __table_args__ = (
        Index("ix_log_entry_event", "event", "index"),
        Index("ix_log_entry_actor", "actor_id", "index"),
        Index("ix_log_entry_community", "community_id", "index"),
    )

    index: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    record_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    event: Mapped[str] = mapped_column(String(80))
    actor_id: Mapped[int | None] = mapped_column(Integer)
    community_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class LogNode(Base):
    """The hash of a complete subtree: level `level`, covering leaves [index·2^level, (index+1)·2^level)."""

    __tablename__ = "log_node"

    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    index: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class LogHead(Base):
    """One row: the log's size. The sequencer locks it, so one sequencer places entries at a time."""

    __tablename__ = "log_head"

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    size: Mapped[int] = mapped_column(BigInteger, default=0)


class LogCheckpoint(Base):
    """Every checkpoint the commons signed; the newest is the log's head."""

    __tablename__ = "log_checkpoint"

    size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    root: Mapped[bytes] = mapped_column(LargeBinary(32))
    note: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LogCosignature(Base):
    """A witness's cosignature line on one of our checkpoints."""

    __tablename__ = "log_cosignature"
    __table_args__ = (UniqueConstraint("size", "witness"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    size: Mapped[int] = mapped_column(ForeignKey("log_checkpoint.size", ondelete="CASCADE"))
    witness: Mapped[str] = mapped_column(String(200))
    line: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AccountKind(StrEnum):
    MEMBER = "member"
    COMMUNITY = "community"
    ESCROW = "escrow"
    TREASURY = "treasury"
    ISSUANCE = "issuance"


class Account(Base):
    """A token account; only the issuance account may go below zero, and the database says so too."""

    __tablename__ = "account"
    __table_args__ = (CheckConstraint("balance >= 0 OR kind = 'issuance'", name="balance_not_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[AccountKind] = mapped_column(String(16))
    owner: Mapped[str] = mapped_column(String(80), unique=True)  # e.g. member:12, community:3, treasury
    balance: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Transfer(Base):
    """A double-entry movement of tokens; a retry with the same idempotency key finds this row."""

    __tablename__ = "transfer"
    __table_args__ = (
        UniqueConstraint("initiator", "idempotency_key"),
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("from_account_id <> to_account_id", name="distinct_accounts"),
        Index("ix_transfer_from", "from_account_id", "id"),
        Index("ix_transfer_to", "to_account_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    initiator: Mapped[str] = mapped_column(String(80))
    idempotency_key: Mapped[str] = mapped_column(String(100))
    from_account_id: Mapped[int] = mapped_column(ForeignKey("account.id"))
    to_account_id: Mapped[int] = mapped_column(ForeignKey("account.id"))
    amount: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(String(80))
    note: Mapped[str] = mapped_column(String(500), default="")
    record_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    from_account: Mapped[Account] = relationship(foreign_keys=[from_account_id], lazy="joined")
    to_account: Mapped[Account] = relationship(foreign_keys=[to_account_id], lazy="joined")


class Parameter(Base):
    """A number the commons runs by (reward amounts now; governance changes them later)."""

    __tablename__ = "parameter"

    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
