"""Figures of a benchmark run, their targets, and the Rich tables that print them."""

import math
from collections.abc import Sequence
from dataclasses import dataclass

from rich.console import Console
from rich.table import Table

from benchmarks.config import DEMO_TARGET_S, P50_TARGET_MS, P99_TARGET_MS
from benchmarks.seed import Seeded


def percentile(samples: Sequence[float], q: float) -> float:
    """The nearest-rank `q`th percentile: the smallest sample with at least q% of samples at or below."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


@dataclass(frozen=True)
class Latencies:
    """The request latencies of one kind of request (or all of them) on one database, in milliseconds."""

    scenario: str
    database: str
    samples: Sequence[float]

    @property
    def p50(self) -> float:
        return percentile(self.samples, 50)

    @property
    def p95(self) -> float:
        return percentile(self.samples, 95)

    @property
    def p99(self) -> float:
        return percentile(self.samples, 99)

    @property
    def passed(self) -> bool:
        return self.p50 < P50_TARGET_MS and self.p99 < P99_TARGET_MS


@dataclass(frozen=True)
class Startup:
    """Seconds from starting `aicommons demo` to the API answering with the seeded communities."""

    scenario: str
    seconds: float

    @property
    def passed(self) -> bool:
        return self.seconds < DEMO_TARGET_S


def verdict(passed: bool) -> str:
    return "[green]PASS[/green]" if passed else "[bold red]FAIL[/bold red]"


def latency_table(
    rows: Sequence[Latencies],
    *,
    title: str = "Community list and search over HTTP (GET /api/v1/communities)",
    target: str = f"p50<{P50_TARGET_MS:g} p99<{P99_TARGET_MS:g}",
) -> Table:
    table = Table(title=title)
    for column in ("scenario", "database", "requests", "p50 ms", "p95 ms", "p99 ms", "target", "result"):
        table.add_column(column, justify="left" if column in {"scenario", "database", "target"} else "right")
    for row in rows:
        figures = (f"{row.p50:.1f}", f"{row.p95:.1f}", f"{row.p99:.1f}")
        table.add_row(
            row.scenario, row.database, str(len(row.samples)), *figures, target, verdict(row.passed)
        )
    return table


def startup_table(rows: Sequence[Startup]) -> Table:
    table = Table(title="make demo: from `aicommons demo` to the API serving the seeded communities")
    for column in ("scenario", "database", "seconds", "target", "result"):
        table.add_column(column, justify="right" if column == "seconds" else "left")
    for row in rows:
        table.add_row(
            row.scenario, "sqlite", f"{row.seconds:.2f}", f"< {DEMO_TARGET_S:g} s", verdict(row.passed)
        )
    return table


def seeding_table(seeded: dict[str, Seeded]) -> Table:
    table = Table(title="Data set-up (not a target)")
    for column in ("database", "members", "communities", "memberships", "generate s", "insert s"):
        table.add_column(column, justify="left" if column == "database" else "right")
    for database, figures in seeded.items():
        counts = (f"{figures.rows[name]:,}" for name in ("member", "community", "membership"))
        table.add_row(database, *counts, f"{figures.generate_s:.1f}", f"{figures.insert_s:.1f}")
    return table


def print_tables(
    console: Console, seeded: dict[str, Seeded], latencies: Sequence[Latencies], startups: Sequence[Startup]
) -> None:
    console.print()
    if seeded:
        console.print(seeding_table(seeded))
    if latencies:
        console.print(latency_table(latencies))
    if startups:
        console.print(startup_table(startups))
