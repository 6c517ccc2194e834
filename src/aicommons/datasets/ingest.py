"""Turning an uploaded CSV or Parquet file into the stored form: Parquet, its schema and a preview.

Both formats are read batch by batch, so memory stays flat whatever the file's size. A CSV's column
types are inferred from its first block (1 MiB); when a later block does not fit (a decimal in a column of
whole numbers, text in a column of numbers), the column is widened and the file read again.
"""

import math
import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from aicommons.core.errors import CommonsError, ErrorCode

PREVIEW_ROWS = 100
# pyarrow's streaming reader decodes a few dozen blocks ahead of the writer: 1 MiB blocks keep that to
# tens of MiB (16 MiB blocks took 470 MiB) at the same speed (benchmarks/README.md, datasets).
BLOCK_BYTES = 1 << 20
MAX_WIDENINGS = 64
FORMATS = ("csv", "parquet")
_BAD_COLUMN = re.compile(r"In CSV column #(\d+): .*CSV conversion error to (\w+)")
_WIDER = {"int64": pa.float64(), "double": pa.string()}


@dataclass(frozen=True)
class Ingested:
    """What ingestion learned of a file: its columns, how many rows, and the first rows."""

    columns: list[dict[str, str]]
    row_count: int
    preview: list[list[Any]]


def to_parquet(source: Path, file_format: str, target: Path) -> Ingested:
    """Write `source` (CSV or Parquet) to `target` as Parquet; refuse a file that is not clean data."""
    if file_format == "parquet":
        return _check_parquet(source, target)
    if file_format == "csv":
        return _convert_csv(source, target)
    raise CommonsError(ErrorCode.UNSUPPORTED_FORMAT, f"datasets are uploaded as {' or '.join(FORMATS)}")


def describe(path: Path) -> Ingested:
    """The columns, row count and preview of a stored Parquet file."""
    parquet = pq.ParquetFile(path)
    first = next(parquet.iter_batches(batch_size=PREVIEW_ROWS), None)
    return Ingested(columns(parquet.schema_arrow), parquet.metadata.num_rows, _preview(first))


def columns(schema: pa.Schema) -> list[dict[str, str]]:
    return [{"name": field.name, "type": kind_of(field.type)} for field in schema]


def kind_of(arrow_type: pa.DataType) -> str:
    """The column type a person reads (and Croissant maps): integer, float, boolean, date, …"""
    checks = (
        (pa.types.is_boolean, "boolean"),
        (pa.types.is_integer, "integer"),
        (pa.types.is_floating, "float"),
        (pa.types.is_decimal, "float"),
        (pa.types.is_timestamp, "datetime"),
        (pa.types.is_date, "date"),
        (pa.types.is_string, "string"),
        (pa.types.is_large_string, "string"),
    )
    return next((name for check, name in checks if check(arrow_type)), "string")


def _check_parquet(source: Path, target: Path) -> Ingested:
    try:
        parquet = pq.ParquetFile(source)
        rows = sum(batch.num_rows for batch in parquet.iter_batches(batch_size=65_536))
    except (pa.ArrowException, OSError) as error:
        raise CommonsError(ErrorCode.BAD_DATA, f"the file is not readable Parquet: {error}") from error
    _refuse_empty(rows, len(parquet.schema_arrow))
    source.replace(target)
    return describe(target)


def _convert_csv(source: Path, target: Path) -> Ingested:
    types: dict[str, pa.DataType] = {}
    for _ in range(MAX_WIDENINGS):
        try:
            return _write_csv(source, target, types)
        except pa.ArrowInvalid as error:
            _widen(error, source, types)
    raise CommonsError(ErrorCode.BAD_DATA, "the CSV's column types could not be settled")


def _write_csv(source: Path, target: Path, types: dict[str, pa.DataType]) -> Ingested:
    reader = pacsv.open_csv(
        source,
        read_options=pacsv.ReadOptions(block_size=BLOCK_BYTES),
        convert_options=pacsv.ConvertOptions(column_types=types, strings_can_be_null=True),
    )
    _refuse_binary(reader.schema)
    rows, first = 0, None
    with pq.ParquetWriter(target, reader.schema, compression="zstd") as writer:
        for batch in reader:
            first = first or batch
            rows += batch.num_rows
            writer.write_batch(batch)
    _refuse_empty(rows, len(reader.schema))
    return Ingested(columns(reader.schema), rows, _preview(first))


def _widen(error: pa.ArrowInvalid, source: Path, types: dict[str, pa.DataType]) -> None:
    """Make the column a conversion error names wider, or explain the error to the uploader."""
    message = str(error)
    found = _BAD_COLUMN.search(message)
    wider = _WIDER.get(found.group(2), pa.string()) if found else None
    if found is None or "invalid UTF8" in message or wider is None:
        raise _explained(message) from error
    name = _header(source)[int(found.group(1))]
    if types.get(name) == wider:
        raise _explained(message) from error
    types[name] = wider


def _header(source: Path) -> list[str]:
    reader = pacsv.open_csv(source, read_options=pacsv.ReadOptions(block_size=1 << 16))
    names: list[str] = reader.schema.names
    return names


def _explained(message: str) -> CommonsError:
    if "invalid UTF8" in message:
        return CommonsError(
            ErrorCode.BAD_DATA, "the CSV is not UTF-8 text: save it as UTF-8 and upload it again"
        )
    if "Empty CSV file" in message:
        return CommonsError(ErrorCode.EMPTY_DATA, "the file is empty")
    return CommonsError(ErrorCode.BAD_DATA, f"the CSV could not be read: {message.splitlines()[0]}")


def _refuse_binary(schema: pa.Schema) -> None:
    """pyarrow reads text that is not UTF-8 as bytes; a dataset's text must be UTF-8."""
    if any(pa.types.is_binary(field.type) for field in schema):
        raise _explained("invalid UTF8")


def _refuse_empty(rows: int, column_count: int) -> None:
    if rows == 0 or column_count == 0:
        raise CommonsError(ErrorCode.EMPTY_DATA, "the file holds no rows")


def _preview(batch: pa.RecordBatch | None) -> list[list[Any]]:
    if batch is None:
        return []
    head = batch.slice(0, PREVIEW_ROWS).to_pylist()
    return [[json_value(value) for value in row.values()] for row in head]


def json_value(value: Any) -> Any:
    """A cell as JSON can hold it: dates as ISO text, NaN and infinities as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, bytes):
        return value.hex()
    return value
