"""Catalog search over HTTP: `GET /api/v1/datasets` with text, facet filters and deep pages.

The database is made by the real migrations and holds a small commons (`seed.seed`, for the owners)
and a large catalog loaded in bulk (`datasets_corpus`). The app is served and timed as the community
search is (`search.run`: one keep-alive client, one request after another, after a warm-up).
"""

import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import httpx
from rich.console import Console
from sqlalchemy import Engine, insert, text

from aicommons.core.db import Base, make_engine, make_session_factory, unit_of_work
from aicommons.core.pagination import PageRequest
from aicommons.core.vocabulary import Sector
from aicommons.datasets import service
from aicommons.datasets.models import Policy
from aicommons.datasets.schemas import DatasetFilter
from benchmarks import datasets_corpus, explain
from benchmarks.config import P99_TARGET_MS, BenchConfig
from benchmarks.corpus import RARE_WORDS
from benchmarks.report import Latencies
from benchmarks.search import COMMON_WORDS, MISSING_WORDS, PAGE_SIZE, Params, Probe, Timing
from benchmarks.seed import Database, seed

PATH = "/api/v1/datasets"
KINDS = ("browse", "search", "filter", "deep page")
OWNERS = {"members": 2_000, "communities": 500}
BATCH = 5_000
FACETS: dict[str, Callable[[random.Random], str | int]] = {
    "sdg": lambda rng: rng.randint(1, 17),
    "sector": lambda rng: str(rng.choice(list(Sector))),
    "license": lambda rng: rng.choice(datasets_corpus.POPULAR_LICENSES),
    "policy": lambda rng: str(rng.choice(list(Policy))),
    "format": lambda rng: rng.choice(("csv", "parquet", "federated")),
}
BROAD: tuple[Params, ...] = ({}, {"policy": "open"}, {"format": "csv"})  # lists long enough to page deep into


class CatalogLatencies(Latencies):
    """The catalog's target is on the p99 alone."""

    @property
    def passed(self) -> bool:
        return self.p99 < P99_TARGET_MS


@dataclass(frozen=True)
class Seeded:
    database: str
    datasets: int
    seconds: float


def load(database: Database, config: BenchConfig, console: Console) -> Seeded:
    """Migrate, seed the owners' commons, then insert the catalog table by table in batches."""
    owners = replace(config, members=OWNERS["members"], communities=OWNERS["communities"])
    seed(database, owners, console)
    started = time.perf_counter()
    catalog = datasets_corpus.build(datasets=config.datasets.count, **OWNERS)
    engine = make_engine(database.url)
    try:
        with engine.begin() as connection:
            for name, rows in catalog.tables().items():
                for start in range(0, len(rows), BATCH):
                    connection.execute(insert(Base.metadata.tables[name]), rows[start : start + BATCH])
        _analyze(engine)
    finally:
        engine.dispose()
    return Seeded(database.kind, len(catalog.datasets), time.perf_counter() - started)


def _analyze(engine: Engine) -> None:
    """On PostgreSQL, as after any bulk load: the id sequence past our ids, then the planner's statistics."""
    if engine.dialect.name != "postgresql":
        return
    with engine.begin() as connection:
        connection.execute(
            text("SELECT setval(pg_get_serial_sequence('dataset', 'id'), (SELECT max(id) FROM dataset))")
        )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE"))


def mix(client: httpx.Client, *, per_kind: int, seed: int = 11) -> list[Probe]:
    """`per_kind` requests of each kind, shuffled so every kind meets the same conditions."""
    rng = random.Random(seed)
    pages = [(params, _pages(client, params)) for params in BROAD]
    makers: dict[str, Callable[[], Params]] = {
        "browse": lambda: {"page": rng.choice((1, 1, 1, 2, 3, 5))},
        "search": lambda: _search(rng),
        "filter": lambda: _filter(rng),
        "deep page": lambda: _deep(rng, pages),
    }
    probes = [Probe(kind, makers[kind](), path=PATH) for kind in KINDS for _ in range(per_kind)]
    rng.shuffle(probes)
    return probes


def _pages(client: httpx.Client, params: Params) -> int:
    total = int(client.get(PATH, params={**params, "size": 1}).raise_for_status().json()["total"])
    return max(1, math.ceil(total / PAGE_SIZE))


def _search(rng: random.Random) -> Params:
    roll = rng.random()
    if roll < 0.5:
        return {"q": rng.choice(COMMON_WORDS), "page": rng.choice((1, 1, 1, 2, 5))}
    return {"q": rng.choice(RARE_WORDS if roll < 0.85 else MISSING_WORDS)}


def _filter(rng: random.Random) -> Params:
    names = rng.sample(sorted(FACETS), rng.randint(1, 2))
    params: Params = {name: FACETS[name](rng) for name in names}
    if rng.random() < 0.4:
        params["q"] = rng.choice(COMMON_WORDS)
    return params


def _deep(rng: random.Random, pages: list[tuple[Params, int]]) -> Params:
    """A page past the fifth of a long list, down to its last."""
    params, last = rng.choice(pages)
    return {**params, "page": rng.randint(min(6, last), last)}


def summarise(database: str, timings: list[Timing]) -> list[CatalogLatencies]:
    rows = [
        CatalogLatencies(kind, database, [t.ms for t in timings if t.probe.kind == kind]) for kind in KINDS
    ]
    return [*rows, CatalogLatencies("all requests", database, [t.ms for t in timings])]


def profile(database: Database, probe: Probe, console: Console) -> None:
    """Replay `probe` through `service.search` as the route calls it; print its statements and a plan."""
    engine = make_engine(database.url)
    try:
        log = explain.StatementLog(engine)
        filters = DatasetFilter.model_validate({k: v for k, v in probe.params.items() if k != "page"})
        page = PageRequest(page=int(probe.params.get("page", 1)))
        for _ in range(explain.REPLAYS):
            log.statements.clear()
            with unit_of_work(make_session_factory(engine)) as session:
                service.search(session=session, filters=filters, page=page)
        console.print(f"[bold]{database.kind}[/bold]: statements of GET {probe.url}", highlight=False)
        explain.print_statements(engine, log.statements, console)
    finally:
        engine.dispose()
