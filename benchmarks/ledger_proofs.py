"""Inclusion proofs in a large log over HTTP and in-process, and `aicommons ledger verify` of the whole log.

The log is built in bulk: all but its last entry are written straight into `log_entry` and `log_node`
(their hashes computed by `merkle.append_nodes`, the code the sequencer uses), in one transaction per
chunk (COPY on PostgreSQL, `executemany` on SQLite). The last entry goes through `ledger.record` and the
real `ledger.integrate`, which reads the stored frontier, hashes the new root and signs the checkpoint.
The app is then served without its job worker, and `GET /api/v1/ledger/entries/{index}/proof` is sent
for random indices, one after another on a keep-alive client, after a warm-up.
"""

import random
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table
from sqlalchemy import Connection, insert, text

from aicommons.core.db import Base, unit_of_work, utcnow
from aicommons.ledger import merkle
from aicommons.ledger import service as ledger
from aicommons.ledger.entries import canonical
from aicommons.ledger.models import LogHead
from benchmarks.config import (
    PROOF_BUDGET_S,
    PROOF_MAX_HASHES,
    PROOF_TARGET_MS,
    VERIFY_TARGET_S,
    VERIFY_TIMEOUT_S,
    LedgerConfig,
)
from benchmarks.ledger_setup import EVENT, NOTE, LedgerDb, ledger_database
from benchmarks.report import percentile, verdict
from benchmarks.server import clean_env, serve_app, venv_command

CHUNK = 50_000
WARMUP = 50
PROOF_PATH = "/api/v1/ledger/entries/{index}/proof"
SEED = 5
_MARK = 9_876_543_210_123


@dataclass(frozen=True)
class Built:
    """How long the log took to build (not a target)."""

    database: str
    size: int
    bulk_s: float  # all but the last entry, straight into the tables
    integrate_s: float  # the last entry through ledger.record and ledger.integrate


@dataclass(frozen=True)
class Proofs:
    """Inclusion-proof latencies in milliseconds, and the longest proof, in one way of asking."""

    database: str
    size: int
    way: str
    ms: Sequence[float]
    max_hashes: int

    @property
    def passed(self) -> bool:
        return percentile(self.ms, 99) < PROOF_TARGET_MS and self.max_hashes <= PROOF_MAX_HASHES


@dataclass(frozen=True)
class Verify:
    """`aicommons ledger verify` of the whole log: seconds, exit status, and the end of its output."""

    database: str
    size: int
    seconds: float | None  # None: the command is not available
    returncode: int
    output: str

    @property
    def skipped(self) -> bool:
        return self.seconds is None

    @property
    def passed(self) -> bool:
        return self.skipped or (self.returncode == 0 and (self.seconds or 0) < VERIFY_TARGET_S)


@dataclass(frozen=True)
class ProofResults:
    built: Built
    proofs: list[Proofs]
    verify: Verify | None

    @property
    def passed(self) -> bool:
        return all(p.passed for p in self.proofs) and (self.verify is None or self.verify.passed)


def bench_proofs(kind: str, postgres_url: str, config: LedgerConfig, console: Console) -> ProofResults:
    size = config.log_size_on(kind)
    with ledger_database(kind, postgres_url, "proofs") as db:
        console.print(f"Building a log of {size:,} entries on {kind} …")
        built = build_log(db, size)
        console.print(f"  built in {built.bulk_s + built.integrate_s:.1f} s; timing {config.proofs} proofs …")
        indices = random.Random(SEED).choices(range(size), k=config.proofs)
        proofs = [_in_process(db, size, indices)]
        with serve_app(data_dir=db.data_dir, database_url=db.database.url) as base_url:
            proofs.insert(0, _over_http(db, base_url, size, indices))
            verify = time_verify(kind, size, base_url, console) if config.verify else None
    return ProofResults(built, proofs, verify)


def build_log(db: LedgerDb, size: int) -> Built:
    """A log of `size` entries: size - 1 written in bulk, the last one recorded and integrated."""
    started = time.perf_counter()
    frontier: dict[merkle.Node, bytes] = {}
    for start in range(0, size - 1, CHUNK):
        frontier = _write_chunk(db, start, min(size - 1, start + CHUNK), frontier)
    with db.engine.begin() as connection:
        connection.execute(insert(LogHead), {"id": ledger.HEAD, "size": size - 1})
        _skip_record_ids(connection, size - 1)
    _analyze(db)
    bulk = time.perf_counter()
    with unit_of_work(db.factory) as session:
        ledger.record(session, EVENT, actor_id=1, data={"n": size - 1, "note": NOTE})
    with unit_of_work(db.factory) as session:
        checkpoint = ledger.integrate(session, db.log)
    if checkpoint is None or checkpoint.size != size:
        raise RuntimeError(f"the sequencer signed {checkpoint and checkpoint.size}, not {size}")
    return Built(db.database.kind, size, bulk - started, time.perf_counter() - bulk)


def _write_chunk(
    db: LedgerDb, start: int, end: int, frontier: dict[merkle.Node, bytes]
) -> dict[merkle.Node, bytes]:
    """Write entries [start, end) and the nodes they complete; the frontier of the tree of `end` leaves."""
    bodies = [_body(index) for index in range(start, end)]
    nodes = merkle.append_nodes(start, [merkle.leaf_hash(b) for b in bodies], _reader(frontier))
    now = utcnow()
    entries = [
        {
            "index": index,
            "record_id": index + 1,
            "body": body,
            "event": EVENT,
            "actor_id": 1 + index % 1000,
            "community_id": None,
            "created_at": now,
        }
        for index, body in enumerate(bodies, start)
    ]
    with db.engine.begin() as connection:
        _insert(connection, "log_entry", entries)
        _insert(connection, "log_node", [{"level": lv, "index": ix, "hash": h} for lv, ix, h in nodes])
    known = frontier | {(level, index): digest for level, index, digest in nodes}
    return {node: known[node] for node in merkle.subtree_nodes(0, end)}


def _reader(hashes: dict[merkle.Node, bytes]) -> merkle.HashReader:
    def read(nodes: Sequence[merkle.Node]) -> list[bytes]:
        return [hashes[node] for node in nodes]

    return read


@cache
def _body_parts() -> tuple[bytes, bytes]:
    """The bytes of an entry before and after its number, once."""
    document = {
        "v": 1,
        "event": EVENT,
        "actor": "member:1",
        "subject": {},
        "at": "2026-01-01T00:00:00.000000Z",
        "data": {"n": _MARK, "note": NOTE},
    }
    before, after = canonical(document).split(str(_MARK).encode())
    return before, after


def _body(index: int) -> bytes:
    """The entry `index`: canonical JSON of the shape ledger.record writes, about 300 bytes."""
    before, after = _body_parts()
    return before + str(index).encode() + after


def _insert(connection: Connection, table: str, rows: list[dict[str, Any]]) -> None:
    """Insert many rows into `table`: COPY on PostgreSQL, executemany on SQLite."""
    if not rows:
        return
    if connection.dialect.name != "postgresql":
        connection.execute(insert(Base.metadata.tables[table]), rows)
        return
    columns = list(rows[0])
    quoted = ", ".join(f'"{name}"' for name in columns)
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    with cursor.copy(f'COPY "{table}" ({quoted}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row([row[name] for name in columns])


def _skip_record_ids(connection: Connection, last: int) -> None:
    """Move log_record's id sequence past the record ids the bulk entries claim."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT setval(pg_get_serial_sequence('log_record', 'id'), :n)"), {"n": last})
    else:
        connection.execute(
            text("INSERT INTO sqlite_sequence (name, seq) VALUES ('log_record', :n)"), {"n": last}
        )


def _analyze(db: LedgerDb) -> None:
    """On PostgreSQL, gather the planner statistics that autovacuum would after a bulk load."""
    if db.database.kind != "postgresql":
        return
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("ANALYZE log_entry, log_node"))


def _timed(ask: Callable[[int], tuple[float, int]], indices: Sequence[int]) -> list[tuple[float, int]]:
    """Warm up, then ask for each index in turn until all are done or PROOF_BUDGET_S has passed."""
    for index in indices[:WARMUP]:
        ask(index)
    deadline = time.perf_counter() + PROOF_BUDGET_S
    timed = []
    for index in indices:
        timed.append(ask(index))
        if time.perf_counter() > deadline:
            break
    return timed


def _over_http(db: LedgerDb, base_url: str, size: int, indices: Sequence[int]) -> Proofs:
    with httpx.Client(base_url=base_url, timeout=30) as client:
        timed = _timed(lambda index: _get_proof(client, index), indices)
    ms = [elapsed for elapsed, _ in timed]
    return Proofs(db.database.kind, size, "HTTP", ms, max(n for _, n in timed))


def _get_proof(client: httpx.Client, index: int) -> tuple[float, int]:
    started = time.perf_counter()
    response = client.get(PROOF_PATH.format(index=index))
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise RuntimeError(f"proof of {index} answered {response.status_code}: {response.text[:300]}")
    return elapsed, len(response.json()["proof"])


def _in_process(db: LedgerDb, size: int, indices: Sequence[int]) -> Proofs:
    """service.inclusion_proof in its own unit of work, without HTTP, after the same warm-up."""
    timed = _timed(lambda index: _service_proof(db, index, size), indices)
    ms = [elapsed for elapsed, _ in timed]
    return Proofs(db.database.kind, size, "in-process", ms, max(n for _, n in timed))


def _service_proof(db: LedgerDb, index: int, size: int) -> tuple[float, int]:
    started = time.perf_counter()
    with unit_of_work(db.factory) as session:
        proof = ledger.inclusion_proof(session, index, size).proof
    return (time.perf_counter() - started) * 1000, len(proof)


def verify_available() -> bool:
    """Whether `aicommons ledger verify` exists in this checkout (it answers --help)."""
    try:
        probe = subprocess.run(
            [venv_command("aicommons"), "ledger", "verify", "--help"],
            check=False,
            capture_output=True,
            timeout=60,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return probe.returncode == 0


def time_verify(kind: str, size: int, base_url: str, console: Console) -> Verify:
    """Time `aicommons ledger verify <url>` with a fresh state directory, or say it is not available."""
    if not verify_available():
        return Verify(kind, size, None, 0, "")
    console.print(f"  aicommons ledger verify {base_url} …")
    with tempfile.TemporaryDirectory(prefix="aicommons-bench-verify-") as config_dir:
        command = [venv_command("aicommons"), "ledger", "verify", base_url]
        started = time.perf_counter()
        try:
            done = subprocess.run(
                command,
                check=False,
                env=clean_env(config_dir=config_dir),
                capture_output=True,
                timeout=VERIFY_TIMEOUT_S,
            )
        except subprocess.TimeoutExpired:
            return Verify(kind, size, VERIFY_TIMEOUT_S, 124, f"stopped after {VERIFY_TIMEOUT_S:.0f} s")
        seconds = time.perf_counter() - started
    output = (done.stdout + done.stderr).decode(errors="replace").strip()
    return Verify(kind, size, seconds, done.returncode, output[-600:])


def build_table(rows: Sequence[Built]) -> Table:
    table = Table(title="Large log set-up (not a target)")
    for column in ("database", "entries", "bulk write s", "record + integrate s", "entries/s"):
        table.add_column(column, justify="left" if column == "database" else "right")
    for row in rows:
        total = row.bulk_s + row.integrate_s
        table.add_row(
            row.database,
            f"{row.size:,}",
            f"{row.bulk_s:.1f}",
            f"{row.integrate_s:.2f}",
            f"{row.size / total:,.0f}",
        )
    return table


def proofs_table(rows: Sequence[Proofs]) -> Table:
    table = Table(
        title=f"Inclusion proofs: GET {PROOF_PATH} (HTTP), ledger.inclusion_proof alone (in-process)"
    )
    columns = ("database", "log size", "how", "proofs", "p50 ms", "p95 ms", "p99 ms", "max hashes")
    for column in (*columns, "target", "result"):
        table.add_column(column, justify="left" if column in {"database", "how", "target"} else "right")
    target = f"p99<{PROOF_TARGET_MS:g} ms, ≤{PROOF_MAX_HASHES} hashes"
    for row in rows:
        figures = (f"{percentile(row.ms, q):.2f}" for q in (50, 95, 99))
        table.add_row(
            row.database,
            f"{row.size:,}",
            row.way,
            str(len(row.ms)),
            *figures,
            str(row.max_hashes),
            target,
            verdict(row.passed),
        )
    return table


def verify_table(rows: Sequence[Verify]) -> Table:
    table = Table(title="aicommons ledger verify <url>: the whole log, over HTTP")
    for column in ("database", "log size", "seconds", "exit", "target", "result"):
        table.add_column(column, justify="left" if column in {"database", "target"} else "right")
    for row in rows:
        seconds = "—" if row.seconds is None else f"{row.seconds:.1f}"
        seconds = f"> {seconds} (stopped)" if row.returncode == 124 else seconds
        result = "[yellow]SKIPPED (command not available)[/yellow]" if row.skipped else verdict(row.passed)
        exit_status = "—" if row.skipped else str(row.returncode)
        table.add_row(row.database, f"{row.size:,}", seconds, exit_status, f"< {VERIFY_TARGET_S:g} s", result)
    return table


def failures(rows: Sequence[Verify]) -> Iterator[str]:
    """What a failed verify printed, to show under the table."""
    for row in rows:
        if not row.skipped and row.returncode != 0:
            yield f"{row.database}: exit {row.returncode}: {row.output}"
