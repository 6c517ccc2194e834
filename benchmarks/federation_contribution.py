"""Valuing the nodes of a federated round: exact Shapley on 10 nodes, Monte Carlo on 50, and its ranks on 8.

A first round of softmax regression on scikit-learn's digits (8x8 images, 10 classes): the training part
is split over the nodes by label with Dirichlet(0.5) proportions (non-IID, seeded, at least
`MIN_NODE_SAMPLES` each), and each node takes `LOCAL_STEPS` steps of full-batch gradient descent from the
common starting model (all zeros). The utility of a coalition is the held-out accuracy of the
sample-weighted average of its nodes' weights: the round's aggregate reconstructed from their updates,
no retraining. Training is not timed; the valuation is, its utility computations included. Run alone
with `python -m benchmarks.federation_contribution`; see benchmarks/README.md.
"""

import os
import statistics
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial

import numpy as np
import numpy.typing as npt
from rich.console import Console
from rich.table import Table
from sklearn.datasets import load_digits

from aicommons.federation.contribution import Method, Utility, Valuation, exact_shapley, monte_carlo_shapley
from aicommons.problems.scoring import spearman
from benchmarks.report import verdict

EXACT_TARGET_S = 1.0  # exact Shapley of a 10-node round
APPROXIMATION_TARGET_S = 5.0  # Monte Carlo Shapley of a 50-node round
SPEARMAN_TARGET = 0.9  # Monte Carlo against exact Shapley on 8 nodes: the median over the draws
COMPARISON_DRAWS = 5  # Monte Carlo valuations (seeds SEED, SEED + 1, ...) ranked against exact Shapley

DIRICHLET_ALPHA = 0.5
MIN_NODE_SAMPLES = 5
LOCAL_STEPS = 30
LEARNING_RATE = 0.5
TEST_FRACTION = 0.25
SEED = 2024

Array = npt.NDArray[np.float64]


@dataclass(frozen=True)
class ContributionConfig:
    """How many nodes each valuation gets (AICOMMONS_BENCH_FED_* variables)."""

    exact_nodes: int = 10
    approximate_nodes: int = 50
    compared_nodes: int = 8

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> "ContributionConfig":
        return cls(
            exact_nodes=int(environ.get("AICOMMONS_BENCH_FED_EXACT_NODES", cls.exact_nodes)),
            approximate_nodes=int(
                environ.get("AICOMMONS_BENCH_FED_APPROXIMATE_NODES", cls.approximate_nodes)
            ),
            compared_nodes=int(environ.get("AICOMMONS_BENCH_FED_COMPARED_NODES", cls.compared_nodes)),
        )


@dataclass(frozen=True)
class ValuationRun:
    """Valuations of a round: its size, the method, their cost, and how estimates rank against exact.

    With several draws, `evaluations` and `seconds` are the mean of a draw and `spearman` holds each
    draw's rank correlation with exact Shapley.
    """

    scenario: str
    nodes: int
    method: Method
    evaluations: int
    seconds: float
    target_s: float
    accuracy: tuple[float, float]  # of the starting model and of the aggregate of every node
    spearman: tuple[float, ...] = ()

    @property
    def target(self) -> str:
        ranks = f", Spearman ≥ {SPEARMAN_TARGET:g}" if self.spearman else ""
        return f"< {self.target_s:g} s{ranks}"

    @property
    def passed(self) -> bool:
        ranked = not self.spearman or statistics.median(self.spearman) >= SPEARMAN_TARGET
        return self.seconds < self.target_s and ranked


@dataclass(frozen=True)
class FederatedRound:
    """The nodes' trained weights, their sample counts, the starting model and the held-out data."""

    models: Array  # one flattened weight matrix per node
    sizes: Array
    start: Array
    test_x: Array
    test_y: npt.NDArray[np.int64]

    def accuracy(self, coalition: frozenset[int]) -> float:
        """The held-out accuracy of the sample-weighted average of the coalition's weights."""
        nodes = list(coalition)
        weights = self.sizes[nodes] @ self.models[nodes] / self.sizes[nodes].sum() if nodes else self.start
        logits = self.test_x @ weights.reshape(self.test_x.shape[1], -1)
        return float(np.mean(logits.argmax(axis=1) == self.test_y))


def _digits(rng: np.random.Generator) -> tuple[Array, npt.NDArray[np.int64], Array, npt.NDArray[np.int64]]:
    """Digits scaled to [0, 1] with a bias column, split into training and held-out rows."""
    features, labels = load_digits(return_X_y=True)
    features = np.hstack([features / 16.0, np.ones((len(features), 1))])
    order = rng.permutation(len(labels))
    test, train = np.split(order, [int(TEST_FRACTION * len(labels))])
    return features[train], labels[train], features[test], labels[test]


def dirichlet_split(labels: npt.NDArray[np.int64], nodes: int, rng: np.random.Generator) -> list[Array]:
    """Each label's rows dealt to the nodes in Dirichlet(alpha) proportions; redrawn until none is tiny."""
    for _ in range(1_000):
        parts: list[list[Array]] = [[] for _ in range(nodes)]
        for label in np.unique(labels):
            rows = rng.permutation(np.flatnonzero(labels == label))
            cuts = (np.cumsum(rng.dirichlet([DIRICHLET_ALPHA] * nodes)) * len(rows)).astype(int)[:-1]
            for part, chunk in zip(parts, np.split(rows, cuts), strict=True):
                part.append(chunk)
        shares = [np.concatenate(part) for part in parts]
        if min(map(len, shares)) >= MIN_NODE_SAMPLES:
            return shares
    raise RuntimeError(f"no Dirichlet split gives {nodes} nodes {MIN_NODE_SAMPLES} rows each")


def local_training(features: Array, labels: npt.NDArray[np.int64], start: Array) -> Array:
    """A node's update: full-batch gradient descent on softmax regression from the starting model."""
    weights = start.reshape(features.shape[1], -1).copy()
    targets = np.eye(weights.shape[1])[labels]
    for _ in range(LOCAL_STEPS):
        logits = features @ weights
        probabilities = np.exp(logits - logits.max(axis=1, keepdims=True))
        probabilities /= probabilities.sum(axis=1, keepdims=True)
        weights -= LEARNING_RATE * features.T @ (probabilities - targets) / len(labels)
    return weights.ravel()


def federated_round(nodes: int, *, seed: int = SEED) -> FederatedRound:
    """A first round over `nodes` nodes of non-IID digits, every node trained from the same zeros."""
    rng = np.random.default_rng(seed)
    train_x, train_y, test_x, test_y = _digits(rng)
    start = np.zeros(train_x.shape[1] * 10)
    shares = dirichlet_split(train_y, nodes, rng)
    models = np.stack([local_training(train_x[rows], train_y[rows], start) for rows in shares])
    sizes = np.array([len(rows) for rows in shares], dtype=float)
    return FederatedRound(models, sizes, start, test_x, test_y)


def _timed(valuate: Callable[[int, Utility], Valuation], round_: FederatedRound) -> tuple[Valuation, float]:
    started = time.perf_counter()
    valuation = valuate(len(round_.sizes), round_.accuracy)
    return valuation, time.perf_counter() - started


def bench_valuations(
    scenario: str,
    round_: FederatedRound,
    valuates: list[Callable[[int, Utility], Valuation]],
    *,
    target_s: float,
    reference: Valuation | None = None,
) -> tuple[ValuationRun, Valuation]:
    """Time each valuation of the round, rank each against the `reference`; the row and the first one."""
    timed = [_timed(valuate, round_) for valuate in valuates]
    valuations = [valuation for valuation, _ in timed]
    ranks = [spearman(valuation.values, reference.values) for valuation in valuations] if reference else []
    row = ValuationRun(
        scenario,
        len(round_.sizes),
        valuations[0].method,
        round(statistics.mean(valuation.evaluations for valuation in valuations)),
        statistics.mean(seconds for _, seconds in timed),
        target_s,
        (round_.accuracy(frozenset()), round_.accuracy(frozenset(range(len(round_.sizes))))),
        tuple(ranks),
    )
    return row, valuations[0]


def _estimates(draws: int) -> list[Callable[[int, Utility], Valuation]]:
    return [partial(monte_carlo_shapley, seed=SEED + draw) for draw in range(draws)]


def run(console: Console, config: ContributionConfig | None = None) -> list[ValuationRun]:
    """Value a 10-node round exactly, a 50-node round by Monte Carlo, and an 8-node round both ways."""
    config = config or ContributionConfig.from_env()
    console.rule("federation: contribution valuation of one round of softmax regression on digits")
    exact, _ = bench_valuations(
        "per round", federated_round(config.exact_nodes), [exact_shapley], target_s=EXACT_TARGET_S
    )
    estimate, _ = bench_valuations(
        "per round", federated_round(config.approximate_nodes), _estimates(1), target_s=APPROXIMATION_TARGET_S
    )
    compared = federated_round(config.compared_nodes)
    reference_row, reference = bench_valuations(
        "reference", compared, [exact_shapley], target_s=EXACT_TARGET_S
    )
    ranks, _ = bench_valuations(
        f"{COMPARISON_DRAWS} seeds",
        compared,
        _estimates(COMPARISON_DRAWS),
        target_s=APPROXIMATION_TARGET_S,
        reference=reference,
    )
    rows = [exact, estimate, reference_row, ranks]
    console.print(valuation_table(rows))
    return rows


def valuation_table(rows: list[ValuationRun]) -> Table:
    table = Table(title="Contribution valuation of one federated round (reconstructed aggregates, digits)")
    columns = ("scenario", "nodes", "Shapley", "utilities", "seconds", "accuracy", "Spearman")
    for column in (*columns, "target", "result"):
        justify = "left" if column in {"scenario", "Shapley", "target"} else "right"
        table.add_column(column, justify=justify, no_wrap=True)
    for row in rows:
        table.add_row(
            row.scenario,
            str(row.nodes),
            str(row.method).removesuffix("_shapley").replace("_", " "),
            f"{row.evaluations:,}",
            f"{row.seconds:.3f}",
            f"{row.accuracy[0]:.3f} → {row.accuracy[1]:.3f}",
            _ranks(row.spearman),
            row.target,
            verdict(row.passed),
        )
    return table


def _ranks(correlations: tuple[float, ...]) -> str:
    if not correlations:
        return ""
    return f"{statistics.median(correlations):.3f} (≥ {min(correlations):.3f})"


if __name__ == "__main__":
    terminal = Console()
    results = run(terminal if terminal.is_terminal else Console(width=130))
    raise SystemExit(0 if all(row.passed for row in results) else 1)
