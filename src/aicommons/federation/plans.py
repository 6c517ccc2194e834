"""What a federated run is, apart from Flower: the plan the server sends each node, a node's policy,
the evaluation the server scores models with, and how it screens and values the nodes' updates.

The plan travels as a flat mapping (a Flower ConfigRecord in `flower`): features and their scaling,
model family, local training and privacy settings. A node checks it against its owner's policy
(`NodePolicy`) before it trains. Before aggregating, the server screens the updates (`screen`: NaN,
wrong shapes, exploding norms) and values each remaining one without retraining (`value_round`:
Shapley values over reconstructed aggregates evaluated on the problem's evaluation rows); an update
whose value is clearly negative is left out of the aggregate.
"""

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow.parquet as pq

from aicommons.federation import contribution, learning, privacy
from aicommons.federation.learning import Architecture, Family, Training
from aicommons.problems.scoring import Metric, Prediction, Task, prediction_kind, score

Weights = list[npt.NDArray[np.float64]]

EXPLODING = 20.0  # an update whose change is this many times the median change is left out
# A value below minus the larger of these (in the metric's units; the second relative to the round's
# starting score) leaves the update out of the aggregate: clear harm, not the noise of a converged model.
NEGATIVE = 1e-3
NEGATIVE_SHARE = 2e-3


class StrategyName(StrEnum):
    FEDAVG = "fedavg"
    FEDPROX = "fedprox"
    FEDMEDIAN = "fedmedian"
    TRIMMED_MEAN = "trimmed_mean"
    KRUM = "krum"


@dataclass(frozen=True)
class Plan:
    """What the server asks of every node: the model, its inputs, how to train, how private to be."""

    architecture: Architecture
    task: Task
    features: tuple[str, ...]
    target: str
    classes: tuple[str, ...]
    means: tuple[float, ...]
    scales: tuple[float, ...]
    training: Training
    problem_id: int
    rounds: int
    delta: float = 1e-5
    seed: int = 0  # the run's seed: every random choice of a node's training derives from it

    def config(self) -> dict[str, Any]:
        """The plan as a flat mapping: the only thing besides the weights that a node receives."""
        return dict(
            {
                "family": self.architecture.family.value,
                "outputs": self.architecture.outputs,
                "hidden": self.architecture.hidden,
                "task": self.task.value,
                "features": list(self.features),
                "target": self.target,
                "classes": list(self.classes),
                "means": list(self.means),
                "scales": list(self.scales),
                "epochs": self.training.epochs,
                "learning-rate": self.training.learning_rate,
                "batch-size": self.training.batch_size,
                "proximal-mu": self.training.proximal_mu,
                "clip-norm": self.training.clip_norm or 0.0,
                "noise-multiplier": self.training.noise_multiplier,
                "problem": self.problem_id,
                "rounds": self.rounds,
                "delta": self.delta,
                "seed": self.seed,
            }
        )

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> "Plan":
        features = tuple(str(name) for name in _list(config, "features"))
        architecture = Architecture(
            family=Family(str(config["family"])),
            features=len(features),
            outputs=int(number(config, "outputs")),
            hidden=int(number(config, "hidden")),
        )
        clip = float(number(config, "clip-norm"))
        training = Training(
            epochs=int(number(config, "epochs")),
            learning_rate=float(number(config, "learning-rate")),
            batch_size=int(number(config, "batch-size")),
            proximal_mu=float(number(config, "proximal-mu")),
            clip_norm=clip or None,
            noise_multiplier=float(number(config, "noise-multiplier")),
        )
        return cls(
            architecture=architecture,
            task=Task(str(config["task"])),
            features=features,
            target=str(config["target"]),
            classes=tuple(str(label) for label in _list(config, "classes")),
            means=tuple(float(value) for value in _list(config, "means")),
            scales=tuple(float(value) for value in _list(config, "scales")),
            training=training,
            problem_id=int(number(config, "problem")),
            rounds=int(number(config, "rounds")),
            delta=float(number(config, "delta")),
            seed=int(number(config, "seed")),
        )

    def training_seed(self, node_id: int, round_number: int) -> int:
        """The seed of a node's training in a round: the run's seed, the node and the round, so that a run
        repeated with the same seed trains every node exactly as before."""
        return int(np.random.SeedSequence([self.seed, node_id, round_number]).generate_state(1)[0])

    def inputs(self, frame: Any) -> npt.NDArray[np.float64]:
        """The standardised feature matrix of a pandas frame that has the plan's feature columns."""
        raw = frame[list(self.features)].to_numpy(dtype=np.float64)
        return np.asarray((raw - np.asarray(self.means)) / np.asarray(self.scales), dtype=np.float64)

    def labels(self, values: Sequence[Any]) -> npt.NDArray[Any]:
        """Targets as the model learns them: class indexes, or numbers."""
        if self.task is Task.REGRESSION:
            return np.asarray(values, dtype=np.float64)
        code = {label: index for index, label in enumerate(self.classes)}
        return np.fromiter((code[str(value)] for value in values), dtype=np.int64)


def number(config: Mapping[str, Any], key: str) -> float:
    value = config[key]
    if not isinstance(value, int | float):
        raise ValueError(f"the plan's {key!r} is not a number")
    return value


def _list(config: Mapping[str, Any], key: str) -> list[Any]:
    value = config[key]
    if not isinstance(value, list):
        raise ValueError(f"the plan's {key!r} is not a list")
    return value


# --- the node's side ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NodePolicy:
    """What a data owner lets their node do; anything else is refused, and the refusal logged."""

    accepted_problems: tuple[int, ...] = ()  # empty: any problem
    max_rounds: int = 50
    max_local_epochs: int = 10
    require_privacy: bool = False
    max_epsilon: float | None = None

    def refusal(self, plan: Plan, rows: int) -> str | None:
        """Why the node refuses the plan, or None when it accepts it."""
        if rows < 1:
            return "the node has no rows yet: its owner uploads them first"
        if self.accepted_problems and plan.problem_id not in self.accepted_problems:
            return f"problem {plan.problem_id} is not among the problems this node accepts"
        if plan.rounds > self.max_rounds or plan.training.epochs > self.max_local_epochs:
            return f"at most {self.max_rounds} rounds of {self.max_local_epochs} local epochs"
        if self.require_privacy and not plan.training.noise_multiplier:
            return "this node trains only with differential privacy"
        if self.max_epsilon is not None and spent_epsilon(plan, rows, plan.rounds) > self.max_epsilon:
            return f"the run would spend more privacy than ε = {self.max_epsilon:g}"
        return None


def spent_epsilon(plan: Plan, rows: int, rounds: int) -> float:
    """The ε a node of `rows` rows spends over `rounds` rounds of the plan (infinite without noise)."""
    rate, steps = _noisy_steps(plan, rows, rounds)
    noise = plan.training.noise_multiplier
    return privacy.epsilon(noise_multiplier=noise, sample_rate=rate, steps=steps, delta=plan.delta)


def noise_for(plan: Plan, rows: int, epsilon: float) -> float:
    """The smallest noise multiplier (in hundredths) with which the plan's whole run spends at most
    `epsilon` on a node of `rows` rows."""
    rate, steps = _noisy_steps(plan, rows, plan.rounds)
    return privacy.noise_multiplier_for(budget=epsilon, sample_rate=rate, steps=steps, delta=plan.delta)


def _noisy_steps(plan: Plan, rows: int, rounds: int) -> tuple[float, int]:
    """The share of a node's rows in each batch, and how many batches it trains on over `rounds` rounds."""
    batch = min(plan.training.batch_size, rows)
    return batch / rows, rounds * plan.training.epochs * -(-rows // batch)


@dataclass(frozen=True)
class NodeData:
    """A node of the simulation engine: its id at the commons, its local file and its owner's policy."""

    node_id: int
    path: str
    policy: NodePolicy = field(default_factory=NodePolicy)


def node_from_config(config: Mapping[str, Any]) -> NodeData:
    """The node a SuperNode's `--node-config` describes (keys of `node_config`)."""
    accepted = str(config.get("accepted-problems", ""))
    policy = NodePolicy(
        accepted_problems=tuple(int(one) for one in accepted.split(",") if one.strip()),
        max_rounds=int(config.get("max-rounds", 50)),
        max_local_epochs=int(config.get("max-local-epochs", 10)),
        require_privacy=bool(config.get("require-privacy", False)),
        max_epsilon=float(config["max-epsilon"]) if config.get("max-epsilon") else None,
    )
    return NodeData(int(config["node-id"]), str(config["data-path"]), policy)


def node_config(node: NodeData) -> dict[str, Any]:
    """`node_from_config`'s inverse: what `aicommons node start` passes to `flower-supernode`."""
    policy = node.policy
    return {
        "node-id": node.node_id,
        "data-path": node.path,
        "accepted-problems": ",".join(str(one) for one in policy.accepted_problems),
        "max-rounds": policy.max_rounds,
        "max-local-epochs": policy.max_local_epochs,
        "require-privacy": policy.require_privacy,
        "max-epsilon": policy.max_epsilon or 0.0,
    }


_ROWS: dict[str, Any] = {}  # each process reads a node's file once


def local_rows(path: str) -> Any:
    """The node's rows (Parquet, known by its magic bytes, or CSV), read once per process."""
    if path not in _ROWS:
        import pandas as pd

        source = Path(path)
        with source.open("rb") as start:
            parquet = start.read(4) == b"PAR1"
        _ROWS[path] = pq.read_table(source).to_pandas() if parquet else pd.read_csv(source)
    return _ROWS[path]


# --- the server's side -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Evaluation:
    """The problem's evaluation rows as the server scores models on them (never sent to a node)."""

    plan: Plan
    metric: Metric
    inputs: npt.NDArray[np.float64]
    truth: npt.NDArray[Any]

    def score(self, weights: Sequence[npt.NDArray[np.float64]]) -> float:
        """The problem's metric for a model on the evaluation rows."""
        output = learning.predict(self.plan.architecture, weights, self.inputs)
        return score(self.metric, self.truth, _as_predictions(self.plan.task, self.metric, output))

    def utility(self, weights: Sequence[npt.NDArray[np.float64]]) -> float:
        """Minus the model's loss on the evaluation rows (cross-entropy, or mean squared error), in which
        contributions are valued: unlike a metric such as accuracy it moves with every improvement."""
        value = learning.loss(self.plan.architecture, weights, self.inputs, self.truth)
        return -value if np.isfinite(value) else -1e12


def _as_predictions(task: Task, metric: Metric, output: npt.NDArray[np.float64]) -> npt.NDArray[Any]:
    kind = prediction_kind(task, metric)
    if kind is Prediction.LABEL:
        return np.asarray(output.argmax(axis=1))
    if kind is Prediction.PROBABILITY:
        return np.asarray(output[:, 1])
    return output


@dataclass(frozen=True)
class Participant:
    """One node's part in a round."""

    node_id: int
    rows: int
    update_sha256: str
    value: float = 0.0
    left_out: str | None = None  # why its update was not aggregated


@dataclass(frozen=True)
class RoundReport:
    number: int
    weights: Weights
    participants: tuple[Participant, ...]
    method: str
    metrics: dict[str, float]
    dropped: int = 0  # nodes sent the round that answered with an error or not at all


def update_hash(weights: Sequence[npt.NDArray[np.float64]]) -> str:
    """The SHA-256 of an update's arrays (shapes and float64 bytes, in order): what the log names."""
    digest = hashlib.sha256()
    for array in weights:
        digest.update(str(array.shape).encode())
        digest.update(np.ascontiguousarray(array, dtype=np.float64).tobytes())
    return digest.hexdigest()


def screen(architecture: Architecture, start: Weights, updates: Sequence[Weights]) -> list[str | None]:
    """Why each update is left out (malformed, not finite, exploding), or None for a sound one.

    An update explodes when its change from the round's start is more than EXPLODING times the median
    change of the others, so that one huge update cannot hide by moving the median itself."""
    reasons = [_malformed(architecture, weights) for weights in updates]
    changes = {
        index: float(np.sqrt(sum(np.sum((new - old) ** 2) for new, old in zip(weights, start, strict=True))))
        for index, weights in enumerate(updates)
        if reasons[index] is None
    }
    for index, change in changes.items():
        others = [other for key, other in changes.items() if key != index]
        if others and change > EXPLODING * max(float(np.median(others)), 1e-12):
            reasons[index] = (
                f"exploding: it moves the model {change:.3g}, the others a median {np.median(others):.3g}"
            )
    return reasons


def _malformed(architecture: Architecture, weights: Weights) -> str | None:
    """Why an update does not fit the model (shapes, NaN or infinity), or None."""
    try:
        learning.check_weights(architecture, weights)
    except ValueError as error:
        return f"malformed: {error}"
    return None


Aggregate = Callable[[Sequence[Weights], Sequence[int]], Weights]
TRIM = 0.2  # the trimmed mean leaves out this fraction of the values at each end, per weight (Flower's beta)


def average(updates: Sequence[Weights], rows: Sequence[int]) -> Weights:
    """The row-weighted average of updates (FedAvg's and FedProx's rule)."""
    total = float(sum(rows))
    return [
        np.sum(
            [weights[layer] * (count / total) for weights, count in zip(updates, rows, strict=True)], axis=0
        )
        for layer in range(len(updates[0]))
    ]


def median(updates: Sequence[Weights], rows: Sequence[int]) -> Weights:
    """The coordinate-wise median of the updates (FedMedian's rule); rows do not weigh."""
    return [np.median(np.stack(layer), axis=0) for layer in zip(*updates, strict=True)]


def trimmed_mean(updates: Sequence[Weights], rows: Sequence[int]) -> Weights:
    """The coordinate-wise mean once the `TRIM` share of lowest and highest values is left out."""
    cut = int(TRIM * len(updates))
    kept = slice(cut, len(updates) - cut)
    return [np.mean(np.sort(np.stack(layer), axis=0)[kept], axis=0) for layer in zip(*updates, strict=True)]


def krum(updates: Sequence[Weights], rows: Sequence[int]) -> Weights:
    """The one update closest to its n - 2 nearest others (Krum's rule, no node assumed malicious); of
    equally close updates, the first in the given order (the lowest node id) is chosen."""
    flat = np.stack([np.concatenate([np.ravel(array) for array in weights]) for weights in updates])
    distances = np.stack([((flat - row) ** 2).sum(axis=1) for row in flat])
    nearest = max(1, len(updates) - 2)
    scores = [float(np.sort(np.delete(row, index))[:nearest].sum()) for index, row in enumerate(distances)]
    return [np.array(array, dtype=np.float64) for array in updates[int(np.argmin(scores))]]


def aggregation(strategy: "StrategyName") -> Aggregate:
    """How the strategy makes the round's model of a set of updates: the one rule that both makes the
    model and values the nodes' updates (a coalition is worth the model this rule makes of it)."""
    return {
        StrategyName.FEDMEDIAN: median,
        StrategyName.TRIMMED_MEAN: trimmed_mean,
        StrategyName.KRUM: krum,
    }.get(strategy, average)


def value_round(
    evaluation: Evaluation,
    start: Weights,
    updates: Sequence[Weights],
    rows: Sequence[int],
    *,
    aggregate: Aggregate,
    seed: int,
) -> contribution.Valuation:
    """Each update's contribution: Shapley values of the utility of the model `aggregate` makes of each
    coalition's updates."""

    def utility(coalition: frozenset[int]) -> float:
        if not coalition:
            return evaluation.utility(start)
        members = sorted(coalition)
        return evaluation.utility(aggregate([updates[i] for i in members], [rows[i] for i in members]))

    return contribution.value(len(updates), utility, seed=seed)


@dataclass(frozen=True)
class RunSettings:
    """How the server runs the rounds."""

    strategy: StrategyName = StrategyName.FEDAVG
    fraction: float = 1.0
    min_nodes: int = 2
    seed: int = 0
    round_timeout_s: float = 600.0
    expected_nodes: int = 0  # nodes to wait for before the first round (the simulation knows them all)


@dataclass(frozen=True)
class Judgement:
    """What the server makes of a round's updates before aggregating them."""

    left_out: list[str | None]  # why each update is left out, or None
    values: dict[int, float]  # each sound update's contribution, by its index
    method: str  # how the values were measured


def judge(
    evaluation: Evaluation,
    start: Weights,
    updates: Sequence[Weights],
    rows: Sequence[int],
    *,
    aggregate: Aggregate,
    seed: int,
) -> Judgement:
    """Screen the updates, value the sound ones, and leave out those whose value is clearly negative."""
    reasons = screen(evaluation.plan.architecture, start, updates)
    sound = [index for index, reason in enumerate(reasons) if reason is None]
    if not sound:
        return Judgement(reasons, {}, "none")
    valuation = value_round(
        evaluation,
        start,
        [updates[i] for i in sound],
        [rows[i] for i in sound],
        aggregate=aggregate,
        seed=seed,
    )
    values = dict(zip(sound, valuation.values, strict=True))
    harm = max(NEGATIVE, NEGATIVE_SHARE * abs(evaluation.utility(start)))
    for index, found in values.items():
        if found < -harm:
            reasons[index] = f"negative contribution: {found:.4g}"
    return Judgement(reasons, values, valuation.method.value)
