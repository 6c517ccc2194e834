"""`python -m benchmarks` (`make bench`): run every benchmark, print the figures, exit 1 on a miss.

On SQLite always, and on PostgreSQL when AICOMMONS_BENCH_POSTGRES_URL (or AICOMMONS_TEST_POSTGRES_URL)
is set. See benchmarks/README.md for what each figure means and the variables that size a run.
"""

import os
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table

from benchmarks import (
    concerns,
    datasets,
    explain,
    federation_contribution,
    federation_quality,
    federation_scale,
    governance,
    insights,
    journeys,
    ledger,
    problems,
    problems_leaderboard,
    search,
)
from benchmarks.config import BenchConfig, FederationConfig
from benchmarks.report import Latencies, Startup, print_tables
from benchmarks.seed import Database, Seeded, postgres_database, seed, sqlite_database, viewer
from benchmarks.server import serve_app
from benchmarks.startup import demo_startups


def _make_console() -> Console:
    """Rich's console; when the output is not a terminal (CI, a pipe), wide enough for the tables."""
    terminal = Console()
    return terminal if terminal.is_terminal else Console(width=130)


console = _make_console()


def main() -> int:
    config = BenchConfig.from_env()
    started, load_before = time.perf_counter(), os.getloadavg()[0]
    seeded: dict[str, Seeded] = {}
    latencies: list[Latencies] = []
    for kind in _kinds(config) if config.search else ():
        with _database(kind, config) as (database, data_dir):
            seeded[kind] = seed(database, config, console)
            latencies.extend(_bench_search(database, data_dir, config))
    startups = _bench_demo() if config.demo else []
    ledgers = ledger.run(config, console) if config.ledger.enabled else ledger.LedgerResults()
    data = datasets.run(config, console) if config.datasets.enabled else datasets.DatasetsResults()
    scoring = problems.run(config.problems, console) if config.problems.enabled else problems.Results()
    boards = problems_leaderboard.run(config, console) if config.problems.enabled else []
    found = insights.run(config, console) if os.environ.get("AICOMMONS_BENCH_INSIGHTS", "1") != "0" else None
    raised = concerns.run(config, console) if os.environ.get("AICOMMONS_BENCH_CONCERNS", "1") != "0" else []
    tallies = (
        governance.run(config, console) if os.environ.get("AICOMMONS_BENCH_GOVERNANCE", "1") != "0" else []
    )
    paths_config = journeys.JourneysConfig.from_env()
    paths = journeys.run(paths_config, console) if paths_config.enabled else journeys.Results()
    federated, federation_passed = (
        _bench_federation(config.federation) if config.federation.enabled else ([], True)
    )
    print_tables(console, seeded, latencies, startups)
    ledgers.print(console)
    data.print(console)
    scoring.print(console)
    if found is not None:
        found.print(console)
    paths.print(console)
    if tallies:
        console.print(governance.tally_table(tallies))
    for table in federated:
        console.print(table)
    _notes(config, started, load_before)
    passed = all(row.passed for row in latencies) and all(row.passed for row in startups)
    passed = (
        passed and ledgers.passed and data.passed and scoring.passed and all(row.passed for row in boards)
    )
    passed = passed and federation_passed and all(row.passed for row in raised) and paths.passed
    passed = passed and (found is None or found.passed) and all(run.passed for run in tallies)
    return 0 if passed else 1


def _switched_on(benchmark: str) -> bool:
    """A benchmark runs unless AICOMMONS_BENCH_<NAME>=0."""
    return os.environ.get(f"AICOMMONS_BENCH_{benchmark}", "1") != "0"


def _kinds(config: BenchConfig) -> tuple[str, ...]:
    return ("sqlite", "postgresql") if config.postgres_url else ("sqlite",)


@contextmanager
def _database(kind: str, config: BenchConfig) -> Iterator[tuple[Database, Path]]:
    """A fresh database of `kind` and a data directory for the server, removed afterwards."""
    console.rule(f"{kind}: {config.members:,} members, {config.communities:,} communities")
    with tempfile.TemporaryDirectory(prefix=f"aicommons-bench-{kind}-") as directory:
        data_dir = Path(directory)
        database = sqlite_database(data_dir) if kind == "sqlite" else postgres_database(config.postgres_url)
        yield database, data_dir


def _bench_search(database: Database, data_dir: Path, config: BenchConfig) -> list[Latencies]:
    """Serve the seeded database, send the request mix, and profile the kinds that miss their target."""
    token = viewer(database).token
    with (
        serve_app(data_dir=data_dir, database_url=database.url) as base_url,
        httpx.Client(base_url=base_url, timeout=30) as client,
    ):
        console.print(f"Sending {4 * config.requests_per_kind:,} requests to {database.kind} …")
        probes = search.mix(per_kind=config.requests_per_kind, pages=search.page_count(client))
        timings = search.run(client, probes, token)
    rows = _summarise(database.kind, timings)
    _profile_misses(database, rows, timings, config, token)
    return rows


def _summarise(database: str, timings: list[search.Timing]) -> list[Latencies]:
    rows = [
        Latencies(kind, database, [t.ms for t in timings if t.probe.kind == kind]) for kind in search.KINDS
    ]
    return [*rows, Latencies("all requests", database, [t.ms for t in timings])]


def _profile_misses(
    database: Database,
    rows: list[Latencies],
    timings: list[search.Timing],
    config: BenchConfig,
    token: str,
) -> None:
    missed = {row.scenario for row in rows if not row.passed}
    if not missed and not config.profile:
        return
    console.print(explain.shapes_table(database.kind, timings))
    kinds = set(search.KINDS) if config.profile or "all requests" in missed else missed
    for probe in explain.suspects(timings, kinds & set(search.KINDS)):
        explain.profile(database, probe, token, console)


def _bench_demo() -> list[Startup]:
    console.rule("make demo: aicommons demo on an empty, then a seeded, data directory")
    return demo_startups()


def _bench_federation(config: FederationConfig) -> tuple[list[Table], bool]:
    """Contribution valuation, federated against central training, the platform against bare Flower, and
    a run of many nodes: their tables, and whether every target was met."""
    valuations = federation_contribution.run(console)
    quality = federation_quality.run(config, console)
    overhead, scale = federation_scale.run(config, console)
    tables = [
        federation_contribution.valuation_table(valuations),
        federation_quality.quality_table(quality),
        federation_scale.overhead_table(overhead),
        federation_scale.scale_table(scale),
    ]
    passed = all(row.passed for row in valuations) and all(row.passed for row in quality)
    return tables, passed and overhead.passed and scale.passed


def _notes(config: BenchConfig, started: float, load_before: float) -> None:
    if not config.postgres_url:
        console.print(
            "[yellow]PostgreSQL skipped:[/yellow] set AICOMMONS_BENCH_POSTGRES_URL "
            "(or AICOMMONS_TEST_POSTGRES_URL) to benchmark it too."
        )
    load_after, cores = os.getloadavg()[0], os.cpu_count() or 1
    console.print(
        f"Whole run: {time.perf_counter() - started:.0f} s. "
        f"Load average {load_before:.1f} before, {load_after:.1f} after, on {cores} cores."
    )
    if max(load_before, load_after) > cores:
        console.print("[yellow]The machine was busy with other work: these latencies are inflated.[/yellow]")


if __name__ == "__main__":
    sys.exit(main())
