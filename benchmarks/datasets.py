"""The datasets benchmarks: a 1 GB CSV upload, statistics of a 10-million-row version, catalog search.

The upload (`datasets_ingest`) and the statistics (`datasets_stats`) do not depend on the database and
run once, on SQLite; the catalog search (`datasets_catalog`) runs on SQLite and, when configured, on
PostgreSQL (schema `bench_datasets`). See benchmarks/README.md for the figures and their targets.
"""

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table

from benchmarks import datasets_catalog, explain, search
from benchmarks.config import (
    INGEST_MEMORY_TARGET_BYTES,
    INGEST_TARGET_S,
    P99_TARGET_MS,
    STATS_TARGET_S,
    BenchConfig,
)
from benchmarks.datasets_ingest import IngestRun, bench_ingest
from benchmarks.datasets_stats import StatsRun, bench_statistics
from benchmarks.report import latency_table, verdict
from benchmarks.seed import Database, postgres_database, sqlite_database
from benchmarks.server import serve_app

SCHEMA = "bench_datasets"
MB = 1_000_000
MIB = 1 << 20


@dataclass
class DatasetsResults:
    """Every datasets figure of a run."""

    ingest: IngestRun | None = None
    statistics: StatsRun | None = None
    seeded: list[datasets_catalog.Seeded] = field(default_factory=list)
    catalog: list[datasets_catalog.CatalogLatencies] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        verdicts = [run.passed for run in (self.ingest, self.statistics) if run is not None]
        return all(verdicts) and all(row.passed for row in self.catalog)

    def print(self, console: Console) -> None:
        if self.ingest is None and self.statistics is None and not self.seeded:
            return
        console.print(setup_table(self))
        if self.ingest:
            console.print(ingest_table(self.ingest))
        if self.statistics:
            console.print(statistics_table(self.statistics))
        if self.catalog:
            title = "Data catalog search over HTTP (GET /api/v1/datasets)"
            console.print(latency_table(self.catalog, title=title, target=f"p99<{P99_TARGET_MS:g}"))


def run(config: BenchConfig, console: Console) -> DatasetsResults:
    """Every datasets benchmark; the catalog on every configured database."""
    console.rule("datasets: CSV upload and statistics")
    results = DatasetsResults(
        bench_ingest(config.datasets, console), bench_statistics(config.datasets, console)
    )
    for kind in ("sqlite", "postgresql") if config.postgres_url else ("sqlite",):
        console.rule(f"{kind}: data catalog of {config.datasets.count:,} datasets")
        with tempfile.TemporaryDirectory(prefix=f"aicommons-bench-datasets-{kind}-") as directory:
            data_dir = Path(directory)
            database = (
                sqlite_database(data_dir)
                if kind == "sqlite"
                else postgres_database(config.postgres_url, SCHEMA)
            )
            results.seeded.append(datasets_catalog.load(database, config, console))
            results.catalog += _bench_catalog(database, data_dir, config, console)
    return results


def _bench_catalog(
    database: Database, data_dir: Path, config: BenchConfig, console: Console
) -> list[datasets_catalog.CatalogLatencies]:
    per_kind = config.datasets.requests_per_kind
    with (
        serve_app(data_dir=data_dir, database_url=database.url) as base_url,
        httpx.Client(base_url=base_url, timeout=30) as client,
    ):
        probes = datasets_catalog.mix(client, per_kind=per_kind)
        console.print(f"Sending {len(probes):,} requests to {database.kind} …")
        timings = search.run(client, probes, token="")
    rows = datasets_catalog.summarise(database.kind, timings)
    missed = {row.scenario for row in rows if not row.passed}
    if missed or config.profile:
        console.print(explain.shapes_table(database.kind, timings))
        kinds = set(datasets_catalog.KINDS) if config.profile or "all requests" in missed else missed
        for probe in explain.suspects(timings, kinds & set(datasets_catalog.KINDS)):
            datasets_catalog.profile(database, probe, console)
    return rows


def setup_table(results: DatasetsResults) -> Table:
    table = Table(title="Datasets set-up (not a target)")
    for column in ("what", "size", "seconds"):
        table.add_column(column, justify="left" if column == "what" else "right")
    if results.ingest:
        table.add_row(
            "CSV written", f"{results.ingest.csv_bytes / MB:,.0f} MB", f"{results.ingest.generate_s:.1f}"
        )
    if results.statistics:
        rows, seconds = results.statistics.rows, results.statistics.generate_s
        table.add_row("Parquet version written", f"{rows:,} rows", f"{seconds:.1f}")
    for seeded in results.seeded:
        table.add_row(
            f"catalog loaded ({seeded.database})", f"{seeded.datasets:,} datasets", f"{seeded.seconds:.1f}"
        )
    return table


def ingest_table(run: IngestRun) -> Table:
    table = Table(
        title="CSV upload over HTTP (POST /api/v1/datasets/{slug}/versions), server in a child process"
    )
    for column in ("CSV", "rows", "body sent s", "answered s", "server RSS before", "server peak RSS"):
        table.add_column(column, justify="right")
    table.add_column("target")
    table.add_column("result")
    target = f"< {INGEST_TARGET_S:g} s, peak < {INGEST_MEMORY_TARGET_BYTES / MIB:,.0f} MiB"
    table.add_row(
        f"{run.csv_bytes / MB:,.0f} MB",
        f"{run.rows:,}",
        f"{run.sent_s:.1f}",
        f"{run.answered_s:.1f}",
        f"{run.rss_before / MIB:,.0f} MiB",
        f"{run.peak_rss / MIB:,.0f} MiB",
        target,
        verdict(run.passed),
    )
    return table


def statistics_table(run: StatsRun) -> Table:
    table = Table(title="Statistics of a version (statistics.compute in a child process)")
    for column in ("rows", "columns", "Parquet", "seconds", "child peak RSS"):
        table.add_column(column, justify="right")
    table.add_column("target")
    table.add_column("result")
    table.add_row(
        f"{run.rows:,}",
        str(run.columns),
        f"{run.file_bytes / MB:,.0f} MB",
        f"{run.compute_s:.1f}",
        f"{run.peak_rss / MIB:,.0f} MiB",
        f"< {STATS_TARGET_S:g} s",
        verdict(run.passed),
    )
    return table
