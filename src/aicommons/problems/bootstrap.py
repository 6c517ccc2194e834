"""The bootstrap of a metric over rows compressed into cells, so that a million rows resample in a second.

A resample of n rows drawn with replacement only changes how many times each row is counted. When a
metric is a function of counts over a few thousand *cells* (a confusion matrix, or buckets of rows),
drawing the cells' counts from a multinomial distribution is the same bootstrap as drawing n row
indices, at the cost of the cells rather than the rows:

- Label metrics (accuracy, balanced accuracy, F1 macro) are functions of the KxK confusion matrix:
  resampling its cells is **exact**.
- Means of a per-row loss (log loss, absolute error, squared error for RMSE) and R² are resampled over
  `BUCKETS` equal-count buckets of rows sorted by their influence on the metric (the loss itself; for
  R², e² - (1 - R²)(y - ȳ)²), each bucket carrying its rows' mean. The point score is unchanged (the
  bucket sums are the row sums); the spread loses only the variation inside a bucket, which is small
  because the rows of a bucket have neighbouring influence. Exact when there are no more rows than
  buckets.
- ROC AUC is a function of (score, label) counts: scores are grouped into `AUC_BINS` bins of about
  equal rows (ties never split), and the binned AUC of each resample is shifted by the difference
  between the exact and the binned AUC of the data. Exact when there are no more distinct scores than
  bins.

The interval is the percentile interval of the resampled scores (resamples whose score is undefined,
such as an AUC without a positive row, are left out).
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

BUCKETS = 2048
AUC_BINS = 1024

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
Statistic = Callable[[npt.NDArray[Any]], FloatArray]


@dataclass(frozen=True)
class Cells:
    """Rows compressed into cells: the rows each cell holds, and the metric of any resample's counts."""

    counts: IntArray
    statistic: Statistic  # (resamples, cells) counts -> (resamples,) scores
    offset: float = 0.0  # added to every resampled score (the binning correction of ROC AUC)


def interval(cells: Cells, *, resamples: int, level: float, seed: int) -> tuple[float, float]:
    """The `level` percentile interval of `resamples` multinomial resamples of the cells."""
    rng = np.random.default_rng(seed)
    total = int(cells.counts.sum())
    draws = rng.multinomial(total, cells.counts / total, size=resamples)
    scores = cells.statistic(draws) + cells.offset
    tail = (1 - level) / 2
    low, high = np.nanquantile(scores, [tail, 1 - tail])
    return float(low), float(high)


def confusion(truth: IntArray, predicted: IntArray, classes: int) -> IntArray:
    """The classesxclasses confusion matrix: row = true class, column = predicted class."""
    flat = np.bincount(truth * classes + predicted, minlength=classes * classes)
    return flat.reshape(classes, classes).astype(np.int64)


def confusion_cells(matrix: IntArray, statistic: Statistic) -> Cells:
    """Exact: a resample's confusion matrix is a multinomial draw over the cells of the data's."""
    classes = matrix.shape[0]
    return Cells(matrix.ravel(), lambda draws: statistic(draws.reshape(-1, classes, classes)))


def _ratio(numerator: npt.NDArray[Any], denominator: npt.NDArray[Any]) -> FloatArray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(numerator / denominator, dtype=np.float64)


def _mean_where(values: FloatArray, mask: npt.NDArray[np.bool_]) -> FloatArray:
    return _ratio(np.where(mask, values, 0.0).sum(-1), mask.sum(-1))


def accuracy(matrices: npt.NDArray[Any]) -> FloatArray:
    return _ratio(np.trace(matrices, axis1=-2, axis2=-1), matrices.sum((-2, -1)))


def balanced_accuracy(matrices: npt.NDArray[Any]) -> FloatArray:
    """The mean recall over the classes that occur in the truth (as scikit-learn)."""
    support = matrices.sum(-1)
    recall = _ratio(np.diagonal(matrices, axis1=-2, axis2=-1), support)
    return _mean_where(recall, support > 0)


def f1_macro(matrices: npt.NDArray[Any]) -> FloatArray:
    """The mean F1 over the classes that occur in the truth or the predictions (as scikit-learn)."""
    seen = matrices.sum(-1) + matrices.sum(-2)
    f1 = _ratio(2 * np.diagonal(matrices, axis1=-2, axis2=-1), seen)
    return _mean_where(f1, seen > 0)


def _buckets(key: FloatArray, columns: FloatArray, buckets: int) -> tuple[IntArray, FloatArray]:
    """Rows sorted by `key` in `buckets` equal-count buckets: the rows in each, and their columns' means."""
    rows = len(key)
    starts = np.unique(np.linspace(0, rows, buckets + 1).astype(np.int64)[:-1])
    sums = np.add.reduceat(columns[np.argsort(key, kind="stable")], starts, axis=0)
    counts = np.diff(np.append(starts, rows))
    return counts, sums / counts[:, None]


def mean_cells(losses: FloatArray, *, root: bool = False, buckets: int = BUCKETS) -> Cells:
    """The mean of per-row losses (its square root with `root`, for RMSE) over buckets of sorted losses."""
    counts, means = _buckets(losses, losses[:, None], buckets)
    rows = len(losses)

    def statistic(draws: npt.NDArray[Any]) -> FloatArray:
        mean = draws.astype(np.float64) @ means[:, 0] / rows
        return np.sqrt(mean) if root else mean

    return Cells(counts, statistic)


def r2(sse: npt.NDArray[Any], sst: npt.NDArray[Any]) -> FloatArray:
    """1 - SSE/SST; with a constant truth 1 for a perfect fit, else 0 (as scikit-learn)."""
    perfect = np.where(sse == 0, 1.0, 0.0)
    return np.where(sst > 0, 1 - _ratio(sse, np.where(sst > 0, sst, 1)), perfect)


def r2_cells(truth: FloatArray, predicted: FloatArray, *, buckets: int = BUCKETS) -> Cells:
    """R² over buckets of rows sorted by their influence on it, each bucket keeping Σe², Σ(y-ȳ), Σ(y-ȳ)²."""
    centred = truth - truth.mean()
    squared_errors = (truth - predicted) ** 2
    sst = float(centred @ centred)
    unexplained = 1 - float(r2(np.asarray(squared_errors.sum()), np.asarray(sst)))
    influence = squared_errors - unexplained * centred**2
    counts, means = _buckets(influence, np.stack([squared_errors, centred, centred**2], axis=1), buckets)
    rows = len(truth)

    def statistic(draws: npt.NDArray[Any]) -> FloatArray:
        sums = draws.astype(np.float64) @ means
        return r2(sums[:, 0], sums[:, 2] - sums[:, 1] ** 2 / rows)

    return Cells(counts, statistic)


def auc(cells: npt.NDArray[Any]) -> FloatArray:
    """ROC AUC from (…, scores in ascending order, [negatives, positives]) counts; ties count half."""
    negatives, positives = cells[..., 0].astype(np.float64), cells[..., 1].astype(np.float64)
    below = np.cumsum(negatives, axis=-1) - negatives
    wins = (positives * (below + 0.5 * negatives)).sum(-1)
    return _ratio(wins, positives.sum(-1) * negatives.sum(-1))


def score_counts(labels: IntArray, scores: FloatArray) -> tuple[IntArray, IntArray]:
    """For each distinct score in ascending order: its rows, and how many of them are positive."""
    _, inverse, totals = np.unique(scores, return_inverse=True, return_counts=True)
    positives = np.bincount(inverse.ravel(), weights=labels, minlength=len(totals)).astype(np.int64)
    return totals.astype(np.int64), positives


def auc_cells(labels: IntArray, scores: FloatArray, *, bins: int = AUC_BINS) -> Cells:
    """ROC AUC over (score bin, label) cells, shifted by the exact minus the binned AUC of the data."""
    totals, positives = score_counts(labels, scores)
    exact = np.stack([totals - positives, positives], axis=-1)
    group = (np.cumsum(totals) - totals) * bins // len(labels)
    binned = np.stack([np.bincount(group, weights=exact[:, side]) for side in (0, 1)], axis=-1)
    binned = binned[binned.sum(-1) > 0].astype(np.int64)
    offset = float(auc(exact)) - float(auc(binned))
    return Cells(binned.ravel(), lambda draws: auc(draws.reshape(len(draws), -1, 2)), offset)
