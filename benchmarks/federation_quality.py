"""Federated against central training: logistic regression on digits and breast cancer over 5 nodes.

Each dataset is split once into training rows (75%) and held-out test rows (25%, stratified, seeded).
The training rows are dealt to the nodes IID (`partitions.iid`) or label-skewed
(`partitions.dirichlet`, alpha 0.5) and written as one Parquet file per node in a temporary directory.
The federated model is trained by the platform's own engine, `flower.simulate`, with a plan and an
evaluation built as `federation.service` builds them (features standardised with the evaluation rows'
mean and standard deviation, classes sorted), the test rows being the evaluation. The central model is
the same family trained by `learning.train` on the pooled training rows with the same learning rate and
batch size for rounds x local epochs epochs: the same number of passes over every row. See
benchmarks/README.md ("Federated learning").
"""

import logging
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from rich.console import Console
from rich.table import Table
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.model_selection import train_test_split

from aicommons.federation import learning, partitions
from aicommons.federation.learning import Architecture, Family, Training
from aicommons.federation.plans import Evaluation, NodeData, Plan, RoundReport, RunSettings, StrategyName
from aicommons.problems.scoring import Metric, Task
from benchmarks.config import FED_IID_GAP_POINTS, FED_NON_IID_GAP_POINTS, FederationConfig
from benchmarks.report import verdict

TARGET = "label"
TEST_FRACTION = 0.25
DIRICHLET_ALPHA = 0.5
SPLIT_SEED = 7
RUN_SEED = 0
CENTRAL_SEED = 11
IID, NON_IID = "iid", f"dirichlet({DIRICHLET_ALPHA:g})"


@dataclass(frozen=True)
class Holdout:
    """A labelled dataset held out in two: the rows the nodes hold and the rows models are scored on."""

    name: str
    task: Task
    features: tuple[str, ...]
    train: pd.DataFrame
    test: pd.DataFrame


@dataclass(frozen=True)
class QualityRun:
    """The federated and the central model's test accuracy for one dataset and split."""

    dataset: str
    split: str
    nodes: int
    rounds: int
    epochs: int
    federated: float
    central: float
    seconds: float
    left_out: tuple[int, int]  # updates the server left out of the aggregate, of all it received

    @property
    def gap(self) -> float:
        """How far the federated model is below the central one, in accuracy points (percent)."""
        return 100 * (self.central - self.federated)

    @property
    def target(self) -> float:
        return FED_IID_GAP_POINTS if self.split == IID else FED_NON_IID_GAP_POINTS

    @property
    def passed(self) -> bool:
        return self.gap <= self.target


def digits() -> Holdout:
    data = load_digits()
    return _problem("digits", Task.MULTICLASS, list(data.feature_names), data.data, data.target.astype(str))


def breast_cancer() -> Holdout:
    data = load_breast_cancer()
    names = [str(name).replace(" ", "_") for name in data.feature_names]
    labels = np.asarray(data.target_names)[data.target]
    return _problem("breast cancer", Task.BINARY, names, data.data, labels)


def _problem(
    name: str, task: Task, features: list[str], values: npt.NDArray[Any], labels: npt.NDArray[Any]
) -> Holdout:
    frame = pd.DataFrame(values, columns=features)
    frame[TARGET] = labels
    train, test = train_test_split(frame, test_size=TEST_FRACTION, stratify=labels, random_state=SPLIT_SEED)
    return Holdout(name, task, tuple(features), train.reset_index(drop=True), test.reset_index(drop=True))


def plan_for(data: Holdout, config: FederationConfig, *, rounds: int) -> Plan:
    """The plan as `service._plan` makes it: scaling from the evaluation rows, classes sorted."""
    frame = data.test[list(data.features)]
    classes = sorted({str(value) for value in data.test[TARGET]})
    return Plan(
        architecture=Architecture(Family.LOGISTIC, features=len(data.features), outputs=len(classes)),
        task=data.task,
        features=data.features,
        target=TARGET,
        classes=tuple(classes),
        means=tuple(float(value) for value in frame.mean().fillna(0)),
        scales=tuple(float(value) for value in frame.std(ddof=0).replace(0, 1).fillna(1)),
        training=Training(epochs=config.epochs, learning_rate=config.learning_rate),
        problem_id=1,
        rounds=rounds,
    )


def evaluation_for(data: Holdout, plan: Plan) -> Evaluation:
    """The test rows as the server scores models on them (`service.evaluation`)."""
    truth = plan.labels(data.test[TARGET].tolist())
    return Evaluation(plan=plan, metric=Metric.ACCURACY, inputs=plan.inputs(data.test), truth=truth)


def split_rows(data: Holdout, nodes: int, split: str) -> list[npt.NDArray[np.int64]]:
    labels = data.train[TARGET].to_numpy()
    if split == IID:
        return partitions.iid(labels, nodes, seed=SPLIT_SEED)
    return partitions.dirichlet(labels, nodes, alpha=DIRICHLET_ALPHA, seed=SPLIT_SEED)


def node_files(data: Holdout, shares: Sequence[npt.NDArray[np.int64]], folder: Path) -> list[NodeData]:
    """Each node's rows as its own Parquet file, as a data owner's machine would hold them."""
    nodes = []
    for number, rows in enumerate(shares, start=1):
        path = folder / f"node-{number}.parquet"
        data.train.iloc[rows].to_parquet(path, index=False)
        nodes.append(NodeData(number, str(path)))
    return nodes


def federated_accuracy(evaluation: Evaluation, nodes: Sequence[NodeData]) -> tuple[float, list[RoundReport]]:
    """Train through `flower.simulate` with FedAvg; the final model's accuracy and the rounds' reports."""
    from aicommons.federation import flower  # Flower takes seconds to import

    reports: list[RoundReport] = []
    settings = RunSettings(strategy=StrategyName.FEDAVG, seed=RUN_SEED)
    with quiet_flower():
        weights = flower.simulate(evaluation, settings, nodes, reports.append)
    return evaluation.score(weights), reports


def central_accuracy(data: Holdout, evaluation: Evaluation) -> float:
    """The same family on the pooled training rows, for rounds x local epochs epochs."""
    plan = evaluation.plan
    budget = Training(
        epochs=plan.rounds * plan.training.epochs,
        learning_rate=plan.training.learning_rate,
        batch_size=plan.training.batch_size,
    )
    start = learning.initial_weights(plan.architecture, seed=RUN_SEED)
    inputs, labels = plan.inputs(data.train), plan.labels(data.train[TARGET].tolist())
    weights = learning.train(plan.architecture, start, inputs, labels, training=budget, seed=CENTRAL_SEED)
    return evaluation.score(weights)


@contextmanager
def quiet_flower() -> Iterator[None]:
    """Flower and Ray log every round at INFO; a benchmark prints only its own table."""
    import flwr.common  # noqa: F401 (importing Flower sets its logger's level: do that first)

    loggers = [logging.getLogger(name) for name in ("flwr", "ray")]
    levels = [one.level for one in loggers]
    for one in loggers:
        one.setLevel(logging.WARNING)
    try:
        yield
    finally:
        for one, level in zip(loggers, levels, strict=True):
            one.setLevel(level)


def bench(data: Holdout, split: str, config: FederationConfig, console: Console) -> QualityRun:
    plan = plan_for(data, config, rounds=config.rounds)
    evaluation = evaluation_for(data, plan)
    console.print(f"{data.name}, {split}: {config.nodes} nodes x {config.rounds} rounds …")
    with tempfile.TemporaryDirectory(prefix="aicommons-bench-fed-") as directory:
        nodes = node_files(data, split_rows(data, config.nodes, split), Path(directory))
        started = time.perf_counter()
        federated, reports = federated_accuracy(evaluation, nodes)
        seconds = time.perf_counter() - started
    central = central_accuracy(data, evaluation)
    updates = [part for report in reports for part in report.participants]
    left_out = (sum(part.left_out is not None for part in updates), len(updates))
    sizes = (config.nodes, config.rounds, config.epochs)
    return QualityRun(data.name, split, *sizes, federated, central, seconds, left_out)


DATASETS: tuple[Callable[[], Holdout], ...] = (digits, breast_cancer)


def run(config: FederationConfig, console: Console) -> list[QualityRun]:
    console.rule("federation: federated (FedAvg through flower.simulate) against central training")
    return [bench(make(), split, config, console) for make in DATASETS for split in (IID, NON_IID)]


def quality_table(rows: Sequence[QualityRun]) -> Table:
    table = Table(title="Federated against central logistic regression: test accuracy")
    columns = ("dataset", "split", "nodes", "rounds x epochs", "federated", "central", "gap")
    for column in (*columns, "left out", "s", "target", "result"):
        table.add_column(column, justify="left" if column in {"dataset", "split", "target"} else "right")
    for row in rows:
        table.add_row(
            row.dataset,
            row.split,
            str(row.nodes),
            f"{row.rounds} x {row.epochs}",
            f"{100 * row.federated:.2f}%",
            f"{100 * row.central:.2f}%",
            f"{row.gap:+.2f}",
            f"{row.left_out[0]} of {row.left_out[1]}",
            f"{row.seconds:.0f}",
            f"gap <= {row.target:g}",
            verdict(row.passed),
        )
    return table


if __name__ == "__main__":
    terminal = Console()
    console = terminal if terminal.is_terminal else Console(width=130)
    results = run(FederationConfig.from_env(), console)
    console.print(quality_table(results))
    raise SystemExit(0 if all(row.passed for row in results) else 1)
