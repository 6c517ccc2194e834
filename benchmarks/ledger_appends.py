"""Appends to the transparency log: `ledger.record`, one entry per durable transaction, concurrent writers.

Each writer thread commits `unit_of_work(factory)` around one `ledger.record(...)` (an entry of about
300 bytes) at a time, while the app's job worker, in another thread, integrates the waiting records
and signs checkpoints as it does in `aicommons serve`. Two figures per run: *recorded/s*, the commit
throughput (entries / seconds until the last writer's last commit), and *integrated/s*, end to end
(entries / seconds until a signed checkpoint covers them all). A single writer runs first, for
reference; the target applies to the concurrent writers.
"""

import time
from collections.abc import Sequence
from dataclasses import dataclass

from rich.console import Console
from rich.table import Table
from sqlalchemy import func, select

from aicommons.core.db import unit_of_work
from aicommons.ledger import service as ledger
from aicommons.ledger.models import LogEntry
from benchmarks.config import APPENDS_TARGET_PER_S, LedgerConfig
from benchmarks.ledger_setup import (
    EVENT,
    NOTE,
    LedgerDb,
    ledger_database,
    run_threads,
    sequencer,
    shares,
    tree_size,
    wait_for_size,
)
from benchmarks.report import percentile, verdict


@dataclass(frozen=True)
class AppendRun:
    """One run of appends: how many writers, how long the commits and the integration took."""

    database: str
    writers: int
    entries: int
    entry_bytes: int
    recorded_s: float
    integrated_s: float
    commit_ms: Sequence[float]
    cpu_share: float  # this process's CPU time over the writers' wall time (1.0 = one core)
    target: float | None  # entries/s; None for the single-writer reference run

    @property
    def recorded_rate(self) -> float:
        return self.entries / self.recorded_s

    @property
    def integrated_rate(self) -> float:
        return self.entries / self.integrated_s

    @property
    def passed(self) -> bool:
        return self.target is None or self.recorded_rate >= self.target


def bench_appends(kind: str, postgres_url: str, config: LedgerConfig, console: Console) -> list[AppendRun]:
    """A single writer, then the concurrent writers, on one fresh database of `kind`."""
    writers = config.writers_on(kind)
    with ledger_database(kind, postgres_url, "appends") as db:
        console.print(
            f"Appends on {kind}: {config.single_appends:,} by one writer, "
            f"then {config.appends:,} by {writers} writers …"
        )
        single = _run(db, 1, config.single_appends, None)
        many = _run(db, writers, config.appends, APPENDS_TARGET_PER_S[kind])
    return [single, many]


def _run(db: LedgerDb, writers: int, entries: int, target: float | None) -> AppendRun:
    base = tree_size(db)
    counts = shares(entries, writers)
    commit_ms: list[list[float]] = [[] for _ in range(writers)]

    def work(writer: int) -> None:
        commit_ms[writer] = _append(db, writer, counts[writer])

    with sequencer(db):
        timed = run_threads(writers, work)
        integrated = wait_for_size(db, base + entries, timeout=max(120.0, entries / 50))
    return AppendRun(
        database=db.database.kind,
        writers=writers,
        entries=entries,
        entry_bytes=_entry_bytes(db),
        recorded_s=timed.seconds,
        integrated_s=integrated - timed.started,
        commit_ms=[ms for timings in commit_ms for ms in timings],
        cpu_share=timed.cpu_share,
        target=target,
    )


def _append(db: LedgerDb, writer: int, count: int) -> list[float]:
    """Record `count` entries, one transaction each; the milliseconds each transaction took."""
    timings = []
    for number in range(count):
        began = time.perf_counter()
        with unit_of_work(db.factory) as session:
            ledger.record(
                session,
                EVENT,
                actor_id=writer + 1,
                subject={"writer": writer},
                data={"n": number, "note": NOTE},
            )
        timings.append((time.perf_counter() - began) * 1000)
    return timings


def _entry_bytes(db: LedgerDb) -> int:
    with unit_of_work(db.factory) as session:
        return int(session.scalar(select(func.avg(func.length(LogEntry.body)))) or 0)


def appends_table(rows: Sequence[AppendRun]) -> Table:
    table = Table(title="Log appends: ledger.record, one durable commit per entry, sequencer running")
    columns = ("database", "writers", "entries", "bytes", "recorded/s", "commit p50/p99 ms", "integrated/s")
    for column in (*columns, "bench CPU", "target", "result"):
        table.add_column(column, justify="left" if column in {"database", "target"} else "right")
    for row in rows:
        table.add_row(
            row.database,
            str(row.writers),
            f"{row.entries:,}",
            str(row.entry_bytes),
            f"{row.recorded_rate:,.0f}",
            f"{percentile(row.commit_ms, 50):.2f} / {percentile(row.commit_ms, 99):.1f}",
            f"{row.integrated_rate:,.0f}",
            f"{row.cpu_share:.0%}",
            "reference" if row.target is None else f"≥ {row.target:,.0f}/s",
            "—" if row.target is None else verdict(row.passed),
        )
    return table
