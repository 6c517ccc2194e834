"""Reading a submitted predictions CSV, checking it against the problem, and aligning it with the truth.

`read_predictions` reads the file with pyarrow's multi-threaded CSV reader, every column as text, then
checks it with vectorised pyarrow and numpy operations. Any problem raises
`CommonsError(ErrorCode.BAD_SUBMISSION, <sentence>, problems=[...])`, with at most the first
`MAX_PROBLEMS` problems in file order, each `{"row", "column", "value", "issue"}`. `row` is the line in
the file, the header being line 1 and the first data row line 2 (a quoted cell spanning lines shifts
later rows); it is 1 for a problem of the header and None for an id of the truth that no row gives.
Cells are trimmed of surrounding spaces; ids are compared as text, labels exactly as the classes are
written. Numbers are decimal (`1`, `-0.5`, `.5`, `2e-3`); empty cells, NaN and infinities are refused.
"""

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from aicommons.core.errors import CommonsError, ErrorCode
from aicommons.problems.scoring import Metric, Prediction, Task, prediction_columns, prediction_kind

MAX_SUBMISSION_BYTES = 256 * 1024 * 1024
MAX_PROBLEMS = 20
SUM_TOLERANCE = 0.01
NUMBER = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"
NONFINITE = r"(?i)^[+-]?(nan|inf|infinity)$"
FIRST_ROW = 2  # the line of the first data row: the header is line 1

Problem = dict[str, Any]
Array = npt.NDArray[Any]


@dataclass
class Findings:
    """The problems found so far: how many, and the first few of each check."""

    count: int = 0
    problems: list[Problem] | None = None

    def add(self, rows: Array, column: str, values: list[Any], issues: list[str], count: int) -> None:
        self.problems = self.problems or []
        self.count += count
        for row, value, issue in zip(rows, values, issues, strict=True):
            line = None if row is None else int(row) + FIRST_ROW
            self.problems.append({"row": line, "column": column, "value": str(value), "issue": issue})

    def flag(self, mask: Array, column: str, cells: pa.Array, issue: str) -> None:
        """Record the rows where `mask` holds, each with its cell of `cells` and the same issue."""
        rows = np.flatnonzero(mask)
        if len(rows):
            values = cells.take(pa.array(rows[:MAX_PROBLEMS])).to_pylist()
            self.add(rows[:MAX_PROBLEMS], column, values, [issue] * len(values), len(rows))

    def raise_any(self) -> None:
        if not self.problems:
            return
        first = sorted(self.problems, key=lambda p: (p["row"] is None, p["row"] or 0))[:MAX_PROBLEMS]
        where = f"line {first[0]['row']}" if first[0]["row"] is not None else "the truth"
        sentence = (
            f"The submission has {self.count:,} problem{'s' if self.count > 1 else ''}, the first at "
            f"{where}, column {first[0]['column']!r}: {first[0]['issue']}."
        )
        raise CommonsError(ErrorCode.BAD_SUBMISSION, sentence, problems=first)


def _refuse(sentence: str) -> CommonsError:
    return CommonsError(ErrorCode.BAD_SUBMISSION, sentence, problems=[])


def _load(source: str | Path | BinaryIO, max_bytes: int) -> bytes:
    if isinstance(source, str | Path):
        if Path(source).stat().st_size > max_bytes:
            raise _refuse(f"The submission is larger than the limit of {max_bytes:,} bytes.")
        data = Path(source).read_bytes()
    else:
        data = source.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise _refuse(f"The submission is larger than the limit of {max_bytes:,} bytes.")
    if not data.strip():
        raise _refuse("The submission is empty.")
    return data


def _parse(data: bytes, columns: list[str], *, threads: bool = True) -> pa.Table:
    """Every column as text; a row with the wrong number of cells is a problem (found on a second read)."""
    malformed: list[Any] = []

    def skip(row: Any) -> str:
        malformed.append(row)
        return "skip"

    convert = pcsv.ConvertOptions(column_types=dict.fromkeys(columns, pa.string()), strings_can_be_null=False)
    parse = pcsv.ParseOptions(invalid_row_handler=skip)
    try:
        table = pcsv.read_csv(
            io.BytesIO(data),
            read_options=pcsv.ReadOptions(use_threads=threads),
            parse_options=parse,
            convert_options=convert,
        )
    except pa.ArrowInvalid as error:
        raise _refuse(f"The submission is not a readable CSV file: {error}.") from None
    if malformed and threads:  # line numbers are only known to a single-threaded read
        return _parse(data, columns, threads=False)
    if malformed:
        _report_malformed(malformed)
    return table


def _report_malformed(rows: list[Any]) -> None:
    findings = Findings()
    lines = np.array([row.number - FIRST_ROW for row in rows[:MAX_PROBLEMS]])
    issues = [f"{row.actual_columns} cells where the header has {row.expected_columns}" for row in rows]
    texts = [row.text for row in rows[:MAX_PROBLEMS]]
    findings.add(lines, "*", texts, issues[:MAX_PROBLEMS], len(rows))
    findings.raise_any()


def _check_header(names: list[str], expected: list[str]) -> None:
    findings = Findings()
    duplicates = sorted({name for name in names if names.count(name) > 1})
    header = [
        *((name, "missing column") for name in expected if name not in names),
        *((name, "unexpected column") for name in names if name not in expected),
        *((name, "duplicate column") for name in duplicates),
    ]
    for name, issue in header:
        findings.add(np.array([-1]), name, [name], [issue], 1)  # row -1: the header, line 1
    findings.raise_any()


def _text(table: pa.Table, column: str) -> pa.Array:
    return pc.utf8_trim_whitespace(table[column].combine_chunks())


def _align(ids: pa.Array, expected: pa.Array, column: str, findings: Findings) -> npt.NDArray[np.int64]:
    """Each row's position in the truth (-1 when unknown); empty, unknown, duplicate and missing ids."""
    positions = pc.index_in(ids, value_set=expected).fill_null(-1).to_numpy(zero_copy_only=False)
    known = positions >= 0
    findings.flag(pc.equal(pc.utf8_length(ids), 0).to_numpy(zero_copy_only=False), column, ids, "empty id")
    findings.flag(
        ~known & (pc.utf8_length(ids).to_numpy(zero_copy_only=False) > 0), column, ids, "unknown id"
    )
    given = np.bincount(positions[known], minlength=len(expected))
    if np.any(given > 1):
        repeated = np.ones(len(ids), dtype=bool)
        repeated[np.unique(positions, return_index=True)[1]] = False
        findings.flag(repeated & known, column, ids, "duplicate id")
    missing = np.flatnonzero(given == 0)
    if len(missing):
        values = expected.take(pa.array(missing[:MAX_PROBLEMS])).to_pylist()
        none = np.array([None] * len(values), dtype=object)
        findings.add(none, column, values, ["missing id"] * len(values), len(missing))
    return np.asarray(positions, dtype=np.int64)


def _numbers(cells: pa.Array, column: str, findings: Findings, *, probability: bool) -> Array:
    """The cells as float64 (NaN where refused)."""
    valid = pc.match_substring_regex(cells, NUMBER).to_numpy(zero_copy_only=False)
    if not valid.all():
        _refused_numbers(cells, ~valid, column, findings)
    text = pc.if_else(pa.array(valid), cells, pa.scalar(None, pa.string()))
    values = pc.cast(text, pa.float64()).to_numpy(zero_copy_only=False)
    bad = valid & ~np.isfinite(values)
    if probability:
        bad |= valid & ((values < 0) | (values > 1))
    findings.flag(bad, column, cells, "probability outside [0, 1]" if probability else "not a finite number")
    return np.asarray(np.where(bad, np.nan, values), dtype=np.float64)


def _refused_numbers(cells: pa.Array, refused: Array, column: str, findings: Findings) -> None:
    """Say why each refused cell is not a number: empty, NaN or infinity, or text."""
    empty = pc.equal(pc.utf8_length(cells), 0).to_numpy(zero_copy_only=False)
    nonfinite = pc.match_substring_regex(cells, NONFINITE).to_numpy(zero_copy_only=False)
    findings.flag(refused & empty, column, cells, "empty cell")
    findings.flag(refused & nonfinite, column, cells, "NaN or infinity")
    findings.flag(refused & ~empty & ~nonfinite, column, cells, "not a number")


def _labels(cells: pa.Array, classes: list[str], column: str, findings: Findings) -> Array:
    codes = pc.index_in(cells, value_set=pa.array(classes, pa.string())).fill_null(-1)
    codes_np = codes.to_numpy(zero_copy_only=False).astype(np.int64)
    findings.flag(codes_np < 0, column, cells, f"not one of the classes {classes}")
    return np.asarray(codes_np, dtype=np.int64)


def _probabilities(table: pa.Table, classes: list[str], findings: Findings) -> Array:
    matrix = np.stack([_numbers(_text(table, c), c, findings, probability=True) for c in classes], axis=1)
    sums = matrix.sum(axis=1)
    off = np.isfinite(sums) & (np.abs(sums - 1) > SUM_TOLERANCE)
    findings.flag(off, ", ".join(classes), pa.array(sums.astype(str)), "the probabilities do not sum to 1")
    return np.asarray(matrix / sums[:, None])


def _values(table: pa.Table, kind: Prediction, classes: list[str], findings: Findings) -> Array:
    if kind is Prediction.PROBABILITIES:
        return _probabilities(table, classes, findings)
    cells = _text(table, "prediction")
    if kind is Prediction.LABEL:
        return _labels(cells, classes, "prediction", findings)
    return _numbers(cells, "prediction", findings, probability=kind is Prediction.PROBABILITY)


def read_predictions(
    source: str | Path | BinaryIO,
    *,
    expected_ids: pa.Array | list[str],
    task: Task,
    metric: Metric,
    classes: list[str] | None = None,
    id_column: str = "id",
    max_bytes: int = MAX_SUBMISSION_BYTES,
) -> Array:
    """The submission's predictions in the order of `expected_ids` (the truth's), once checked.

    Labels come back as codes (indexes into `classes`), probabilities and numbers as float64, and the
    per-class probabilities of a multiclass log loss as a rowsxclasses float64 matrix.
    """
    classes = [str(label) for label in classes or []]
    kind = prediction_kind(task, metric)
    expected = [id_column, *prediction_columns(task, metric, classes)]
    table = _parse(_load(source, max_bytes), expected)
    _check_header(table.column_names, expected)
    if table.num_rows == 0:
        raise _refuse("The submission has a header but no rows.")
    findings = Findings()
    truth_ids = pc.cast(pa.array(expected_ids), pa.string())
    positions = _align(_text(table, id_column), truth_ids, id_column, findings)
    values = _values(table, kind, classes, findings)
    findings.raise_any()
    aligned = np.empty((len(truth_ids), *values.shape[1:]), dtype=values.dtype)
    aligned[positions] = values
    return aligned
