"""Tables of the datasets domain: datasets, their immutable versions, access requests, licenses, downloads."""

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from aicommons.communities.models import Community
from aicommons.core.db import Base, UTCDateTime, utcnow
from aicommons.members.models import Member

DATASHEET_SECTIONS = (
    "motivation",
    "composition",
    "collection_process",
    "preprocessing",
    "uses",
    "distribution",
    "maintenance",
)


class Policy(StrEnum):
    OPEN = "open"  # anyone downloads: the data commons
    GATED = "gated"  # the owner approves requests
    PRICED = "priced"  # time-boxed licenses bought with tokens
    FEDERATED = "federated"  # rows stay on the owner's node


class RequestStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    DENIED = "denied"


class LicenseStatus(StrEnum):
    HELD = "held"  # the buyer's tokens wait in escrow until the first download delivers the data
    ACTIVE = "active"  # the tokens went to the owner
    REFUNDED = "refunded"  # the version was withdrawn before the data was delivered


class Dataset(Base):
    __tablename__ = "dataset"
    # The catalog lists by title; each facet filters then pages in title order from one index.
    __table_args__ = (
        Index("ix_dataset_title", "title", "id"),
        Index("ix_dataset_policy_title", "policy", "title", "id"),
        Index("ix_dataset_license_title", "license", "title", "id"),
        Index("ix_dataset_format_title", "file_format", "title", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(60), unique=True)
    title: Mapped[str] = mapped_column(String(120))
    summary: Mapped[str] = mapped_column(Text, default="")
    license: Mapped[str] = mapped_column(String(64))
    policy: Mapped[Policy] = mapped_column(String(16))
    price: Mapped[int] = mapped_column(BigInteger, default=0)  # tokens per license, priced only
    license_days: Mapped[int] = mapped_column(Integer, default=30)
    decision_days: Mapped[int] = mapped_column(Integer, default=14)  # gated: the owner's deadline
    request_fields: Mapped[list[str]] = mapped_column(JSON, default=list)  # gated: the owner's questions
    keywords: Mapped[list[str]] = mapped_column(JSON, default=list)
    datasheet: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    search_text: Mapped[str] = mapped_column(Text, default="")  # lower-cased title, summary, keywords
    file_format: Mapped[str] = mapped_column(String(16), default="")  # of the newest version
    version_count: Mapped[int] = mapped_column(Integer, default=0)
    download_count: Mapped[int] = mapped_column(Integer, default=0)
    owner_member_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    owner_community_id: Mapped[int | None] = mapped_column(ForeignKey("community.id", ondelete="SET NULL"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    admitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)  # by a members' vote

    owner_member: Mapped[Member | None] = relationship(foreign_keys=[owner_member_id], lazy="joined")
    owner_community: Mapped[Community | None] = relationship(lazy="joined")
    sector_rows: Mapped[list["DatasetSector"]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="DatasetSector.sector"
    )
    sdg_rows: Mapped[list["DatasetSdg"]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="DatasetSdg.goal"
    )

    @property
    def sectors(self) -> list[str]:
        return [row.sector for row in self.sector_rows]

    @property
    def sdgs(self) -> list[int]:
        return [row.goal for row in self.sdg_rows]

    @property
    def owner(self) -> str:
        """Who owns it, as people read it: a member's handle or a community's slug."""
        if self.owner_community is not None:
            return f"community:{self.owner_community.slug}"
        return f"member:{self.owner_member.handle}" if self.owner_member else "member:(removed)"


class DatasetSector(Base):
    __tablename__ = "dataset_sector"
    __table_args__ = (Index("ix_dataset_sector_sector", "sector", "dataset_id"),)

    dataset_id: Mapped[int] = mapped_column(ForeignKey("dataset.id", ondelete="CASCADE"), primary_key=True)
    sector: Mapped[str] = mapped_column(String(32), primary_key=True)


class DatasetSdg(Base):
    __tablename__ = "dataset_sdg"
    __table_args__ = (Index("ix_dataset_sdg_goal", "goal", "dataset_id"),)

    dataset_id: Mapped[int] = mapped_column(ForeignKey("dataset.id", ondelete="CASCADE"), primary_key=True)
    goal: Mapped[int] = mapped_column(SmallInteger, primary_key=True)


class DatasetVersion(Base):
    """One immutable upload: the Parquet blob (none for federated data), its schema, figures, preview."""

    __tablename__ = "dataset_version"
    __table_args__ = (
        UniqueConstraint("dataset_id", "number", name="uq_dataset_version_number"),
        UniqueConstraint("dataset_id", "content_sha256", name="uq_dataset_version_content"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("dataset.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    content_sha256: Mapped[str] = mapped_column(String(64))  # of what was uploaded (or described)
    blob_sha256: Mapped[str | None] = mapped_column(String(64), index=True)  # the stored Parquet
    source_format: Mapped[str] = mapped_column(String(16))  # csv, parquet or federated
    size_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    row_count: Mapped[int] = mapped_column(BigInteger, default=0)
    columns: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    preview: Mapped[list[list[Any]]] = mapped_column(JSON, default=list)  # or a federated synthetic sample
    statistics: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    stats_job_id: Mapped[int | None] = mapped_column(ForeignKey("job.id", ondelete="SET NULL"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)

    dataset: Mapped[Dataset] = relationship()

    @property
    def withdrawn(self) -> bool:
        return self.withdrawn_at is not None


class AccessRequest(Base):
    """A request for a gated dataset: the reason, answers to the owner's questions, and the decision."""

    __tablename__ = "access_request"
    __table_args__ = (Index("ix_access_request_dataset_status", "dataset_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("dataset.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    answers: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    status: Mapped[RequestStatus] = mapped_column(String(16), default=RequestStatus.PENDING)
    decision_reason: Mapped[str] = mapped_column(Text, default="")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)

    member: Mapped[Member] = relationship(foreign_keys=[member_id], lazy="joined")

    @property
    def overdue(self) -> bool:
        return self.status == RequestStatus.PENDING and utcnow() > self.due_at

    @property
    def member_handle(self) -> str:
        return self.member.handle


class DatasetLicense(Base):
    """A time-boxed license to a priced dataset's version, paid through an escrow account."""

    __tablename__ = "dataset_license"
    __table_args__ = (Index("ix_dataset_license_member", "member_id", "dataset_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("dataset.id", ondelete="CASCADE"))
    version_id: Mapped[int] = mapped_column(ForeignKey("dataset_version.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"))
    amount: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[LicenseStatus] = mapped_column(String(16), default=LicenseStatus.HELD)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)

    version: Mapped[DatasetVersion] = relationship(lazy="joined")

    @property
    def version_number(self) -> int:
        return self.version.number


class Download(Base):
    """Who took which version when: the owner's usage log (anonymous downloads of open data too)."""

    __tablename__ = "dataset_download"
    __table_args__ = (Index("ix_dataset_download_dataset", "dataset_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("dataset.id", ondelete="CASCADE"))
    version_id: Mapped[int] = mapped_column(ForeignKey("dataset_version.id", ondelete="CASCADE"))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    member: Mapped[Member | None] = relationship(lazy="joined")
    version: Mapped[DatasetVersion] = relationship(lazy="joined")
