"""What the federated learning API accepts and returns."""

from datetime import datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    computed_field,
    model_validator,
)

from aicommons.datasets.licenses import SPDX_LICENSES
from aicommons.federation.learning import Family
from aicommons.federation.models import RunState
from aicommons.federation.plans import StrategyName

NodeName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=2, max_length=60, pattern=r"^[a-z0-9][a-z0-9_-]*$"),
]


def _known_license(identifier: str) -> str:
    if identifier not in SPDX_LICENSES:
        raise ValueError(f"{identifier!r} is not an SPDX license identifier the commons knows")
    return identifier


class NodeCreate(BaseModel):
    """A data owner's node for a federated dataset, and the policy it trains under. A deployed node has a
    `public_key` and states its `rows`; a simulated one has neither: its owner uploads its rows next."""

    model_config = ConfigDict(extra="forbid")

    name: NodeName
    dataset: Annotated[str, StringConstraints(min_length=1, max_length=60)]
    public_key: Annotated[str, StringConstraints(min_length=16, max_length=4096)] | None = None  # deployment
    rows: int | None = Field(default=None, ge=1)  # a deployed node's row count (a simulated one is read)
    accepted_problems: Annotated[list[int], Field(max_length=100)] = Field(default_factory=list)
    max_rounds: int = Field(default=50, ge=1, le=1000)
    max_local_epochs: int = Field(default=10, ge=1, le=100)
    require_privacy: bool = False
    max_epsilon: float | None = Field(default=None, gt=0, le=100)

    @model_validator(mode="after")
    def _rows_of_its_engine(self) -> "NodeCreate":
        if self.public_key is not None and self.rows is None:
            raise ValueError("a deployed node states its number of rows")
        if self.public_key is None and self.rows is not None:
            raise ValueError("a simulated node's rows are counted from the file its owner uploads")
        return self


class NodeRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    dataset_id: int
    version_id: int
    rows: int
    simulated: bool
    awaiting_rows: bool
    accepted_problems: list[int]
    max_rounds: int
    max_local_epochs: int
    require_privacy: bool
    max_epsilon: float | None
    created_at: datetime


class RunCreate(BaseModel):
    """A federated training run for a problem."""

    model_config = ConfigDict(extra="forbid")

    family: Family = Family.LOGISTIC
    strategy: StrategyName = StrategyName.FEDAVG
    rounds: int = Field(default=5, ge=1, le=100)
    fraction: float = Field(default=1.0, gt=0, le=1)
    min_nodes: int = Field(default=2, ge=1, le=1000)
    local_epochs: int = Field(default=1, ge=1, le=100)
    learning_rate: float = Field(default=0.1, gt=0, le=10)
    proximal_mu: float = Field(default=0.0, ge=0, le=100)
    clip_norm: float | None = Field(default=None, gt=0, le=1000)
    noise_multiplier: float = Field(default=0.0, ge=0, le=100)
    delta: float = Field(default=1e-5, gt=0, lt=1)
    license: Annotated[str, AfterValidator(_known_license)] = "CC-BY-4.0"
    nodes: Annotated[list[int], Field(max_length=1000)] | None = None  # default: every eligible node
    seed: int = Field(default=0, ge=0, le=2**31)

    @model_validator(mode="after")
    def _private_needs_clipping(self) -> "RunCreate":
        if self.noise_multiplier > 0 and self.clip_norm is None:
            raise ValueError("differential privacy (a noise_multiplier) needs a clip_norm")
        if self.proximal_mu > 0 and self.strategy != StrategyName.FEDPROX:
            raise ValueError("proximal_mu is FedProx's: choose the fedprox strategy")
        return self


class RoundRead(BaseModel):
    """A completed round; in a private run each participant's part holds the ε it has spent so far, and
    `epsilon` is the largest of them, spent by `epsilon_node`."""

    model_config = ConfigDict(from_attributes=True)

    number: int
    model_sha256: str
    method: str
    metrics: dict[str, float]
    participants: list[dict[str, Any]]
    epsilon: float | None
    dropped: int
    created_at: datetime

    @computed_field  # type: ignore[prop-decorator]
    @property
    def epsilon_node(self) -> int | None:
        """The node that spent the round's ε (the most of any participant; of equals, the lowest id)."""
        spent = [(part["epsilon"], -part["node"]) for part in self.participants if "epsilon" in part]
        return -max(spent)[1] if spent else None


class RunRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    problem_id: int
    family: str
    strategy: str
    rounds: int
    fraction: float
    min_nodes: int
    local_epochs: int
    learning_rate: float
    proximal_mu: float
    clip_norm: float | None
    noise_multiplier: float
    delta: float
    license: str
    state: RunState
    job_id: int | None
    error: str | None
    node_ids: list[int]
    round_rows: list[RoundRead] = Field(serialization_alias="completed_rounds")
    declined: dict[str, str] = Field(default_factory=dict)  # why each node left out of the run declined
    created_at: datetime
    finished_at: datetime | None


def _without_scaling(architecture: dict[str, Any]) -> dict[str, Any]:
    """A model registered before decision 0050 kept the evaluation rows' means and spreads beside its
    weights: they are never served."""
    return {key: value for key, value in architecture.items() if key not in {"means", "scales"}}


class ModelRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    slug: str
    run_id: int
    problem_id: int
    blob_sha256: str
    architecture: Annotated[dict[str, Any], AfterValidator(_without_scaling)]
    card: dict[str, Any]
    contributors: list[dict[str, Any]]
    license: str
    price_per_prediction: int
    created_at: datetime


class PredictionRequest(BaseModel):
    """Rows to predict, each a mapping of the model's feature columns to numbers."""

    model_config = ConfigDict(extra="forbid")

    rows: Annotated[list[dict[str, float | int | None]], Field(min_length=1, max_length=10_000)]


class ModelPrice(BaseModel):
    """What each prediction request of a model costs, in tokens (0: free)."""

    model_config = ConfigDict(extra="forbid")

    price: int = Field(ge=0, le=1_000_000)
