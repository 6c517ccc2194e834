"""What the communities API accepts and returns."""

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, HttpUrl, StringConstraints

from aicommons.communities.models import Format, JoinPolicy, MembershipStatus, Role, Visibility
from aicommons.core.vocabulary import Region
from aicommons.members.schemas import Handle, Languages, Sectors


def _distinct_goals(goals: list[int]) -> list[int]:
    return sorted(set(goals))


Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9](?:[a-z0-9-]{1,48}[a-z0-9])$")]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=80)]
Description = Annotated[str, Field(max_length=5000)]
Goals = Annotated[
    list[Annotated[int, Field(ge=1, le=17)]], Field(max_length=17), AfterValidator(_distinct_goals)
]


class Channel(BaseModel):
    """A place an existing team already talks: a chat room, a mailing list, a forum."""

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)]
    url: HttpUrl


class CommunityCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    slug: Slug
    format: Format
    description: Description = ""
    sectors: Annotated[Sectors, Field(min_length=1)]
    sdgs: Annotated[Goals, Field(min_length=1)]
    region: Region
    languages: Languages = Field(default_factory=lambda: ["en"])
    visibility: Visibility = Visibility.PUBLIC
    join_policy: JoinPolicy = JoinPolicy.OPEN


class CommunityRegister(CommunityCreate):
    """An existing team or office joining the commons as a community, with its steward and channels."""

    steward: Handle
    channels: Annotated[list[Channel], Field(max_length=10)] = Field(default_factory=list)


class CommunityUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    format: Format | None = None
    description: Description | None = None
    sectors: Annotated[Sectors, Field(min_length=1)] | None = None
    sdgs: Annotated[Goals, Field(min_length=1)] | None = None
    region: Region | None = None
    languages: Languages | None = None
    visibility: Visibility | None = None
    join_policy: JoinPolicy | None = None
    channels: Annotated[list[Channel], Field(max_length=10)] | None = None


class CommunityFilter(BaseModel):
    """Browse and search: every field narrows the list."""

    q: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] = ""
    format: Format | None = None
    sector: str | None = Field(default=None, max_length=32)
    sdg: int | None = Field(default=None, ge=1, le=17)
    region: Region | None = None
    archived: bool = False
    mine: bool = False


class CommunityRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    slug: str
    name: str
    format: Format
    description: str
    sectors: list[str]
    sdgs: list[int]
    region: str
    languages: list[str]
    visibility: Visibility
    join_policy: JoinPolicy
    registered: bool
    channels: list[dict[str, str]]
    member_count: int
    archived: bool
    created_at: datetime


class CommunityPage(BaseModel):
    items: list[CommunityRead]
    total: int
    page: int
    size: int


class MembershipRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    community: str = Field(validation_alias="community_slug")
    handle: str = Field(validation_alias="member_handle")
    display_name: str = Field(validation_alias="member_display_name")
    role: Role
    status: MembershipStatus
    created_at: datetime


class MembershipPage(BaseModel):
    items: list[MembershipRead]
    total: int
    page: int
    size: int


class RoleChange(BaseModel):
    role: Role


class Invitation(BaseModel):
    handle: Handle


class StatsRead(BaseModel):
    figures: dict[str, object]
    refreshed_at: datetime | None
