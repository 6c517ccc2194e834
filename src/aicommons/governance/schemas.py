"""What the governance API accepts and returns."""

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from aicommons.communities.models import Role
from aicommons.communities.schemas import Slug
from aicommons.governance.models import Kind, Method, State
from aicommons.governance.tally import MULTI_OPTION
from aicommons.members.schemas import Handle

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=5, max_length=160)]
Option = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
Reference = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]
Amount = Annotated[int, Field(ge=1, le=10**9)]
MAX_OPTIONS = 10


class Recipient(StrEnum):
    MEMBER = "member"
    COMMUNITY = "community"
    PROBLEM = "problem"  # its bounty


class TransferAction(BaseModel):
    """Tokens from the commons' treasury (a commons-wide proposal) or the community's account."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["treasury_transfer"] = "treasury_transfer"
    recipient: Recipient
    to: Reference  # a member's handle, or a community's or a problem's slug
    amount: Amount


class ParameterAction(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["parameter_change"] = "parameter_change"
    name: Reference
    value: int = Field(ge=0, le=10**12)


class AdmissionAction(BaseModel):
    """Admit an open dataset to the commons; the owner receives the subsidy from the treasury."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["dataset_admission"] = "dataset_admission"
    dataset: Reference
    subsidy: int = Field(default=0, ge=0, le=10**9)


class MembershipAction(BaseModel):
    """Give a member of the community a role, such as steward."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["membership"] = "membership"
    handle: Handle
    role: Role = Role.STEWARD


Action = Annotated[
    TransferAction | ParameterAction | AdmissionAction | MembershipAction, Field(discriminator="kind")
]
ACTIONS: dict[Kind, type[BaseModel]] = {
    Kind.TREASURY_TRANSFER: TransferAction,
    Kind.PARAMETER_CHANGE: ParameterAction,
    Kind.DATASET_ADMISSION: AdmissionAction,
    Kind.MEMBERSHIP: MembershipAction,
}


class ProposalCreate(BaseModel):
    """A draft; without an `action` it is a signal proposal (text, or options to approve or rank)."""

    model_config = ConfigDict(extra="forbid")

    community: Slug | None = None  # none: a commons-wide proposal
    title: Title
    body: Annotated[str, Field(max_length=20_000)] = ""
    method: Method = Method.ONE_MEMBER
    options: Annotated[list[Option], Field(max_length=MAX_OPTIONS)] = Field(default_factory=list)
    action: Action | None = None

    @property
    def kind(self) -> Kind:
        return Kind(self.action.kind) if self.action is not None else Kind.SIGNAL

    @model_validator(mode="after")
    def _method_fits(self) -> "ProposalCreate":
        if self.method not in MULTI_OPTION:
            if self.options:
                raise ValueError("options are for approval and ranked votes")
            return self
        if self.action is not None:
            raise ValueError("approval and ranked votes are for signal proposals (no action)")
        if len(self.options) < 2 or len(set(self.options)) != len(self.options):
            raise ValueError(f"give 2 to {MAX_OPTIONS} different options")
        return self


class ProposalFilter(BaseModel):
    """A list of proposals: commons-wide ones, or one community's; every field narrows it."""

    community: Slug | None = None
    state: State | None = None
    kind: Kind | None = None


class ProposalRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    community: str | None = Field(validation_alias="community_slug")
    proposer: str | None = Field(validation_alias="proposer_handle")
    kind: Kind
    method: Method
    title: str
    body: str
    options: list[str]
    action: dict[str, Any]
    state: State
    rules: dict[str, int]
    created_at: datetime
    submitted_at: datetime | None
    voting_starts_at: datetime | None
    voting_ends_at: datetime | None
    quorum_reached_at: datetime | None
    eta: datetime | None
    ended_at: datetime | None
    snapshot: int | None
    electorate: int | None
    quorum: int | None
    extended: bool
    result: dict[str, Any] | None
    outcome: dict[str, Any] | None
    last_error: str


class ProposalPage(BaseModel):
    items: list[ProposalRead]
    total: int
    page: int
    size: int


class VoteCast(BaseModel):
    """`for`, `against` or `abstain`; for approval, the option numbers approved; for ranked, the option
    numbers from most to least preferred ([] abstains)."""

    model_config = ConfigDict(extra="forbid")

    choice: str | list[int]


class VoteRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    voter: str = Field(validation_alias="voter_handle")
    choice: str | list[int]
    power: int
    cast_at: datetime
    current: bool


class VotePage(BaseModel):
    items: list[VoteRead]
    total: int
    page: int
    size: int


class TallyRead(BaseModel):
    """The published tally: the count at the close, or the live count while the voting runs."""

    method: Method
    labels: list[str]
    voters: int
    participation: int
    quorum: int
    quorum_reached: bool
    counts: list[int]
    rounds: list[list[int]]
    winner: int | None
    passed: bool
    final: bool


class PowerRead(BaseModel):
    """A member's voting power on a proposal, from the log's snapshot when the voting opened."""

    power: int
    snapshot: int | None
    method: Method


class StepRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    step: str
    at: datetime
    actor: str | None = Field(validation_alias="actor_handle")
    note: str


class ParameterRead(BaseModel):
    name: str
    label: str
    unit: str
    group: str
    minimum: int
    maximum: int
    default: int
    value: int
