"""What the problems API accepts and returns."""

from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from aicommons.communities.schemas import Slug
from aicommons.core.sdg import goals
from aicommons.problems.models import PayoutRule, ProblemState, RequestKind, RequestState, SubmissionState
from aicommons.problems.scoring import Metric, Task, fits

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=120)]
Column = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]


def _known_targets(targets: list[str]) -> list[str]:
    known = {target for goal in goals() for target, _ in goal.targets}
    unknown = [target for target in targets if target not in known]
    if unknown:
        raise ValueError(f"not SDG targets: {', '.join(unknown)} (targets look like 2.1 or 14.c)")
    return sorted(set(targets), key=lambda target: [int(p) if p.isdigit() else p for p in target.split(".")])


SdgTargets = Annotated[list[str], Field(min_length=1, max_length=20), AfterValidator(_known_targets)]


class DatasetVersionRef(BaseModel):
    """A dataset version by the dataset's slug (or number) and the version's number."""

    model_config = ConfigDict(extra="forbid")

    dataset: Annotated[str, StringConstraints(min_length=1, max_length=60)]
    version: int = Field(ge=1)


class ProblemCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Title
    slug: Slug | None = None
    statement: Annotated[str, Field(max_length=50_000)] = ""
    task: Task
    metric: Metric
    id_column: Column = "id"
    target_column: Column
    sdg_targets: SdgTargets
    input: DatasetVersionRef | None = None  # the version whose schema solvers' inputs follow
    datasets: Annotated[list[DatasetVersionRef], Field(max_length=20)] = Field(default_factory=list)
    public_percent: int = Field(default=30, ge=1, le=99)
    opens_at: datetime
    closes_at: datetime
    # Left out, these three take the commons' current defaults, which members set by vote (governance).
    daily_limit: int | None = Field(default=None, ge=1, le=1000)
    total_limit: int | None = Field(default=None, ge=1, le=100_000)
    team_size_limit: int = Field(default=5, ge=1, le=100)
    bounty: int = Field(default=0, ge=0, le=10**12)
    payout_rule: PayoutRule = PayoutRule.WINNER
    dividend_percent: int | None = Field(default=None, ge=0, le=100)
    community: Slug | None = None

    @model_validator(mode="after")
    def _consistent(self) -> "ProblemCreate":
        if self.closes_at <= self.opens_at:
            raise ValueError("a problem closes after it opens")
        if not fits(self.task, self.metric):
            raise ValueError(f"{self.metric} does not score a {self.task} problem")
        if self.id_column == self.target_column:
            raise ValueError("the id column and the target column differ")
        return self


class ProblemRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    slug: str
    title: str
    statement: str
    task: str
    metric: str
    id_column: str
    target_column: str
    classes: list[Any]
    input_columns: list[dict[str, str]]
    sdg_targets: list[str]
    dataset_versions: list[int]
    evaluation_rows: int
    public_percent: int
    opens_at: datetime
    closes_at: datetime
    daily_limit: int
    total_limit: int
    team_size_limit: int
    bounty: int
    payout_rule: PayoutRule
    dividend_percent: int
    state: ProblemState
    rank_correlation: float | None
    created_at: datetime
    published_at: datetime | None
    closed_at: datetime | None


class ProblemPage(BaseModel):
    items: list[ProblemRead]
    total: int
    page: int
    size: int


class SubmissionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    team: str = Field(validation_alias="team_name")
    state: SubmissionState
    public_score: float | None
    public_low: float | None
    public_high: float | None
    private_score: float | None
    selected: bool
    error: dict[str, Any] | None
    datasets: list[int]
    note: str
    job_id: int | None
    created_at: datetime
    scored_at: datetime | None


class LeaderboardRow(BaseModel):
    rank: int
    team: str
    score: float
    low: float | None
    high: float | None
    submissions: int
    last_submission_at: datetime


class Leaderboard(BaseModel):
    problem: str
    board: str  # public, or private once the problem closed
    metric: str
    rows: list[LeaderboardRow]
    total: int  # teams on the board
    page: int
    size: int


class TeamMembers(BaseModel):
    """A team by its name, and its members' handles."""

    team: str
    members: list[str]


class InvitationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    handle: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)]


class TeamRequestRead(BaseModel):
    """An invitation to a team (from one of its members) or a request to join it (from the member)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: RequestKind
    state: RequestState  # pending, accepted (the member joined) or declined
    team: str = Field(validation_alias="team_name")
    member: str = Field(validation_alias="handle")  # who joins, once it is accepted
    invited_by: str | None = Field(validation_alias="inviter")
    created_at: datetime
    decided_at: datetime | None


class TeamRead(BaseModel):
    """Your team on a problem (none yet: `team` is null) and what waits: invitations to you, requests to
    your team, and your own requests and your team's invitations."""

    team: str | None
    members: list[str]
    invitations: list[TeamRequestRead]
    requests: list[TeamRequestRead]
    outgoing: list[TeamRequestRead]
