"""What the journeys API returns."""

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from aicommons.journeys.models import Stage


class JourneyRead(BaseModel):
    """Your stage in one community (null: no sign of you there yet), and what the next stage needs."""

    model_config = ConfigDict(from_attributes=True)

    community: str = Field(validation_alias="community_slug")
    name: str = Field(validation_alias="community_name")
    stage: Stage | None
    next_step: str


class JourneyPage(BaseModel):
    items: list[JourneyRead]
    total: int
    page: int
    size: int


class StageCountRead(BaseModel):
    """Members at this stage now, and members who reached it or a later one (the funnel's bar)."""

    model_config = ConfigDict(from_attributes=True)

    stage: Stage
    members: int
    reached: int


class StepRead(BaseModel):
    """Of the members who had reached `from_stage` by the month's end, the share who had reached
    `to_stage` too (null when nobody had reached `from_stage`)."""

    model_config = ConfigDict(from_attributes=True)

    from_stage: Stage
    to_stage: Stage
    share: float | None


class MonthRead(BaseModel):
    """The funnel at the end of a month (the current month: now), named by its first day."""

    model_config = ConfigDict(from_attributes=True)

    month: date
    reached: dict[Stage, int]
    steps: list[StepRead]


class CommunityReusesRead(BaseModel):
    """Reuses with another community; `slug` is null for the private communities you may not see."""

    model_config = ConfigDict(from_attributes=True)

    slug: str | None
    name: str
    reuses: int


class SectorReusesRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    sector: str
    reuses: int


class InsightReusesRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    insight: int
    reuses: int


class ReuseRead(BaseModel):
    """How often the community's insights were reused and by how many communities; who reused them (by
    community and sector), which ones, and whose insights it reused: each list the 20 most, most first."""

    model_config = ConfigDict(from_attributes=True)

    reuses: int
    communities: int
    by_community: list[CommunityReusesRead]
    by_sector: list[SectorReusesRead]
    insights: list[InsightReusesRead]
    reused_from: list[CommunityReusesRead]


class DashboardRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    community: str = Field(validation_alias="community_slug")
    as_of: datetime
    funnel: list[StageCountRead]
    months: list[MonthRead]
    reuse: ReuseRead
