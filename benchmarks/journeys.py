"""Journeys: a community's dashboard over a log of 100,000 entries, in under a second.

A fresh database made by the real migrations gets `members` members in `communities` communities
(memberships with a steward and organizers each, private page visits) and a log of `entries` entries
over the last year: a join for each membership, then contributions of every kind, endorsements, role
changes and reuses of insights, about a third of them in the busiest community. The entries go straight
into `log_entry` in bulk (the dashboard reads `log_entry` and `log_record`, never the Merkle tree, so the
tree is not built). Then the real app, served by uvicorn in its own process, is asked `repeats` times
(after one warm-up) for the busiest community's dashboard page (queries, charts and template), its JSON
dashboard; the figure is the median wall time of each.

`python -m benchmarks.journeys` runs it alone, on SQLite and (with AICOMMONS_BENCH_POSTGRES_URL or
AICOMMONS_TEST_POSTGRES_URL) PostgreSQL. Sizes: AICOMMONS_BENCH_JOURNEY_ENTRIES (100,000),
AICOMMONS_BENCH_JOURNEY_MEMBERS (5,000), AICOMMONS_BENCH_JOURNEY_COMMUNITIES (40),
AICOMMONS_BENCH_JOURNEY_REPEATS (7); AICOMMONS_BENCH_JOURNEYS=0 skips it.
"""

import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine, insert, text

from aicommons.communities.models import Community, CommunitySector, Membership
from aicommons.core import migrate
from aicommons.core.db import make_engine, utcnow
from aicommons.core.vocabulary import Sector
from aicommons.journeys.activity import CONTRIBUTIONS, REUSE, ROLE_CHANGE
from aicommons.journeys.models import CommunityVisit
from aicommons.ledger.entries import entry_body
from aicommons.ledger.models import LogEntry
from aicommons.members.models import Member
from benchmarks.report import verdict
from benchmarks.seed import Database, postgres_database, sqlite_database
from benchmarks.server import serve_app

TARGET_S = 1.0
SCHEMA = "bench_journeys"
BATCH = 5_000
YEAR = timedelta(days=365)
# A community records reusing an insight once at most (already_reused), so reuses stay rare.
SHARES = {"contribution": 0.82, "endorsement": 0.16, "reuse": 0.01, "role": 0.01}


@dataclass(frozen=True)
class JourneysConfig:
    enabled: bool = True
    entries: int = 100_000
    members: int = 5_000
    communities: int = 40
    repeats: int = 7
    postgres_url: str = ""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> "JourneysConfig":
        def number(name: str, default: int) -> int:
            return int(environ.get(f"AICOMMONS_BENCH_JOURNEY_{name}", default))

        postgres = environ.get("AICOMMONS_BENCH_POSTGRES_URL") or environ.get("AICOMMONS_TEST_POSTGRES_URL")
        return cls(
            enabled=environ.get("AICOMMONS_BENCH_JOURNEYS", "1") != "0",
            entries=number("ENTRIES", cls.entries),
            members=number("MEMBERS", cls.members),
            communities=number("COMMUNITIES", cls.communities),
            repeats=number("REPEATS", cls.repeats),
            postgres_url=postgres or "",
        )


@dataclass(frozen=True)
class Timing:
    """One request, asked `repeats` times on one database: its wall times in seconds."""

    database: str
    request: str
    entries: int
    in_community: int
    seconds: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def passed(self) -> bool:
        return self.median < TARGET_S


@dataclass
class Results:
    timings: list[Timing] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(timing.passed for timing in self.timings)

    def print(self, console: Console) -> None:
        if self.timings:
            console.print(journeys_table(self.timings))


# --- the commons: members, communities, memberships, visits and the log ------------------------------


@dataclass
class Commons:
    """The rows to load, table by table, and what the timed requests ask for."""

    rows: dict[Any, list[dict[str, Any]]]
    busiest_slug: str
    in_busiest: int


def build(config: JourneysConfig, now: datetime) -> Commons:
    """The generated commons; the same for the same sizes (a seeded generator)."""
    chance = random.Random(7)
    weights = [1 / (rank + 1) ** 1.1 for rank in range(config.communities)]
    rows: dict[Any, list[dict[str, Any]]] = {
        Member: [_member(number, now) for number in range(1, config.members + 1)],
        Community: [_community(number, now) for number in range(1, config.communities + 1)],
    }
    rows[CommunitySector] = [
        {"community_id": number, "sector": sector}
        for number in range(1, config.communities + 1)
        for sector in chance.sample(list(Sector), 2)
    ]
    rows[Membership] = _memberships(config, weights, chance, now)
    rows[CommunityVisit] = _visits(config, weights, chance, now)
    entries = _entries(config, rows[Membership], weights, chance, now)
    rows[LogEntry] = entries
    return Commons(rows, "c-1", sum(1 for entry in entries if entry["community_id"] == 1))


def _member(number: int, now: datetime) -> dict[str, Any]:
    return {
        "id": number,
        "handle": f"m-{number}",
        "email": f"m-{number}@example.org",
        "display_name": f"Member {number}",
        "password_hash": "not-a-login",
        "created_at": now - YEAR,
    }


def _community(number: int, now: datetime) -> dict[str, Any]:
    return {
        "id": number,
        "slug": f"c-{number}",
        "name": f"Community {number}",
        "format": "discussion",
        "region": "global",
        "created_at": now - YEAR,
    }


def _memberships(
    config: JourneysConfig, weights: list[float], chance: random.Random, now: datetime
) -> list[dict[str, Any]]:
    """Each member in one to four communities (popular ones more often); each community's first members
    are its steward and organizers."""
    found: dict[tuple[int, int], dict[str, Any]] = {}
    communities = range(1, config.communities + 1)
    for member in range(1, config.members + 1):
        for community in set(chance.choices(communities, weights, k=chance.randint(1, 4))):
            joined = now - YEAR * chance.random()
            found[community, member] = {"community_id": community, "member_id": member, "created_at": joined}
    by_community: dict[int, list[dict[str, Any]]] = {}
    for row in found.values():
        by_community.setdefault(row["community_id"], []).append(row)
    for members in by_community.values():
        for place, row in enumerate(sorted(members, key=lambda row: row["created_at"])):
            row["role"] = "steward" if place == 0 else "organizer" if place < 3 else "member"
    return list(found.values())


def _visits(
    config: JourneysConfig, weights: list[float], chance: random.Random, now: datetime
) -> list[dict[str, Any]]:
    found = {}
    communities = range(1, config.communities + 1)
    for member in range(1, config.members + 1):
        for community in set(chance.choices(communities, weights, k=chance.randint(1, 6))):
            first = now - YEAR * chance.random()
            found[community, member] = {
                "community_id": community,
                "member_id": member,
                "first_at": first,
                "last_at": first + (now - first) * chance.random(),
            }
    return list(found.values())


def _entries(
    config: JourneysConfig,
    memberships: list[dict[str, Any]],
    weights: list[float],
    chance: random.Random,
    now: datetime,
) -> list[dict[str, Any]]:
    """A join for each membership, then activity by members of each community after they joined."""
    drafts = [("communities:member:join", row, {}) for row in memberships[: config.entries]]
    by_community: dict[int, list[dict[str, Any]]] = {}
    for row in memberships:
        by_community.setdefault(row["community_id"], []).append(row)
    communities = sorted(by_community)
    kinds, shares = list(SHARES), list(SHARES.values())
    for _ in range(config.entries - len(drafts)):
        community = chance.choices(communities, weights[: len(communities)])[0]
        row = chance.choice(by_community[community])
        drafts.append(_activity(chance.choices(kinds, shares)[0], row, communities, chance))
    timed = [(_when(event, row, now, chance), event, row, facts) for event, row, facts in drafts]
    timed.sort(key=lambda draft: draft[0])  # the log's order is the order things happened in
    return [_entry(index, *draft) for index, draft in enumerate(timed)]


def _when(event: str, row: dict[str, Any], now: datetime, chance: random.Random) -> datetime:
    """A join when the membership began; anything else some time between then and now."""
    joined: datetime = row["created_at"]
    return joined if event == "communities:member:join" else joined + (now - joined) * chance.random()


def _activity(
    kind: str, row: dict[str, Any], communities: list[int], chance: random.Random
) -> tuple[str, dict[str, Any], dict[str, Any]]:
    if kind == "contribution":
        return chance.choice(CONTRIBUTIONS), row, {}
    if kind == "endorsement":
        return "insights:insight:endorse", row, {}
    if kind == "reuse":
        return (
            REUSE,
            row,
            {"subject": {"insight": chance.randint(1, 5_000), "origin": chance.choice(communities)}},
        )
    return ROLE_CHANGE, row, {"data": {"member": row["member_id"], "role": "organizer"}}


def _entry(
    index: int, when: datetime, event: str, row: dict[str, Any], facts: dict[str, Any]
) -> dict[str, Any]:
    subject = facts.get("subject", {}) | {"community": row["community_id"]}
    body = entry_body(event, actor_id=row["member_id"], subject=subject, data=facts.get("data", {}), at=when)
    return {
        "index": index,
        "record_id": index + 1,
        "body": body,
        "event": event,
        "actor_id": row["member_id"],
        "community_id": row["community_id"],
        "created_at": when,
    }


def load(engine: Engine, commons: Commons) -> None:
    with engine.begin() as connection:
        for model, rows in commons.rows.items():
            for start in range(0, len(rows), BATCH):
                connection.execute(insert(model), rows[start : start + BATCH])
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))


# --- the timed requests ---------------------------------------------------------------------------------


def bench(database: Database, data_dir: Path, config: JourneysConfig, console: Console) -> list[Timing]:
    migrate.upgrade(database.url)
    started = time.perf_counter()
    commons = build(config, utcnow())
    engine = make_engine(database.url)
    try:
        load(engine, commons)
    finally:
        engine.dispose()
    console.print(
        f"{database.kind}: loaded {config.entries:,} log entries ({commons.in_busiest:,} in the busiest "
        f"community) in {time.perf_counter() - started:.1f} s"
    )
    requests = {
        "dashboard page": (f"/communities/{commons.busiest_slug}/journeys", {"accept": "text/html"}),
        "dashboard JSON": (f"/api/v1/communities/{commons.busiest_slug}/journeys", {}),
    }
    with (
        serve_app(data_dir=data_dir, database_url=database.url) as base_url,
        httpx.Client(base_url=base_url, timeout=60) as client,
    ):
        return [
            Timing(
                database.kind, name, config.entries, commons.in_busiest, _times(client, path, headers, config)
            )
            for name, (path, headers) in requests.items()
        ]


def _times(client: httpx.Client, path: str, headers: dict[str, str], config: JourneysConfig) -> list[float]:
    seconds = []
    for attempt in range(config.repeats + 1):
        started = time.perf_counter()
        answer = client.get(path, headers=headers)
        elapsed = time.perf_counter() - started
        answer.raise_for_status()
        if attempt:  # the first request warms the server's caches and is not counted
            seconds.append(elapsed)
    return seconds


@contextmanager
def _database(kind: str, postgres_url: str) -> Iterator[tuple[Database, Path]]:
    with tempfile.TemporaryDirectory(prefix=f"aicommons-bench-journeys-{kind}-") as directory:
        data_dir = Path(directory)
        database = sqlite_database(data_dir) if kind == "sqlite" else postgres_database(postgres_url, SCHEMA)
        yield database, data_dir


def run(config: JourneysConfig, console: Console) -> Results:
    console.rule(f"journeys: a community's dashboard over a log of {config.entries:,} entries")
    results = Results()
    for kind in ("sqlite", "postgresql") if config.postgres_url else ("sqlite",):
        with _database(kind, config.postgres_url) as (database, data_dir):
            results.timings.extend(bench(database, data_dir, config, console))
    return results


def journeys_table(timings: list[Timing]) -> Table:
    table = Table(title="Journeys: the busiest community's dashboard (median of the timed requests)")
    columns = ("database", "request", "log entries", "in the community", "median ms", "max ms")
    for column in (*columns, "target", "result"):
        table.add_column(column, justify="left" if column in {"database", "request", "target"} else "right")
    for timing in timings:
        table.add_row(
            timing.database,
            timing.request,
            f"{timing.entries:,}",
            f"{timing.in_community:,}",
            f"{1000 * timing.median:.0f}",
            f"{1000 * max(timing.seconds):.0f}",
            f"< {TARGET_S:g} s",
            verdict(timing.passed),
        )
    return table


def main() -> int:
    config = JourneysConfig.from_env()
    console = Console()
    results = run(config, console)
    results.print(console)
    return 0 if results.passed else 1


if __name__ == "__main__":
    sys.exit(main())
