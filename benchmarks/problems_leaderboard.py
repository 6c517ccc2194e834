"""A problem's leaderboard over HTTP: `GET /api/v1/problems/{ref}/leaderboard` with 10,000 scored submissions.

The database is made by the real migrations and holds a small commons (`seed.seed`, for the solvers),
then one problem, its teams and their scored submissions inserted in bulk, after which the teams'
standings are computed as scoring keeps them (`standings.refresh`). The app is served in a child
process and timed with one keep-alive client after a warm-up: the public board while the problem is
open, then the private board once its owner closed it (`service.close`, after its closing time).
"""

import random
import tempfile
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from sqlalchemy import Engine, insert, select
from sqlalchemy.orm import Session

from aicommons.core.db import make_engine, utcnow
from aicommons.members.models import Member
from aicommons.problems import service, standings
from aicommons.problems.models import Problem, ProblemState, Submission, SubmissionState, Team, TeamMember
from benchmarks.config import P99_TARGET_MS, BenchConfig
from benchmarks.report import Latencies, latency_table
from benchmarks.seed import Database, postgres_database, seed, sqlite_database
from benchmarks.server import serve_app

SCHEMA = "bench_problems"
PATH = "/api/v1/problems/bench-leaderboard/leaderboard"
WARM_UP = 20


class BoardLatencies(Latencies):
    """The leaderboard's target is on the p99 alone."""

    @property
    def passed(self) -> bool:
        return self.p99 < P99_TARGET_MS


def run(config: BenchConfig, console: Console) -> list[BoardLatencies]:
    kinds = ("sqlite", "postgresql") if config.postgres_url else ("sqlite",)
    rows = [row for kind in kinds for row in _bench(kind, config, console)]
    console.print(
        latency_table(
            rows, title=f"Problem leaderboard over HTTP (GET {PATH})", target=f"p99<{P99_TARGET_MS:g}"
        )
    )
    return rows


def _bench(kind: str, config: BenchConfig, console: Console) -> list[BoardLatencies]:
    sizes = config.problems
    console.rule(f"{kind}: a leaderboard of {sizes.submissions:,} submissions from {sizes.teams:,} teams")
    with tempfile.TemporaryDirectory(prefix=f"aicommons-bench-board-{kind}-") as directory:
        database = (
            sqlite_database(Path(directory))
            if kind == "sqlite"
            else postgres_database(config.postgres_url, SCHEMA)
        )
        seed(database, replace(config, members=sizes.teams, communities=10), console)
        engine = make_engine(database.url)
        try:
            _load(engine, sizes.teams, sizes.submissions)
            return _time_boards(engine, database, Path(directory), sizes.board_requests)
        finally:
            engine.dispose()


def _time_boards(engine: Engine, database: Database, data_dir: Path, requests: int) -> list[BoardLatencies]:
    with (
        serve_app(data_dir=data_dir, database_url=database.url) as base_url,
        httpx.Client(base_url=base_url, timeout=30) as client,
    ):
        public = _time(client, {}, requests)
        _close(engine)
        private = _time(client, {"board": "private"}, requests)
    return [
        BoardLatencies("public board", database.kind, public),
        BoardLatencies("private board", database.kind, private),
    ]


def _close(engine: Engine) -> None:
    with Session(engine) as session, session.begin():
        problem = session.scalars(select(Problem)).one()
        problem.closes_at = utcnow() - timedelta(seconds=1)
        owner = session.get(Member, problem.owner_member_id)
        assert owner is not None
        service.close(session=session, actor=owner, problem=problem)


def _time(client: httpx.Client, params: dict[str, str], requests: int) -> list[float]:
    for _ in range(WARM_UP):
        client.get(PATH, params=params).raise_for_status()
    samples = []
    for _ in range(requests):
        started = time.perf_counter()
        client.get(PATH, params=params).raise_for_status()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def _load(engine: Engine, teams: int, submissions: int) -> None:
    """One open problem, `teams` teams of one seeded member each, and `submissions` scored submissions."""
    rng, now = random.Random(7), utcnow()
    with engine.begin() as connection:
        problem_id = connection.execute(insert(Problem).values(**_problem(now))).inserted_primary_key[0]  # type: ignore[index]
        team_rows = [
            {"id": n, "problem_id": problem_id, "name": f"team-{n:05d}", "created_at": now}
            for n in range(1, teams + 1)
        ]
        connection.execute(insert(Team), team_rows)
        connection.execute(
            insert(TeamMember),
            [{"team_id": n, "member_id": n, "problem_id": problem_id} for n in range(1, teams + 1)],
        )
        rows = [
            _submission(rng, problem_id, 1 + n % teams, now - timedelta(minutes=n))
            for n in range(submissions)
        ]
        connection.execute(insert(Submission), rows)
    with Session(engine) as session, session.begin():
        standings.refresh(session, session.scalars(select(Problem)).one())


def _problem(now: Any) -> dict[str, Any]:
    return {
        "slug": "bench-leaderboard",
        "title": "Benchmark leaderboard",
        "task": "binary",
        "metric": "roc_auc",
        "id_column": "id",
        "target_column": "label",
        "classes": ["no", "yes"],
        "input_columns": [],
        "evaluation_blob": "0" * 64,
        "evaluation_rows": 10_000,
        "split_seed": 1,
        "state": ProblemState.OPEN,
        "owner_member_id": 1,
        "opens_at": now - timedelta(days=30),
        "closes_at": now + timedelta(days=30),
        "published_at": now,
        "created_at": now,
    }


def _submission(rng: random.Random, problem_id: int, team_id: int, at: Any) -> dict[str, Any]:
    score = rng.uniform(0.5, 0.95)
    return {
        "problem_id": problem_id,
        "team_id": team_id,
        "member_id": team_id,
        "blob_sha256": "0" * 64,
        "state": SubmissionState.SCORED,
        "public_score": score,
        "public_low": score - 0.02,
        "public_high": score + 0.02,
        "private_score": score + rng.gauss(0, 0.02),
        "selected": rng.random() < 0.1,
        "datasets": [],
        "note": "",
        "size_bytes": 1000,
        "created_at": at,
        "scored_at": at,
    }
