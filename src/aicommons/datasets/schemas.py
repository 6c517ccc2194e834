"""What the datasets API accepts and returns."""

from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from aicommons.communities.schemas import Goals, Slug
from aicommons.core.errors import CommonsError, ErrorCode
from aicommons.datasets.licenses import SPDX_LICENSES
from aicommons.datasets.models import DATASHEET_SECTIONS, LicenseStatus, Policy, RequestStatus
from aicommons.members.schemas import Sectors

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=120)]
Keyword = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, min_length=1, max_length=40)]
Question = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Answer = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=2000)]


def _known_license(identifier: str) -> str:
    if identifier not in SPDX_LICENSES:
        raise CommonsError(
            ErrorCode.UNKNOWN_LICENSE, f"{identifier!r} is not an SPDX identifier the commons knows"
        )
    return identifier


def _datasheet(sections: dict[str, str]) -> dict[str, str]:
    unknown = set(sections) - set(DATASHEET_SECTIONS)
    if unknown:
        raise ValueError(
            f"a datasheet has the sections {', '.join(DATASHEET_SECTIONS)}; not {sorted(unknown)}"
        )
    return {name: sections.get(name, "").strip() for name in DATASHEET_SECTIONS}


License = Annotated[str, AfterValidator(_known_license)]
Datasheet = Annotated[dict[str, Annotated[str, Field(max_length=10_000)]], AfterValidator(_datasheet)]


class DatasetCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Title
    slug: Slug | None = None  # from the title when not given
    summary: Annotated[str, Field(max_length=5000)] = ""
    license: License
    policy: Policy = Policy.OPEN
    price: int = Field(default=0, ge=0, le=10**9)
    license_days: int = Field(default=30, ge=1, le=3650)
    decision_days: int = Field(default=14, ge=1, le=365)
    request_fields: Annotated[list[Question], Field(max_length=10)] = Field(default_factory=list)
    keywords: Annotated[list[Keyword], Field(max_length=20)] = Field(default_factory=list)
    sdgs: Goals = Field(default_factory=list)
    sectors: Sectors = Field(default_factory=list)
    datasheet: Datasheet = Field(default_factory=dict)
    community: Slug | None = None  # the owning community; the creator owns it otherwise

    @model_validator(mode="after")
    def _priced_has_a_price(self) -> "DatasetCreate":
        if self.policy == Policy.PRICED and self.price <= 0:
            raise ValueError("a priced dataset needs a price of at least one token")
        return self


class DatasetUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Title | None = None
    summary: Annotated[str, Field(max_length=5000)] | None = None
    license: License | None = None
    keywords: Annotated[list[Keyword], Field(max_length=20)] | None = None
    sdgs: Goals | None = None
    sectors: Sectors | None = None
    datasheet: Datasheet | None = None
    request_fields: Annotated[list[Question], Field(max_length=10)] | None = None


class DatasetFilter(BaseModel):
    """Catalog search: every field narrows the list."""

    q: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] = ""
    sdg: int | None = Field(default=None, ge=1, le=17)
    sector: str | None = Field(default=None, max_length=32)
    license: str | None = Field(default=None, max_length=64)
    policy: Policy | None = None
    format: str | None = Field(default=None, pattern=r"^(csv|parquet|federated)$")


class ColumnRead(BaseModel):
    name: str
    type: str


class VersionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    number: int
    content_sha256: str
    blob_sha256: str | None
    source_format: str
    size_bytes: int
    row_count: int
    columns: list[ColumnRead]
    statistics: dict[str, Any] | None
    stats_job_id: int | None
    created_at: datetime
    withdrawn: bool


class VersionDetail(VersionRead):
    preview: list[list[Any]]


class DatasetRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    slug: str
    title: str
    summary: str
    license: str
    policy: Policy
    price: int
    license_days: int
    decision_days: int
    request_fields: list[str]
    keywords: list[str]
    sdgs: list[int]
    sectors: list[str]
    datasheet: dict[str, str]
    owner: str
    file_format: str
    version_count: int
    download_count: int
    created_at: datetime
    admitted_at: datetime | None = None  # admitted to the commons by a members' vote


class DatasetPage(BaseModel):
    items: list[DatasetRead]
    total: int
    page: int
    size: int


class FederatedVersion(BaseModel):
    """What the owner of federated data publishes: never the rows, only what they choose to show."""

    model_config = ConfigDict(extra="forbid")

    columns: Annotated[list[ColumnRead], Field(min_length=1, max_length=1000)]
    row_count: int = Field(ge=1)
    statistics: dict[str, Any] | None = None
    sample: Annotated[list[list[Any]], Field(max_length=100)] = Field(default_factory=list)


class AccessRequestCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Reason
    answers: dict[str, Answer] = Field(default_factory=dict)


class Decision(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] = ""


class AccessRequestRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    handle: str = Field(validation_alias="member_handle")
    reason: str
    answers: dict[str, str]
    status: RequestStatus
    decision_reason: str
    due_at: datetime
    overdue: bool
    created_at: datetime
    decided_at: datetime | None


class AccessRequestPage(BaseModel):
    items: list[AccessRequestRead]
    total: int
    page: int
    size: int


class LicenseRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    version: int = Field(validation_alias="version_number")
    amount: int
    status: LicenseStatus
    created_at: datetime
    expires_at: datetime


class UsageRead(BaseModel):
    """One download, as the owner's usage log shows it."""

    handle: str | None
    version: int
    at: datetime


class UsagePage(BaseModel):
    items: list[UsageRead]
    total: int
    page: int
    size: int


class UsageCounts(BaseModel):
    """What everyone sees of a dataset's use: counts, never names."""

    downloads: int
    licenses: int
    approved_requests: int
