"""What the insights API accepts and returns."""

import re
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, HttpUrl, StringConstraints, model_validator

from aicommons.communities.models import Community, Format
from aicommons.communities.schemas import Goals, Slug
from aicommons.core.vocabulary import RiskDomain, Sector
from aicommons.insights.models import Audience, Facet, Kind, Reuse
from aicommons.members.schemas import Sectors

# Licenses for written know-how (SPDX identifiers): the Creative Commons family and public domain, plus
# the two software licenses that resources such as notebooks often carry.
LICENSES = (
    "CC-BY-4.0",
    "CC-BY-SA-4.0",
    "CC0-1.0",
    "CC-BY-NC-4.0",
    "CC-BY-NC-SA-4.0",
    "CC-BY-ND-4.0",
    "CC-BY-NC-ND-4.0",
    "MIT",
    "Apache-2.0",
)
DEFAULT_LICENSE = "CC-BY-4.0"
TAG = re.compile(r"^[a-z0-9][a-z0-9-]{0,38}[a-z0-9]$|^[a-z0-9]$")


def _tag(text: str) -> str:
    """`Night Shift` → `night-shift`; a tag is at most 40 letters, digits and hyphens."""
    tag = re.sub(r"[\s_]+", "-", text.strip().lower().lstrip("#"))
    if not TAG.match(tag):
        raise ValueError("a tag is 1 to 40 letters, digits and hyphens, such as night-shift")
    return tag


def _license(identifier: str) -> str:
    if identifier not in LICENSES:
        raise ValueError(f"choose one of {', '.join(LICENSES)}")
    return identifier


def _distinct(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


Tag = Annotated[str, AfterValidator(_tag)]
Tags = Annotated[list[Tag], Field(max_length=10), AfterValidator(_distinct)]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=200)]
Body = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20_000)]
ReplyBody = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5_000)]
Evidence = Annotated[list[Annotated[HttpUrl, Field(max_length=2_000)]], Field(max_length=10)]
Risks = Annotated[list[RiskDomain], Field(max_length=7), AfterValidator(_distinct)]
License = Annotated[str, AfterValidator(_license)]


class InsightCreate(BaseModel):
    """A new insight; with no sectors it is filed under its community's."""

    model_config = ConfigDict(extra="forbid")

    community: Slug
    kind: Kind = Kind.INSIGHT
    title: Title
    body: Body
    sectors: Sectors = Field(default_factory=list)
    sdgs: Goals = Field(default_factory=list)
    tags: Tags = Field(default_factory=list)
    risks: Risks = Field(default_factory=list)
    evidence: Evidence = Field(default_factory=list)
    license: License = DEFAULT_LICENSE
    audience: Audience = Audience.NETWORK


class InsightFilter(BaseModel):
    """The feed's filters and search box: every field narrows the list."""

    q: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] = ""
    sector: Sector | None = None
    sdg: int | None = Field(default=None, ge=1, le=17)
    tag: Tag | None = None
    risk: RiskDomain | None = None
    kind: Kind | None = None
    format: Format | None = None
    community: Slug | None = None


class InsightRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    community: str = Field(validation_alias="community_slug")
    community_name: str
    kind: Kind
    title: str
    body: str
    author: str | None = Field(validation_alias="author_handle")
    author_name: str
    audience: Audience
    sectors: list[str]
    sdgs: list[int]
    tags: list[str]
    risks: list[str]
    evidence: list[str]
    license: str
    endorsement_count: int
    reply_count: int
    reuse_count: int
    created_at: datetime


class InsightPage(BaseModel):
    """`total` counts up to 200 and `more` is true when there are more; `ranked` is true when a search
    came best match first (a search of words too common to rank comes newest first)."""

    items: list[InsightRead]
    total: int
    page: int
    size: int
    more: bool = False
    ranked: bool = False


class ReplyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    body: ReplyBody


class ReplyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    insight_id: int
    body: str
    author: str | None = Field(validation_alias="author_handle")
    author_name: str
    accepted: bool
    created_at: datetime


class ReplyPage(BaseModel):
    items: list[ReplyRead]
    total: int
    page: int
    size: int


class EndorsementRead(BaseModel):
    endorsed: bool
    endorsement_count: int


class ReuseCreate(BaseModel):
    """A community (by slug) that used the insight, and how."""

    model_config = ConfigDict(extra="forbid")

    community: Slug
    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=1_000)] = ""


class ReuseRead(BaseModel):
    """A community that reused an insight; a private community that the reader may not see stays unnamed."""

    insight_id: int
    community: str | None
    community_name: str
    sectors: list[str]
    origin_sectors: list[str]
    note: str
    created_at: datetime

    @classmethod
    def of(cls, reuse: Reuse, named: Community | None) -> "ReuseRead":
        """`named` is the reusing community when the reader may know it, else None."""
        return cls(
            insight_id=reuse.insight_id,
            community=named.slug if named else None,
            community_name=named.name if named else "a private community",
            sectors=reuse.sectors,
            origin_sectors=reuse.origin_sectors,
            note=reuse.note,
            created_at=reuse.created_at,
        )


class ReusePage(BaseModel):
    items: list[ReuseRead]
    total: int
    page: int
    size: int


class ReachRead(BaseModel):
    """The network effect of a community: how far its insights travelled and what it took from others."""

    insights: int
    reused_insights: int
    reused_by_communities: int
    reused_by_sectors: list[str]
    reused_from_others: int


def _slug(text: str) -> str:
    if not re.fullmatch(r"[a-z0-9](?:[a-z0-9-]{1,48}[a-z0-9])", text):
        raise ValueError("not a community's slug")
    return text


SUBSCRIBABLE = {Facet.SECTOR: lambda text: str(Sector(text)), Facet.TAG: _tag, Facet.COMMUNITY: _slug}


class SubscriptionCreate(BaseModel):
    """Follow a sector, a tag or a community (by slug)."""

    model_config = ConfigDict(extra="forbid")

    facet: Literal[Facet.SECTOR, Facet.TAG, Facet.COMMUNITY]
    value: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]

    @model_validator(mode="after")
    def _value_of_its_facet(self) -> "SubscriptionCreate":
        try:
            self.value = SUBSCRIBABLE[self.facet](self.value.lower())
        except ValueError as error:
            raise ValueError(f"{self.value!r} is not a {self.facet} one can follow") from error
        return self


class SubscriptionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    facet: Facet
    value: str
    feed: str  # the path of its public Atom feed (public insights only)
    created_at: datetime
    last_digest_at: datetime


class SubscriptionList(BaseModel):
    items: list[SubscriptionRead]
