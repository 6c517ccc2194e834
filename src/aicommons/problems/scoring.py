"""Scoring a problem's submissions: its task and metric, the point score, its bootstrap interval, the split.

A problem has a `Task` and a `Metric` that fits it (`METRICS`). Its hidden evaluation data is an id
column and a target column; a submission is a CSV with the same id column and what the metric needs
(`prediction_kind`, `prediction_columns`; read and checked by `aicommons.problems.submissions`):

- regression (rmse, mae, r2): `prediction`, a number;
- binary, by label (accuracy, balanced_accuracy, f1_macro): `prediction`, one of the two classes;
- binary, by probability (roc_auc, log_loss): `prediction`, the probability in [0, 1] of the positive
  class, which is the second of the problem's two classes;
- multiclass, by label (accuracy, balanced_accuracy, f1_macro): `prediction`, one of the classes;
- multiclass log_loss: one column per class, named as the class, its probability in [0, 1]; each row
  sums to 1 +- 0.01 and is normalised to 1.

Here labels are integer codes, indexes into the problem's list of classes (`encode_labels`), so the
truth of a classification problem is an integer array; predictions are what `read_predictions` returns,
aligned with the truth. Point scores are exact and equal scikit-learn's (log loss clips probabilities to
[ε, 1 - ε] with ε the float64 epsilon). Confidence intervals are percentile bootstrap intervals computed
on rows compressed into cells (`aicommons.problems.bootstrap` says where that is exact and how close
it is elsewhere). Everything is deterministic given the seed.
"""

import hashlib
from collections.abc import Iterable, Sequence
from enum import StrEnum
from typing import Any

import numpy as np
import numpy.typing as npt

from aicommons.problems import bootstrap

PREDICTION_COLUMN = "prediction"
EPSILON = float(np.finfo(np.float64).eps)

Array = npt.NDArray[Any]


class Task(StrEnum):
    BINARY = "binary"
    MULTICLASS = "multiclass"
    REGRESSION = "regression"


class Metric(StrEnum):
    ACCURACY = "accuracy"
    BALANCED_ACCURACY = "balanced_accuracy"
    F1_MACRO = "f1_macro"
    ROC_AUC = "roc_auc"
    LOG_LOSS = "log_loss"
    RMSE = "rmse"
    MAE = "mae"
    R2 = "r2"

    @property
    def higher_is_better(self) -> bool:
        return self not in {Metric.LOG_LOSS, Metric.RMSE, Metric.MAE}


class Prediction(StrEnum):
    """What a submission gives for each row."""

    LABEL = "label"
    PROBABILITY = "probability"  # of the positive class of a binary problem
    PROBABILITIES = "probabilities"  # one column per class
    NUMBER = "number"


_LABEL_METRICS = {Metric.ACCURACY, Metric.BALANCED_ACCURACY, Metric.F1_MACRO}
METRICS: dict[Task, frozenset[Metric]] = {
    Task.BINARY: frozenset({*_LABEL_METRICS, Metric.ROC_AUC, Metric.LOG_LOSS}),
    Task.MULTICLASS: frozenset({*_LABEL_METRICS, Metric.LOG_LOSS}),
    Task.REGRESSION: frozenset({Metric.RMSE, Metric.MAE, Metric.R2}),
}
_CONFUSION_STATISTICS = {
    Metric.ACCURACY: bootstrap.accuracy,
    Metric.BALANCED_ACCURACY: bootstrap.balanced_accuracy,
    Metric.F1_MACRO: bootstrap.f1_macro,
}


def fits(task: Task, metric: Metric) -> bool:
    return metric in METRICS[task]


def prediction_kind(task: Task, metric: Metric) -> Prediction:
    if not fits(task, metric):
        raise ValueError(f"{metric} does not score a {task} problem")
    if task is Task.REGRESSION:
        return Prediction.NUMBER
    if metric in _LABEL_METRICS:
        return Prediction.LABEL
    return Prediction.PROBABILITY if task is Task.BINARY else Prediction.PROBABILITIES


def prediction_columns(task: Task, metric: Metric, classes: Sequence[str]) -> list[str]:
    """The columns a submission has besides the id column."""
    if prediction_kind(task, metric) is Prediction.PROBABILITIES:
        return list(classes)
    return [PREDICTION_COLUMN]


def encode_labels(labels: Iterable[str], classes: Sequence[str]) -> npt.NDArray[np.int64]:
    """The hidden truth's labels as codes, indexes into `classes`; ValueError names an unknown label."""
    code = {label: index for index, label in enumerate(classes)}
    try:
        return np.fromiter((code[str(label)] for label in labels), dtype=np.int64)
    except KeyError as unknown:
        raise ValueError(f"label {unknown} is not one of the classes {list(classes)}") from None


def _log_losses(truth: Array, predictions: Array) -> npt.NDArray[np.float64]:
    probabilities = predictions if predictions.ndim == 2 else np.stack([1 - predictions, predictions], 1)
    chosen = probabilities[np.arange(len(truth)), truth]
    return np.asarray(-np.log(np.clip(chosen, EPSILON, 1 - EPSILON)), dtype=np.float64)


def _losses(metric: Metric, truth: Array, predictions: Array) -> npt.NDArray[np.float64]:
    if metric is Metric.LOG_LOSS:
        return _log_losses(truth, predictions)
    errors = np.asarray(truth, dtype=np.float64) - predictions
    return np.abs(errors) if metric is Metric.MAE else errors**2


def _confusion(truth: Array, predictions: Array) -> npt.NDArray[np.int64]:
    classes = int(max(truth.max(), predictions.max())) + 1
    return bootstrap.confusion(truth, predictions, classes)


def score(metric: Metric, truth: Array, predictions: Array) -> float:
    """The metric of the predictions against the truth, exactly; NaN where undefined (an AUC of one class)."""
    if metric in _CONFUSION_STATISTICS:
        return float(_CONFUSION_STATISTICS[metric](_confusion(truth, predictions)))
    if metric is Metric.ROC_AUC:
        totals, positives = bootstrap.score_counts(truth, predictions)
        return float(bootstrap.auc(np.stack([totals - positives, positives], axis=-1)))
    if metric is Metric.R2:
        y = np.asarray(truth, dtype=np.float64)
        return float(bootstrap.r2(np.asarray(((y - predictions) ** 2).sum()), np.asarray(y.var() * len(y))))
    mean = float(_losses(metric, truth, predictions).mean())
    return float(np.sqrt(mean)) if metric is Metric.RMSE else mean


def _cells(metric: Metric, truth: Array, predictions: Array) -> bootstrap.Cells:
    if metric in _CONFUSION_STATISTICS:
        return bootstrap.confusion_cells(_confusion(truth, predictions), _CONFUSION_STATISTICS[metric])
    if metric is Metric.ROC_AUC:
        return bootstrap.auc_cells(truth, predictions)
    if metric is Metric.R2:
        return bootstrap.r2_cells(np.asarray(truth, dtype=np.float64), predictions)
    return bootstrap.mean_cells(_losses(metric, truth, predictions), root=metric is Metric.RMSE)


def confidence_interval(
    metric: Metric, truth: Array, predictions: Array, *, resamples: int = 1000, level: float = 0.95, seed: int
) -> tuple[float, float]:
    """The bootstrap percentile interval of the score: (low, high), deterministic given the seed."""
    cells = _cells(metric, truth, predictions)
    return bootstrap.interval(cells, resamples=resamples, level=level, seed=seed)


def _hash(row_id: object, salt: bytes) -> int:
    digest = hashlib.blake2b(str(row_id).encode(), digest_size=8, key=salt).digest()
    return int.from_bytes(digest, "big")


def public_private_split(ids: Sequence[object], *, public_fraction: float = 0.3, seed: int) -> Array:
    """True for the rows on the public leaderboard: round(public_fraction x rows) of them.

    Each id is ranked by a keyed hash of the id and the seed, so the same ids get the same split in any
    order; the mask is aligned with `ids`.
    """
    if not 0 <= public_fraction <= 1:
        raise ValueError("public_fraction is between 0 and 1")
    salt = seed.to_bytes(16, "big", signed=True)
    keys = np.fromiter((_hash(row_id, salt) for row_id in ids), dtype=np.uint64, count=len(ids))
    order = np.argsort(keys, kind="stable")
    if np.any(np.diff(keys[order]) == 0):  # a hash collision: break the tie by the id itself
        order = np.array(sorted(range(len(ids)), key=lambda row: (int(keys[row]), str(ids[row]))))
    public = np.zeros(len(ids), dtype=bool)
    public[order[: round(public_fraction * len(ids))]] = True
    return public


def _average_ranks(values: Array) -> npt.NDArray[np.float64]:
    _, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    last = np.cumsum(counts)
    return np.asarray((last - (counts - 1) / 2)[inverse.ravel()], dtype=np.float64)


def spearman(rank_a: Sequence[float] | Array, rank_b: Sequence[float] | Array) -> float:
    """Spearman's rank correlation of two aligned rankings; tied values share their average rank.

    NaN when either ranking is constant (or has fewer than two entries).
    """
    a, b = _average_ranks(np.asarray(rank_a)), _average_ranks(np.asarray(rank_b))
    if len(a) != len(b):
        raise ValueError("the two rankings have different lengths")
    a, b = a - a.mean(), b - b.mean()
    spread = float(np.sqrt((a @ a) * (b @ b)))
    return float(a @ b) / spread if spread > 0 else float("nan")
