"""The insights network feed and its full-text search with 100,000 insights, timed through the service.

A small commons (`seed.seed`: 2,000 members, 500 communities, ~10% private) is made by the real migrations,
so the search index is the migration's (FTS5 on SQLite, a GIN-indexed tsvector on PostgreSQL). Then
100,000 insights, their topics (sectors, goals, tags, risk domains) and bodies of ~60 words drawn from a
Zipf-weighted vocabulary go in with bulk Core inserts. Each timed request is one
`insights.service.feed(...)` call in a unit of work of its own, its page loaded as the API would
serialise it; kinds are shuffled together after a warm-up, with the objects of start-up frozen out of
the garbage collector's reach (`gc.freeze()`, without which a full collection pauses a request for
~200 ms every few seconds). Target, per kind: **p99 under 100 ms**.

Run alone with `.venv/bin/python -m benchmarks.insights`; AICOMMONS_BENCH_INSIGHTS_COUNT (100000) and
AICOMMONS_BENCH_INSIGHTS_REQUESTS (300 per kind) size it, AICOMMONS_BENCH_INSIGHTS=0 skips it.
"""

import gc
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine, insert, select, text
from sqlalchemy.orm import Session

from aicommons.communities.models import Community
from aicommons.core.db import Base, make_engine, make_session_factory, unit_of_work
from aicommons.core.pagination import PageRequest
from aicommons.core.vocabulary import RiskDomain, Sector
from aicommons.insights import service
from aicommons.insights.models import Audience, Facet, Insight, Kind
from aicommons.insights.schemas import InsightFilter, InsightRead
from aicommons.members.models import Member
from benchmarks import corpus
from benchmarks.config import P99_TARGET_MS, BenchConfig
from benchmarks.report import Latencies, verdict
from benchmarks.seed import BENCH_HANDLE, postgres_database, seed, sqlite_database, viewer

SCHEMA = "bench_insights"
BATCH = 5_000
WARM_UP = 30
KINDS = ("feed", "feed + filter", "member feed", "search", "search + filter", "member search")
WORDS = tuple(
    """water health climate data model farmers nurses clinic sensor flood forecast crop school teachers
    students rain drought soil energy solar grid village city transport drivers route safety privacy
    audit bias fairness consent translation language chatbot triage sepsis alert vaccine cold chain
    fridge mobile offline photo leaf disease market price loan insurance policy procurement register
    transparency council union workers shift schedule monitoring camera satellite drone plastic ocean
    fish mangrove coral coast river basin gauge label dataset survey interview field guide training
    workshop meetup lesson question idea resource evidence study report trial pilot deployment vendor
    contract license open hardware software calibration drift accuracy recall precision threshold""".split()  # noqa: SIM905
)
RARE_WORDS = ("braille", "geothermal", "tsunami", "quinoa", "lithium", "permaculture")  # ~50 insights each
TAGS = tuple(f"{word}-{suffix}" for word in WORDS[:60] for suffix in ("notes", "tools", "risks"))


@dataclass(frozen=True)
class InsightsConfig:
    enabled: bool = True
    count: int = 100_000
    requests_per_kind: int = 300

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> "InsightsConfig":
        return cls(
            enabled=environ.get("AICOMMONS_BENCH_INSIGHTS", "1") != "0",
            count=int(environ.get("AICOMMONS_BENCH_INSIGHTS_COUNT", cls.count)),
            requests_per_kind=int(environ.get("AICOMMONS_BENCH_INSIGHTS_REQUESTS", cls.requests_per_kind)),
        )


class FeedLatencies(Latencies):
    """The feed's target is on the p99 alone."""

    @property
    def passed(self) -> bool:
        return self.p99 < P99_TARGET_MS


@dataclass
class Results:
    rows: list[FeedLatencies]
    load_s: dict[str, float]
    count: int

    @property
    def passed(self) -> bool:
        return all(row.passed for row in self.rows)

    def print(self, console: Console) -> None:
        if self.rows:
            console.print(feed_table(self))


def run(config: BenchConfig, console: Console, insights: InsightsConfig | None = None) -> Results:
    """Every kind on SQLite, and on PostgreSQL when the run has one."""
    sizes = insights or InsightsConfig.from_env()
    results = Results(rows=[], load_s={}, count=sizes.count)
    if not sizes.enabled:
        return results
    for kind in ("sqlite", "postgresql") if config.postgres_url else ("sqlite",):
        rows, seconds = _bench(kind, config, sizes, console)
        results.rows.extend(rows)
        results.load_s[kind] = seconds
    return results


def _bench(
    kind: str, config: BenchConfig, sizes: InsightsConfig, console: Console
) -> tuple[list[FeedLatencies], float]:
    console.rule(f"insights: {kind}, a feed of {sizes.count:,} insights")
    with tempfile.TemporaryDirectory(prefix=f"aicommons-bench-insights-{kind}-") as directory:
        database = (
            sqlite_database(Path(directory))
            if kind == "sqlite"
            else postgres_database(config.postgres_url, SCHEMA)
        )
        seed(database, replace(config, members=2_000, communities=500), console)
        viewer(database)  # a member of some private and public communities: the member kinds read as them
        engine = make_engine(database.url)
        try:
            started = time.perf_counter()
            _load(engine, sizes.count)
            loaded = time.perf_counter() - started
            console.print(f"Loaded {sizes.count:,} insights in {loaded:.1f} s; timing {len(KINDS)} kinds …")
            return _time(engine, database.kind, sizes.requests_per_kind), loaded
        finally:
            engine.dispose()


# --- the insights -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pools:
    """What the generated insights draw from."""

    count: int
    communities: list[tuple[int, str]]  # id and slug
    authors: list[int]
    weights: list[float]


def _load(engine: Engine, count: int) -> None:
    rng = random.Random(2027)
    with Session(engine) as session:
        communities = [(row.id, row.slug) for row in session.execute(select(Community.id, Community.slug))]
        authors = list(session.scalars(select(Member.id)))
    weights = [1 / (rank + 1) for rank in range(len(WORDS))]  # Zipf: a few words everywhere, most rare
    pools = Pools(count, communities, authors, weights)
    rows = (_insight(rng, n + 1, pools) for n in range(count))
    topics = Base.metadata.tables["insight_topic"]
    with engine.begin() as connection:
        for batch in _batches(rows, BATCH):
            connection.execute(insert(Insight.__table__), [row for row, _ in batch])
            connection.execute(insert(topics), [topic for _, some in batch for topic in some])
    _analyze(engine)


def _insight(
    rng: random.Random, insight_id: int, pools: Pools
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    community_id, slug = rng.choice(pools.communities)
    words = rng.choices(WORDS, pools.weights, k=60)
    if rng.random() < 0.003:
        words.append(rng.choice(RARE_WORDS))
    row = {
        "id": insight_id,
        "community_id": community_id,
        "author_id": rng.choice(pools.authors),
        "kind": rng.choice(list(Kind)),
        "title": " ".join(rng.choices(WORDS, pools.weights, k=6)).capitalize(),
        "body": " ".join(words),
        "audience": Audience.NETWORK if rng.random() < 0.8 else Audience.COMMUNITY,
        "license": "CC-BY-4.0",
        "evidence": [],
        "endorsement_count": rng.randint(0, 12),
        "reply_count": rng.randint(0, 6),
        "reuse_count": rng.randint(0, 2),
        "created_at": corpus.NOW - timedelta(minutes=(pools.count - insight_id) * 7),  # ids grow with time
    }
    return row, _topics(rng, insight_id, slug)


def _topics(rng: random.Random, insight_id: int, community: str) -> list[dict[str, Any]]:
    chosen = {
        Facet.COMMUNITY: [community],
        Facet.SECTOR: rng.sample(list(Sector), rng.randint(1, 2)),
        Facet.SDG: [str(goal) for goal in rng.sample(range(1, 18), rng.randint(0, 2))],
        Facet.TAG: rng.sample(TAGS, rng.randint(0, 3)),
        Facet.RISK: rng.sample(list(RiskDomain), 1 if rng.random() < 0.3 else 0),
    }
    return [
        {"insight_id": insight_id, "facet": facet, "value": str(value)}
        for facet, values in chosen.items()
        for value in values
    ]


def _batches(rows: Iterator[Any], size: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _analyze(engine: Engine) -> None:
    """What a live database has after a bulk load: planner statistics (and on PostgreSQL, vacuumed)."""
    statement = "VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE"
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(statement))


# --- the timed requests -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Probe:
    kind: str
    filters: InsightFilter
    page: int
    as_member: bool


def probes(per_kind: int, communities: list[str], seed: int = 11) -> list[Probe]:
    """The requests of a run, shuffled; filters pick one or two of kind, sector, goal, tag, risk domain,
    community format and community."""
    rng = random.Random(seed)
    pick = partial(_filters, rng, communities)
    makers: dict[str, Callable[[], Probe]] = {
        "feed": lambda: Probe("feed", InsightFilter(), rng.choice((1, 1, 2, 3, 10)), False),
        "feed + filter": lambda: Probe("feed + filter", pick(), rng.choice((1, 1, 2)), False),
        "member feed": lambda: Probe("member feed", pick(some=0.5), 1, True),
        "search": lambda: Probe("search", InsightFilter(q=_words(rng)), rng.choice((1, 1, 2)), False),
        "search + filter": lambda: Probe("search + filter", pick(q=_words(rng)), 1, False),
        "member search": lambda: Probe("member search", InsightFilter(q=_words(rng)), 1, True),
    }
    mixed = [makers[kind]() for kind in KINDS for _ in range(per_kind)]
    rng.shuffle(mixed)
    return mixed


def _filters(rng: random.Random, communities: list[str], *, some: float = 1.0, q: str = "") -> InsightFilter:
    if rng.random() > some:
        return InsightFilter(q=q)
    choices: dict[str, Any] = {
        "sector": rng.choice(list(Sector)),
        "sdg": rng.randint(1, 17),
        "tag": rng.choice(TAGS),
        "kind": rng.choice(list(Kind)),
        "format": rng.choice(("discussion", "project", "event", "policy", "strategic")),
        "risk": rng.choice(list(RiskDomain)),
        "community": rng.choice(communities),
    }
    picked = rng.sample(sorted(choices), rng.choice((1, 1, 2)))
    return InsightFilter(q=q, **{name: choices[name] for name in picked})


def _words(rng: random.Random) -> str:
    """Common words half the time, rarer ones or a rare word otherwise; one or two words."""
    roll = rng.random()
    if roll < 0.5:
        return " ".join(rng.sample(WORDS[:15], rng.choice((1, 2))))
    if roll < 0.85:
        return " ".join(rng.sample(WORDS[40:], rng.choice((1, 2))))
    return rng.choice(RARE_WORDS)


def _time(engine: Engine, database: str, per_kind: int) -> list[FeedLatencies]:
    factory = make_session_factory(engine)
    with Session(engine) as session:
        member = session.scalars(select(Member).where(Member.handle == BENCH_HANDLE)).one()
        session.expunge(member)
        slugs = list(session.scalars(select(Community.slug).where(Community.visibility == "public")))
    sample = probes(per_kind, slugs)
    # The commons' modules hold ~260,000 objects that every full garbage collection walks (~200 ms):
    # frozen once after start-up, as a server should (gc.freeze), they stop pausing random requests.
    gc.collect()
    gc.freeze()
    for probe in sample[:WARM_UP]:
        _ask(factory, probe, member)
    timings: dict[str, list[float]] = {kind: [] for kind in KINDS}
    for probe in sample:
        started = time.perf_counter()
        _ask(factory, probe, member)
        timings[probe.kind].append((time.perf_counter() - started) * 1000)
    return [FeedLatencies(kind, database, samples) for kind, samples in timings.items()]


def _ask(factory: Any, probe: Probe, member: Member) -> None:
    with unit_of_work(factory) as session:
        reader = session.merge(member, load=False) if probe.as_member else None
        found = service.feed(
            session=session, viewer=reader, filters=probe.filters, page=PageRequest(page=probe.page)
        )
        [InsightRead.model_validate(insight) for insight in found.items]


def feed_table(results: Results) -> Table:
    table = Table(title=f"Insights feed and search through the service ({results.count:,} insights)")
    for column in ("kind", "database", "requests", "p50 ms", "p95 ms", "p99 ms", "target", "result"):
        table.add_column(column, justify="left" if column in {"kind", "database", "target"} else "right")
    for row in results.rows:
        figures = (f"{row.p50:.1f}", f"{row.p95:.1f}", f"{row.p99:.1f}")
        table.add_row(
            row.scenario,
            row.database,
            str(len(row.samples)),
            *figures,
            f"p99<{P99_TARGET_MS:g}",
            verdict(row.passed),
        )
    load = ", ".join(f"{kind} {seconds:.0f} s" for kind, seconds in results.load_s.items())
    table.caption = f"Bulk load of the insights and their topics: {load}."
    return table


def main() -> int:
    console = Console() if Console().is_terminal else Console(width=130)
    results = run(BenchConfig.from_env(), console)
    results.print(console)
    return 0 if results.passed else 1


if __name__ == "__main__":
    sys.exit(main())
