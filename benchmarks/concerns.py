"""Raising a concern over HTTP: `POST /api/v1/concerns` without an account, each from its own address.

The database is made by the real migrations (a SQLite file, or the PostgreSQL schema `bench_concerns`)
and holds `AICOMMONS_BENCH_CONCERNS_EXISTING` concerns (default 10,000) inserted in bulk first, so that
the tracking-hash index and the rate-limit table are not empty. The real app is served by uvicorn in a
child process behind `--proxy-headers`, so that each request's `X-Forwarded-For` gives it a client
address of its own (as behind a reverse proxy): every submission pays the address hash, the rate-limit
check, the insert of the concern and its first status, and the log record. One keep-alive client sends
the requests one after another after a warm-up; each latency is the wall time of one request, answer
read. Target: **p99 under 200 ms**, on SQLite and (when configured) PostgreSQL.

Run alone with `.venv/bin/python -m benchmarks.concerns`; `AICOMMONS_BENCH_CONCERNS_REQUESTS` (default
500) sizes the run.
"""

import os
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import httpx
from rich.console import Console
from sqlalchemy import insert

from aicommons.concerns.models import Concern, StatusChange
from aicommons.core import migrate
from aicommons.core.db import make_engine, utcnow
from aicommons.core.security import secret_hash
from benchmarks.config import BenchConfig
from benchmarks.report import Latencies, latency_table
from benchmarks.seed import Database, postgres_database, sqlite_database
from benchmarks.server import clean_env, free_port, running, wait_until

P99_TARGET_MS = 200.0
SCHEMA = "bench_concerns"
PATH = "/api/v1/concerns"
WARM_UP = 20
FORM = {
    "ai_tool": "RouteWise fleet routing",
    "where_seen": "Long-haul freight routes through the Alps",
    "what_happened": "The routing app sent me under a 3.5 m bridge with a 4 m trailer and keeps planning "
    "routes that only work if I skip my rest breaks. Call me on +49 30 1234567.",
    "who_affected": "Truck drivers and everyone on the road with them",
    "harm": "incident",
    "worry": "high",
    "reporter_role": "truck driver",
}


class SubmissionLatencies(Latencies):
    """Raising a concern has a p99 target alone."""

    @property
    def passed(self) -> bool:
        return self.p99 < P99_TARGET_MS


def run(config: BenchConfig, console: Console) -> list[SubmissionLatencies]:
    kinds = ("sqlite", "postgresql") if config.postgres_url else ("sqlite",)
    rows = [_bench(kind, config, console) for kind in kinds]
    title = f"Raising a concern over HTTP (POST {PATH}, anonymous, one address each)"
    console.print(latency_table(rows, title=title, target=f"p99<{P99_TARGET_MS:g}"))
    return rows


def _bench(kind: str, config: BenchConfig, console: Console) -> SubmissionLatencies:
    requests = int(os.environ.get("AICOMMONS_BENCH_CONCERNS_REQUESTS", "500"))
    existing = int(os.environ.get("AICOMMONS_BENCH_CONCERNS_EXISTING", "10000"))
    console.rule(f"{kind}: {requests:,} concerns raised on a commons holding {existing:,}")
    with tempfile.TemporaryDirectory(prefix=f"aicommons-bench-concerns-{kind}-") as directory:
        database = (
            sqlite_database(Path(directory))
            if kind == "sqlite"
            else postgres_database(config.postgres_url, SCHEMA)
        )
        migrate.upgrade(database.url)
        _load(database, existing)
        with (
            _served(database, Path(directory)) as base_url,
            httpx.Client(base_url=base_url, timeout=30) as client,
        ):
            samples = _time(client, requests)
    return SubmissionLatencies("raise a concern", kind, samples)


def _load(database: Database, count: int) -> None:
    """`count` received concerns with their first status, inserted in bulk (not timed)."""
    engine = make_engine(database.url)
    now = utcnow()
    concerns = [
        FORM
        | {
            "id": n,
            "contact": None,
            "tracking_hash": secret_hash(f"bench-{n}"),
            "status": "received",
            "risk_domains": [],
            "harm_types": [],
            "deployer": "",
            "developer": "",
            "escalation_note": "",
            "corroboration_count": 0,
            "flag_count": 0,
            "created_at": now - timedelta(minutes=n),
            "updated_at": now - timedelta(minutes=n),
        }
        for n in range(1, count + 1)
    ]
    changes = [
        {"concern_id": n, "to_status": "received", "reason": "", "at": now} for n in range(1, count + 1)
    ]
    with engine.begin() as connection:
        if concerns:
            connection.execute(insert(Concern), concerns)
            connection.execute(insert(StatusChange), changes)
    if database.kind == "postgresql" and count:
        with engine.begin() as connection:
            connection.exec_driver_sql(f"SELECT setval('concern_id_seq', {count})")
    engine.dispose()


@contextmanager
def _served(database: Database, data_dir: Path) -> Iterator[str]:
    """The app behind uvicorn's proxy-header handling, trusting the benchmark's own loopback address."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "aicommons.app:create_app",
        "--factory",
        "--host=127.0.0.1",
        f"--port={port}",
        "--log-level=warning",
        "--no-access-log",
        "--proxy-headers",
        "--forwarded-allow-ips=127.0.0.1",
    ]
    env = clean_env(data_dir=str(data_dir), database_url=database.url, run_worker="false")
    with running(command, env) as child:
        base_url = f"http://127.0.0.1:{port}"
        wait_until(child, base_url, lambda response: response.status_code == 200, timeout=60)
        yield base_url


def _address(n: int) -> str:
    return f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}"


def _time(client: httpx.Client, requests: int) -> list[float]:
    for n in range(WARM_UP):
        client.post(PATH, json=FORM, headers={"X-Forwarded-For": _address(n)}).raise_for_status()
    samples = []
    for n in range(WARM_UP, WARM_UP + requests):
        headers = {"X-Forwarded-For": _address(n)}
        started = time.perf_counter()
        client.post(PATH, json=FORM, headers=headers).raise_for_status()
        samples.append((time.perf_counter() - started) * 1000)
    refused = client.post(PATH, json=FORM, headers={"X-Forwarded-For": _address(WARM_UP)})
    for _ in range(5):
        refused = client.post(PATH, json=FORM, headers={"X-Forwarded-For": _address(WARM_UP)})
    assert refused.status_code == 429, "the sixth concern in an hour from one address should be refused"
    return samples


def main() -> int:
    rows = run(BenchConfig.from_env(), Console())
    return 0 if all(row.passed for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
