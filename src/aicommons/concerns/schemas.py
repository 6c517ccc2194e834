"""What the concerns API accepts and returns; every public text has its contact details redacted."""

from datetime import datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    model_validator,
)

from aicommons.communities.schemas import Slug
from aicommons.concerns.models import FlagReason, Harm, Status, Worry
from aicommons.core.vocabulary import HarmType, RiskDomain, RiskEntity, RiskIntent, RiskTiming, Sector
from aicommons.members.schemas import Handle


def _distinct(values: list[Any]) -> list[Any]:
    return list(dict.fromkeys(values))


def _trimmed(most: int, least: int = 0) -> StringConstraints:
    return StringConstraints(strip_whitespace=True, min_length=least, max_length=most)


ToolName = Annotated[str, _trimmed(120, 2)]
Place = Annotated[str, _trimmed(200, 2)]
Account = Annotated[str, _trimmed(5000, 10)]
Affected = Annotated[str, _trimmed(500, 2)]
RoleName = Annotated[str, _trimmed(80)]
Reason = Annotated[str, _trimmed(2000)]
Note = Annotated[str, _trimmed(5000)]
Organisation = Annotated[str, _trimmed(120, 2)]
PartyName = Annotated[str, _trimmed(120)]
ResponseBody = Annotated[str, _trimmed(10_000, 2)]


class ConcernCreate(BaseModel):
    """The short form: six questions anyone can answer, and two optional ones."""

    model_config = ConfigDict(extra="forbid")

    ai_tool: ToolName
    where_seen: Place
    what_happened: Account
    who_affected: Affected
    harm: Harm
    worry: Worry
    reporter_role: RoleName = ""
    contact: Annotated[EmailStr, Field(max_length=254)] | None = None


class ConcernFilter(BaseModel):
    """The public list's filter: empty means every status."""

    status: Status | None = None


class StatusChangeCreate(BaseModel):
    """Move a concern on; closing needs a reason. Escalating has its own form (`Escalation`)."""

    model_config = ConfigDict(extra="forbid")

    status: Status
    reason: Reason = ""

    @model_validator(mode="after")
    def _closing_has_a_reason(self) -> "StatusChangeCreate":
        if self.status == Status.CLOSED and not self.reason:
            raise ValueError("say why the concern is closed: the reporter reads it")
        if self.status == Status.ESCALATED:
            raise ValueError("escalate with the escalation form: to a policy community or the AIID")
        return self


class Escalation(BaseModel):
    """To a policy community (by slug), or exported to the AI Incident Database, or both."""

    model_config = ConfigDict(extra="forbid")

    community: Slug | None = None
    aiid: bool = False
    reason: Reason = ""
    note: Note = ""  # for the policy community's members only

    @model_validator(mode="after")
    def _somewhere(self) -> "Escalation":
        if self.community is None and not self.aiid:
            raise ValueError("choose a policy community, the AI Incident Database, or both")
        return self


class Merge(BaseModel):
    model_config = ConfigDict(extra="forbid")

    into: int = Field(ge=1, description="the number of the concern that is kept")


class TriageTags(BaseModel):
    """The MIT AI Risk Repository's causal taxonomy and domains, the OECD harm types, and who is alleged to
    deploy and develop the system."""

    model_config = ConfigDict(extra="forbid")

    risk_entity: RiskEntity | None = None
    risk_intent: RiskIntent | None = None
    risk_timing: RiskTiming | None = None
    risk_domains: Annotated[list[RiskDomain], AfterValidator(_distinct)] = Field(default_factory=list)
    harm_types: Annotated[list[HarmType], AfterValidator(_distinct)] = Field(default_factory=list)
    deployer: PartyName = ""
    developer: PartyName = ""


class CorroborationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sector: Sector


class FlagCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: FlagReason


class HideCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Reason = ""


class ResponderCreate(BaseModel):
    """Name a member who answers for the deploying organisation: for one concern or for an AI tool."""

    model_config = ConfigDict(extra="forbid")

    handle: Handle
    organisation: Organisation
    concern: int | None = Field(default=None, ge=1)
    ai_tool: ToolName | None = None

    @model_validator(mode="after")
    def _one_scope(self) -> "ResponderCreate":
        if (self.concern is None) == (self.ai_tool is None):
            raise ValueError("name the responder for one concern or for one AI tool")
        return self


class ResponseCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    body: ResponseBody


class StatusChangeRead(BaseModel):
    from_status: Status | None
    to_status: Status
    reason: str
    at: datetime


class ResponseRead(BaseModel):
    organisation: str
    body: str
    created_at: datetime


class Tags(BaseModel):
    risk_entity: str | None
    risk_intent: str | None
    risk_timing: str | None
    risk_domains: list[str]
    harm_types: list[str]
    deployer: str
    developer: str


class EscalationRead(BaseModel):
    """Where a concern went; a private community is named only to those who may see it."""

    community: str | None
    community_name: str | None
    to_community: bool  # to a policy community, named above when the viewer may see it
    aiid: bool
    at: datetime | None
    note: str | None  # the policy community's brief, for its members and moderators


class ConcernSummary(BaseModel):
    id: int
    ai_tool: str
    where_seen: str
    summary: str
    harm: Harm
    worry: Worry
    reporter_role: str
    status: Status
    corroborations: int
    hidden: bool
    created_at: datetime


class ConcernRead(ConcernSummary):
    what_happened: str
    who_affected: str
    tags: Tags
    escalation: EscalationRead | None
    merged_into: int | None
    history: list[StatusChangeRead]
    responses: list[ResponseRead]
    sectors: dict[str, int]  # of those who corroborated
    updated_at: datetime
    contact: str | None = None  # moderators only
    flags: int | None = None  # moderators only


class ConcernReceived(BaseModel):
    """The answer to a new concern: the tracking link is in it, and never again."""

    concern: ConcernRead
    tracking_token: str
    tracking_url: str


class ConcernPage(BaseModel):
    items: list[ConcernSummary]
    total: int
    page: int
    size: int


class CorroborationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    sector: str
    created_at: datetime


class FlagRead(BaseModel):
    """Your flag; `hidden` says whether the concern is now hidden pending moderation."""

    reason: FlagReason
    created_at: datetime
    hidden: bool


class ResponderRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    handle: str
    organisation: str
    concern: int | None
    ai_tool: str | None


class AiidSubmission(BaseModel):
    """A submission to the AI Incident Database (its `Submission` fields)."""

    title: str
    description: str
    text: str
    plain_text: str
    incident_date: str
    date_published: str
    date_submitted: str
    date_downloaded: str
    date_modified: str
    url: str
    source_domain: str
    language: str
    authors: list[str]
    submitters: list[str]
    deployers: list[str]
    developers: list[str]
    harmed_parties: list[str]
    implicated_systems: list[str]
    tags: list[str]
    editor_notes: str
