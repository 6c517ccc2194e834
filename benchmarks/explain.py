"""Finding the slow SQL behind a slow request: time each statement `service.search` runs, then EXPLAIN it.

The request is replayed in this process through the same service call the API route makes, on an engine
that times every cursor execution; the slowest statement is then explained with its real parameters
(`EXPLAIN QUERY PLAN` on SQLite, `EXPLAIN (ANALYZE, BUFFERS)` on PostgreSQL).
"""

import re
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine, event
from sqlalchemy.engine import Connection

from aicommons.communities import service
from aicommons.communities.schemas import CommunityFilter
from aicommons.core.db import make_engine, make_session_factory, unit_of_work
from aicommons.core.pagination import PageRequest
from aicommons.members import service as members
from benchmarks.corpus import RARE_WORDS
from benchmarks.report import percentile
from benchmarks.search import COMMON_WORDS, Probe, Timing
from benchmarks.seed import Database

REPLAYS = 3
COLUMN_LIST = re.compile(r"SELECT (\w+)\.\w+(?: AS \w+)?(?:, \1\.\w+(?: AS \w+)?){3,} FROM")
PARAMETER_LIST = re.compile(r"\((?:(?:\?|%\(\w+\)s(?:::\w+)?), ){3,}(?:\?|%\(\w+\)s(?:::\w+)?)\)")
SHOWN_SHAPES = 8
MIN_SHAPE_SAMPLES = 5


@dataclass(frozen=True)
class Statement:
    sql: str
    parameters: Any
    ms: float


class StatementLog:
    """Every statement an engine runs, with its parameters and milliseconds."""

    def __init__(self, engine: Engine) -> None:
        self.statements: list[Statement] = []
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(
        self, conn: Connection, _cursor: Any, _sql: str, _params: Any, _ctx: Any, _many: bool
    ) -> None:
        conn.info["bench_started"] = time.perf_counter()

    def _after(self, conn: Connection, _cursor: Any, sql: str, params: Any, _ctx: Any, _many: bool) -> None:
        elapsed = (time.perf_counter() - conn.info.pop("bench_started")) * 1000
        self.statements.append(Statement(sql, params, elapsed))


def shapes_table(database: str, timings: Sequence[Timing]) -> Table:
    """The request shapes with the highest median, to see what is slow."""
    table = Table(title=f"Slowest request shapes on {database}")
    for column in ("shape", "requests", "p50 ms", "max ms"):
        table.add_column(column, justify="left" if column == "shape" else "right")
    for shape, samples in _by_median(timings)[:SHOWN_SHAPES]:
        ms = [timing.ms for timing in samples]
        table.add_row(shape, str(len(ms)), f"{percentile(ms, 50):.1f}", f"{max(ms):.1f}")
    return table


def suspects(timings: Sequence[Timing], kinds: set[str]) -> list[Probe]:
    """Requests worth profiling: for each of `kinds`, a typical request of its slowest shape (what
    drives its median), and the slowest request of all (what drives the p99)."""
    chosen: list[Probe] = []
    for kind in sorted(kinds):
        shapes = _by_median([timing for timing in timings if timing.probe.kind == kind])
        frequent = [samples for _, samples in shapes if len(samples) >= MIN_SHAPE_SAMPLES]
        if shapes:
            chosen.append(_typical(frequent[0] if frequent else shapes[0][1]))
    chosen.append(max(timings, key=lambda timing: timing.ms).probe)
    return list({probe.url + str(probe.as_member): probe for probe in chosen}.values())


def _by_median(timings: Sequence[Timing]) -> list[tuple[str, list[Timing]]]:
    groups: dict[str, list[Timing]] = defaultdict(list)
    for timing in timings:
        groups[_shape(timing.probe)].append(timing)
    return sorted(groups.items(), key=lambda item: -percentile([t.ms for t in item[1]], 50))


def _typical(samples: list[Timing]) -> Probe:
    median = percentile([timing.ms for timing in samples], 50)
    return min(samples, key=lambda timing: abs(timing.ms - median)).probe


def _shape(probe: Probe) -> str:
    """Who asks, which parameters (and what kind of word for `q`), and how deep the page is."""
    keys = sorted(key for key in probe.params if key != "page")
    names = [_word_class(str(probe.params[key])) if key == "q" else key for key in keys]
    page = int(probe.params.get("page", 1))
    depth = "page 1" if page == 1 else "deep page" if page > 5 else "page 2-5"
    viewer = "member" if probe.as_member else "anonymous"
    return f"{viewer} {'+'.join(names) or 'browse'} ({depth})"


def _word_class(word: str) -> str:
    if word in COMMON_WORDS:
        return "q=common word"
    return "q=rare word" if word in RARE_WORDS else "q=word never found"


def profile(database: Database, probe: Probe, token: str, console: Console) -> None:
    """Replay `probe` as the API would, print each statement's time, and explain the slowest SELECT."""
    engine = make_engine(database.url)
    try:
        statements = _replay(engine, probe, token)
        console.print(f"[bold]{database.kind}[/bold]: statements of GET {probe.url}", highlight=False)
        print_statements(engine, statements, console)
    finally:
        engine.dispose()


def print_statements(engine: Engine, statements: Sequence[Statement], console: Console) -> None:
    """Each statement's time, then the plan of the slowest SELECT, run again on `engine`."""
    for statement in statements:
        console.print(f"  {statement.ms:7.2f} ms  {_brief(statement.sql)}", highlight=False)
    selects = [statement for statement in statements if statement.sql.lstrip().startswith("SELECT")]
    slowest = max(selects, key=lambda statement: statement.ms)
    console.print(f"Plan of the slowest SELECT ({slowest.ms:.2f} ms), parameters {slowest.parameters}:"[:400])
    for line in _plan(engine, slowest):
        console.print(f"  {line}", highlight=False)


def _replay(engine: Engine, probe: Probe, token: str) -> list[Statement]:
    """The statements of the last of REPLAYS runs (so caches are warm), and the time of its commit.

    Each run is one unit of work, like the request: the token lookup (which records the token's
    last use) for a member's request, then `service.search`, then the commit.
    """
    log = StatementLog(engine)
    filters = CommunityFilter.model_validate(
        {k: v for k, v in probe.params.items() if k not in {"page", "size"}}
    )
    page = PageRequest(page=int(probe.params.get("page", 1)))
    factory = make_session_factory(engine)
    for _ in range(REPLAYS):
        log.statements.clear()
        with unit_of_work(factory) as session:
            viewer = members.member_for_token(session=session, secret=token) if probe.as_member else None
            service.search(session=session, viewer=viewer, filters=filters, page=page)
            searched = time.perf_counter()
        log.statements.append(Statement("COMMIT", None, (time.perf_counter() - searched) * 1000))
    return list(log.statements)


def _plan(engine: Engine, statement: Statement) -> list[str]:
    postgres = engine.dialect.name == "postgresql"
    prefix = "EXPLAIN (ANALYZE, BUFFERS) " if postgres else "EXPLAIN QUERY PLAN "
    with engine.connect() as connection:
        rows = connection.exec_driver_sql(prefix + statement.sql, statement.parameters).all()
    return [str(row[0]) if postgres else f"{'  ' * int(row[1] > 0)}{row[3]}" for row in rows]


def _brief(sql: str) -> str:
    """The statement on one line, its column list and long IN lists shortened to an ellipsis."""
    sql = " ".join(sql.split())
    sql = COLUMN_LIST.sub(r"SELECT \1.… FROM", sql)
    return PARAMETER_LIST.sub("(…)", sql)
