"""Column statistics of a stored Parquet version, computed by DuckDB without loading the rows in Python.

One aggregate query gives every column's nulls, distinct count (approximate), min, max, mean and
standard deviation; then one query per column gives its histogram (numbers: equal-width bins) or
its most frequent values (everything else).
"""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb

from aicommons.datasets.ingest import json_value

BINS = 20
TOP_VALUES = 10
NUMERIC = {"integer", "float"}
Progress = Callable[[float, str], None]


def compute(path: Path, columns: list[dict[str, str]], progress: Progress | None = None) -> dict[str, Any]:
    """Statistics of every column of the Parquet file at `path` (its `columns` as ingestion found them)."""
    report = progress or (lambda fraction, message: None)
    with duckdb.connect() as db:
        db.execute("SET threads TO 2")
        db.execute(f"CREATE VIEW version AS SELECT * FROM read_parquet('{_quoted(path)}')")
        summary = _summary(db, columns)
        report(0.3, "summaries done")
        result = []
        for number, column in enumerate(columns):
            stats = summary[column["name"]]
            stats["distribution"] = _distribution(db, column, stats)
            result.append({"name": column["name"], "type": column["type"], **stats})
            report(0.3 + 0.7 * (number + 1) / len(columns), f"column {column['name']}")
    return {"columns": result}


def _quoted(path: Path) -> str:
    return str(path).replace("'", "''")


def _identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _summary(db: duckdb.DuckDBPyConnection, columns: list[dict[str, str]]) -> dict[str, dict[str, Any]]:
    parts = ["count(*)"]
    for column in columns:
        name = _identifier(column["name"])
        parts += [f"count({name})", f"approx_count_distinct({name})"]
        if column["type"] in NUMERIC:
            parts += [f"min({name})", f"max({name})", f"avg({name})", f"stddev_samp({name})"]
        elif column["type"] in {"date", "datetime", "string", "boolean"}:
            parts += [f"min({name})::VARCHAR", f"max({name})::VARCHAR", "NULL", "NULL"]
        else:
            parts += ["NULL", "NULL", "NULL", "NULL"]
    row = db.execute(f"SELECT {', '.join(parts)} FROM version").fetchone()
    assert row is not None
    rows, values = row[0], iter(row[1:])
    summary = {}
    for column in columns:
        present, distinct, low, high, mean, std = (next(values) for _ in range(6))
        summary[column["name"]] = {
            "count": rows,
            "nulls": rows - present,
            "distinct": distinct,
            "min": json_value(low),
            "max": json_value(high),
            "mean": json_value(mean),
            "std": json_value(std),
        }
    return summary


def _distribution(
    db: duckdb.DuckDBPyConnection, column: dict[str, str], stats: dict[str, Any]
) -> dict[str, Any]:
    name = _identifier(column["name"])
    if column["type"] in NUMERIC and stats["min"] is not None and stats["max"] is not None:
        return _histogram(db, name, float(stats["min"]), float(stats["max"]))
    top = db.execute(
        f"SELECT {name}::VARCHAR AS value, count(*) AS n FROM version WHERE {name} IS NOT NULL "
        f"GROUP BY 1 ORDER BY n DESC, value LIMIT {TOP_VALUES}"
    ).fetchall()
    return {"kind": "top", "values": [value for value, _ in top], "counts": [count for _, count in top]}


def _histogram(db: duckdb.DuckDBPyConnection, name: str, low: float, high: float) -> dict[str, Any]:
    width = (high - low) / BINS or 1.0
    rows = db.execute(
        f"SELECT least(floor(({name} - $low) / $width)::INTEGER, {BINS - 1}) AS bin, count(*) "
        f"FROM version WHERE {name} IS NOT NULL AND isfinite({name}::DOUBLE) GROUP BY 1",
        {"low": low, "width": width},
    ).fetchall()
    counts = [0] * BINS
    for bin_number, count in rows:
        counts[bin_number] += count
    return {"kind": "histogram", "edges": [low + width * n for n in range(BINS + 1)], "counts": counts}
