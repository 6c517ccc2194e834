"""Scoring a 1,000,000-row submission: read and check the CSV, score it, and bootstrap a 95% interval.

For each metric, an evaluation set of `rows` rows (ids and a target) and a submission CSV are written
from a seeded generator into a temporary directory (not timed); then `read_predictions` reads the CSV
from disk and aligns it with the truth, `score` scores it and `confidence_interval` draws `resamples`
bootstrap resamples, all in this process, as the scoring job does. See benchmarks/README.md.
"""

import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv
from rich.console import Console
from rich.table import Table

from aicommons.problems.scoring import Metric, Task, confidence_interval, score
from aicommons.problems.submissions import read_predictions
from benchmarks.config import SCORING_TARGET_S, ProblemsConfig
from benchmarks.report import verdict

CLASSES = ["no", "yes"]
SCENARIOS = [
    (Task.BINARY, Metric.ROC_AUC),
    (Task.BINARY, Metric.ACCURACY),
    (Task.REGRESSION, Metric.RMSE),
    (Task.REGRESSION, Metric.R2),
]


@dataclass(frozen=True)
class ScoringRun:
    """One metric: the submission's size, the seconds of each step, and what came out."""

    metric: Metric
    rows: int
    csv_bytes: int
    read_s: float
    score_s: float
    interval_s: float
    score: float
    interval: tuple[float, float]

    @property
    def total_s(self) -> float:
        return self.read_s + self.score_s + self.interval_s

    @property
    def passed(self) -> bool:
        return self.total_s < SCORING_TARGET_S


@dataclass
class Results:
    """Every scoring figure of a run."""

    runs: list[ScoringRun] = field(default_factory=list)
    resamples: int = 0

    @property
    def passed(self) -> bool:
        return all(run.passed for run in self.runs)

    def print(self, console: Console) -> None:
        if self.runs:
            console.print(scoring_table(self.runs, self.resamples))


def _evaluation(task: Task, rows: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The truth and a fair model's predictions: labels or probabilities, or numbers for regression."""
    if task is Task.REGRESSION:
        truth = rng.normal(50, 10, rows)
        return truth, (truth + rng.normal(0, 4, rows)).round(3)
    truth = rng.integers(0, 2, rows)
    return truth, np.clip(0.3 * truth + 0.7 * rng.random(rows), 0, 1).round(4)


def _write_submission(path: Path, ids: pa.Array, predictions: np.ndarray, metric: Metric) -> None:
    column = (
        pa.array(np.array(CLASSES)[(predictions > 0.5).astype(int)]) if metric is Metric.ACCURACY else None
    )
    order = np.random.default_rng(1).permutation(len(ids))  # solvers need not keep the truth's order
    table = pa.table({"id": ids, "prediction": column if column is not None else pa.array(predictions)})
    pcsv.write_csv(table.take(pa.array(order)), path)


def bench_scoring(task: Task, metric: Metric, config: ProblemsConfig, directory: Path) -> ScoringRun:
    rng = np.random.default_rng(20240)
    ids = pa.array([f"row-{n:07d}" for n in range(config.rows)])
    truth, predictions = _evaluation(task, config.rows, rng)
    path = directory / f"{metric}.csv"
    _write_submission(path, ids, predictions, metric)
    started = time.perf_counter()
    aligned = read_predictions(path, expected_ids=ids, task=task, metric=metric, classes=CLASSES)
    read = time.perf_counter()
    point = score(metric, truth, aligned)
    scored = time.perf_counter()
    interval = confidence_interval(metric, truth, aligned, resamples=config.resamples, seed=7)
    done = time.perf_counter()
    return ScoringRun(
        metric,
        config.rows,
        path.stat().st_size,
        read - started,
        scored - read,
        done - scored,
        point,
        interval,
    )


def run(config: ProblemsConfig, console: Console) -> Results:
    console.rule(
        f"problems: scoring a {config.rows:,}-row submission with a {config.resamples:,}-resample CI"
    )
    results = Results(resamples=config.resamples)
    with tempfile.TemporaryDirectory(prefix="aicommons-bench-problems-") as directory:
        for task, metric in SCENARIOS:
            console.print(f"Scoring {metric} …")
            results.runs.append(bench_scoring(task, metric, config, Path(directory)))
    return results


def scoring_table(runs: list[ScoringRun], resamples: int) -> Table:
    table = Table(title=f"Scoring a submission: read + score + {resamples:,}-resample 95% CI")
    columns = ("metric", "rows", "CSV MB", "read s", "score s", "CI s", "total s", "score [95% CI]")
    for column in (*columns, "target", "result"):
        table.add_column(column, justify="left" if column in {"metric", "target"} else "right")
    for run in runs:
        low, high = run.interval
        table.add_row(
            str(run.metric),
            f"{run.rows:,}",
            f"{run.csv_bytes / 1e6:.1f}",
            *(f"{seconds:.2f}" for seconds in (run.read_s, run.score_s, run.interval_s, run.total_s)),
            f"{run.score:.4f} [{low:.4f}, {high:.4f}]",
            f"< {SCORING_TARGET_S:g} s",
            verdict(run.passed),
        )
    return table
