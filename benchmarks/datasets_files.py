"""Large, deterministic data files for the datasets benchmarks: a CSV to upload, a Parquet to summarise.

Both are written batch by batch from one seeded numpy generator, so they never sit whole in memory and
two runs write the same bytes. The columns mix what real uploads hold: whole numbers, decimals, a date,
a flag and short text, some of it missing (an empty CSV cell, a Parquet null).
"""

import math
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

BATCH_ROWS = 500_000
ROW_BYTES_GUESS = 60  # until the first batch is written and the real figure is known
SEED = 2026
PLACES = ("dakar", "nairobi", "lagos", "accra", "bogota", "lima", "quito", "dhaka", "manila", "suva", "apia")
STATIONS = pa.array([f"{place}-{number:02}" for number, place in enumerate(PLACES, start=1)])
CATEGORIES = pa.array(["rain", "river", "well", "tap", "sensor", "survey", "spring", "tank", "lake"])
FIRST_DAY = np.datetime64(date(2015, 1, 1), "D")


def batch(rng: np.random.Generator, first_id: int, rows: int) -> pa.RecordBatch:
    """`rows` rows of water readings, ids from `first_id`: ints, floats, a date, text, a flag, gaps."""
    missing = rng.random((3, rows)) < np.array([[0.05], [0.02], [0.03]])
    columns = {
        "id": pa.array(np.arange(first_id, first_id + rows, dtype=np.int64)),
        "station": STATIONS.take(pa.array(rng.integers(0, len(STATIONS), rows))),
        "day": pa.array(FIRST_DAY + rng.integers(0, 3650, rows).astype("timedelta64[D]")),
        "households": pa.array(rng.integers(0, 5_000, rows), mask=missing[0]),
        "litres": pa.array(np.round(rng.gamma(2.0, 40.0, rows), 2), mask=missing[1]),
        "ph": pa.array(np.round(rng.normal(7.0, 0.6, rows), 2)),
        "source": CATEGORIES.take(pa.array(rng.integers(0, len(CATEGORIES), rows), mask=missing[2])),
        "safe": pa.array(rng.random(rows) < 0.9),
    }
    return pa.RecordBatch.from_pydict(columns)


def write_csv(path: Path, size: int) -> int:
    """Write a CSV of about `size` bytes (the last batch is cut to fit); return its row count."""
    rng, rows = np.random.default_rng(SEED), 0
    with path.open("wb") as out:
        writer: pacsv.CSVWriter | None = None
        while out.tell() < size:
            per_row = out.tell() / rows if rows else ROW_BYTES_GUESS
            wanted = min(BATCH_ROWS, math.ceil((size - out.tell()) / per_row))
            chunk = batch(rng, rows + 1, max(1, wanted))
            writer = writer or pacsv.CSVWriter(out, chunk.schema)
            writer.write_batch(chunk)
            rows += chunk.num_rows
        if writer is not None:
            writer.close()
    return rows


def write_parquet(path: Path, rows: int) -> None:
    """Write a Parquet file of `rows` rows, one row group per batch, zstd as the store keeps it."""
    rng = np.random.default_rng(SEED)
    batches = _batches(rng, rows)
    first = next(batches)
    with pq.ParquetWriter(path, first.schema, compression="zstd") as writer:
        writer.write_batch(first)
        for chunk in batches:
            writer.write_batch(chunk)


def _batches(rng: np.random.Generator, rows: int) -> Iterator[pa.RecordBatch]:
    for start in range(0, rows, BATCH_ROWS):
        yield batch(rng, start + 1, min(BATCH_ROWS, rows - start))
