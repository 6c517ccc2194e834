"""Splitting a dataset's rows over the nodes of a simulated federation, for demos, tests and benchmarks.

Each function returns one sorted array of row indices per node; the arrays are disjoint and together
cover every row.

- `iid`: a shuffled, even split; every node sees the same label distribution.
- `dirichlet`: label-skewed (non-IID) nodes. For each class, the class's rows are shared over the
  nodes in proportions drawn from Dirichlet(alpha, ..., alpha): a small alpha (0.1) gives each node a
  few dominant classes, a large alpha (100) approaches `iid`. Regression labels (a floating dtype) are
  first cut into `QUANTILE_BINS` quantile bins, which then play the part of classes.
"""

from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["MAX_TRIES", "QUANTILE_BINS", "dirichlet", "iid"]

IntArray = npt.NDArray[np.int64]

MAX_TRIES = 1000  # Dirichlet draws tried before a split that gives every node `min_rows` is given up
QUANTILE_BINS = 10  # classes made of regression labels by `dirichlet`


def iid(labels: npt.NDArray[Any], nodes: int, *, seed: int) -> list[IntArray]:
    """A random split of the rows over `nodes` nodes whose sizes differ by at most one."""
    _check_nodes(len(labels), nodes)
    order = np.random.default_rng(seed).permutation(len(labels))
    return [np.sort(share) for share in np.array_split(order, nodes)]


def dirichlet(
    labels: npt.NDArray[Any], nodes: int, *, alpha: float, seed: int, min_rows: int = 10
) -> list[IntArray]:
    """A label-skewed split: each class's rows go to the nodes in Dirichlet(alpha) proportions.

    Draws are repeated until every node has at least `min_rows` rows; ValueError after `MAX_TRIES`.
    """
    _check_nodes(len(labels), nodes)
    if not alpha > 0:
        raise ValueError(f"alpha must be > 0, not {alpha}")
    if min_rows < 0 or nodes * min_rows > len(labels):
        raise ValueError(f"{len(labels)} rows cannot give {nodes} nodes {min_rows} rows each")
    classes = _class_rows(np.asarray(labels))
    rng = np.random.default_rng(seed)
    for _ in range(MAX_TRIES):
        shares = _draw(classes, nodes, alpha, rng)
        if min(len(share) for share in shares) >= min_rows:
            return shares
    raise ValueError(f"no Dirichlet({alpha}) split in {MAX_TRIES} tries gave every node {min_rows} rows")


def _check_nodes(rows: int, nodes: int) -> None:
    if not 1 <= nodes <= rows:
        raise ValueError(f"cannot split {rows} rows over {nodes} nodes")


def _class_rows(labels: npt.NDArray[Any]) -> list[IntArray]:
    """The row indices of each class; regression labels are classed by quantile bin."""
    if np.issubdtype(labels.dtype, np.floating):
        labels = _quantile_bins(labels)
    return [np.flatnonzero(labels == label) for label in np.unique(labels)]


def _quantile_bins(values: npt.NDArray[Any]) -> IntArray:
    if not np.isfinite(values).all():
        raise ValueError("regression labels hold values that are not finite")
    edges = np.quantile(values, np.linspace(0.0, 1.0, QUANTILE_BINS + 1)[1:-1])
    # Tied values share a bin; a bin that ties leave empty simply has no rows.
    return np.searchsorted(edges, values, side="right").astype(np.int64)


def _draw(classes: list[IntArray], nodes: int, alpha: float, rng: np.random.Generator) -> list[IntArray]:
    """One Dirichlet split: every class's rows shuffled and cut in drawn proportions."""
    shares: list[list[IntArray]] = [[] for _ in range(nodes)]
    for rows in classes:
        proportions = rng.dirichlet(np.full(nodes, alpha))
        cuts = (np.cumsum(proportions)[:-1] * len(rows)).astype(np.int64)
        for node, part in enumerate(np.split(rng.permutation(rows), cuts)):
            shares[node].append(part)
    return [np.sort(np.concatenate(parts)).astype(np.int64) for parts in shares]
