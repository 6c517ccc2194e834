"""Tallying 100,000 votes, for each voting method: counted in memory, from the database, and from the log.

For each method (one member one vote, token-weighted, quadratic, approval over 5 options, ranked choice
over 5 options) a seeded generator draws `votes` ballots (default 100,000; AICOMMONS_BENCH_GOVERNANCE_VOTES)
with realistic choices: for/against/abstain with powers from a long-tailed token distribution, approval
sets of one to three options, rankings of one to five options led by a few popular ones.

- **memory**: `tally.count` on the ballots, as handed to it.
- **sqlite / postgresql**: the votes stored for a proposal (the real migrations make the schema; a tenth
  of the voters changed their vote once, so a superseded row sits beside each of theirs), then
  `service.count`: the query of the counted votes, their JSON choices decoded, and the count.
- **log**: the log entries of the vote (the voters' signups and mints, its `open` entry and one
  `governance:vote:cast` entry per vote, canonical JSON bytes as served in entry bundles) parsed and
  recounted by `governance.audit.recount`, electorate included, as `aicommons governance tally
  --from-log` does once it has fetched and verified them.

Target: each tally **under 2 s**. Building the data is not timed. Run alone with
`.venv/bin/python -m benchmarks.governance`; on PostgreSQL too when AICOMMONS_BENCH_POSTGRES_URL (or
AICOMMONS_TEST_POSTGRES_URL) is set.
"""

import os
import random
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine, insert

from aicommons.core import migrate
from aicommons.core.db import make_engine, make_session_factory, utcnow
from aicommons.governance import service, tally
from aicommons.governance.audit import recount
from aicommons.governance.models import Kind, Method, Proposal, State, Vote
from aicommons.ledger.entries import canonical, personal
from aicommons.ledger.tokens import TRANSFER_EVENT
from aicommons.members.models import Member
from benchmarks.config import BenchConfig
from benchmarks.report import verdict
from benchmarks.seed import Database, postgres_database, sqlite_database

TARGET_S = 2.0
SCHEMA = "bench_governance"
OPTIONS = ["Health", "Water", "Climate", "Education", "Energy"]
CHANGED = 10  # one voter in CHANGED changed their vote once


@dataclass(frozen=True)
class TallyRun:
    method: Method
    where: str
    votes: int
    seconds: float
    counts: list[int]

    @property
    def passed(self) -> bool:
        return self.seconds < TARGET_S


Drawn = tuple[tally.Choice, int]  # a voter's choice and the tokens they hold


def draw(method: Method, votes: int, seed: int = 2026) -> list[Drawn]:
    """`votes` voters' choices of `method` and their tokens, drawn by a seeded generator."""
    chance = random.Random(seed)
    return [(_choice(method, chance), int(chance.paretovariate(1.2) * 10)) for _ in range(votes)]


def _choice(method: Method, chance: random.Random) -> tally.Choice:
    if method in tally.MULTI_OPTION:
        popular = chance.choices(range(len(OPTIONS)), weights=[5, 4, 3, 2, 1], k=chance.randint(1, 5))
        picked = list(dict.fromkeys(popular))
        return sorted(picked) if method == Method.APPROVAL else picked
    return chance.choices(tally.YES_NO, weights=[5, 4, 1])[0]


def ballots(method: Method, drawn: list[Drawn]) -> list[tally.Ballot]:
    return [(choice, tally.power(method, tokens)) for choice, tokens in drawn]


def in_memory(method: Method, drawn: list[Drawn]) -> TallyRun:
    cast = ballots(method, drawn)
    started = time.perf_counter()
    counted = tally.count(method, len(OPTIONS), cast, quorum=1)
    return TallyRun(method, "memory", len(cast), time.perf_counter() - started, counted.counts)


# --- from the database --------------------------------------------------------------------------------


@contextmanager
def _database(kind: str, config: BenchConfig) -> Iterator[Database]:
    with tempfile.TemporaryDirectory(prefix="aicommons-bench-governance-") as directory:
        yield (
            sqlite_database(Path(directory))
            if kind == "sqlite"
            else postgres_database(config.postgres_url, SCHEMA)
        )


def from_database(database: Database, drawn: dict[Method, list[Drawn]], console: Console) -> list[TallyRun]:
    """Store each method's ballots as the votes of a proposal, then time `service.count` on each."""
    migrate.upgrade(database.url)
    engine = make_engine(database.url)
    try:
        votes = len(next(iter(drawn.values())))
        console.print(
            f"{database.kind}: storing {votes:,} voters and their votes on {len(drawn)} proposals …"
        )
        _members(engine, votes)
        proposals = {
            method: _store(engine, method, ballots(method, voters)) for method, voters in drawn.items()
        }
        return [
            _count(engine, database.kind, method, proposal_id, votes)
            for method, proposal_id in proposals.items()
        ]
    finally:
        engine.dispose()


def _members(engine: Engine, count: int) -> None:
    rows = [
        {
            "handle": f"voter{n}",
            "email": f"voter{n}@bench.example",
            "display_name": f"Voter {n}",
            "password_hash": "x",
        }
        for n in range(1, count + 1)
    ]
    with engine.begin() as connection:
        connection.execute(insert(Member), rows)


def _store(engine: Engine, method: Method, drawn: list[tally.Ballot]) -> int:
    now = utcnow()
    proposal = {
        "kind": Kind.SIGNAL,
        "method": method,
        "title": f"Benchmark: {method}",
        "body": "",
        "options": OPTIONS if method in tally.MULTI_OPTION else [],
        "action": {},
        "state": State.ACTIVE,
        "rules": {},
        "quorum": 1,
        "snapshot": 0,
        "extended": False,
        "last_error": "",
        "created_at": now,
    }
    with engine.begin() as connection:
        proposal_id = int(
            connection.execute(insert(Proposal).returning(Proposal.id), [proposal]).scalar_one()
        )
        changed = [
            _vote(proposal_id, voter, ballot, now, superseded=True)
            for voter, ballot in _voters(drawn)
            if voter % CHANGED == 0
        ]
        counted = [_vote(proposal_id, voter, ballot, now) for voter, ballot in _voters(drawn)]
        for start in range(0, len(counted) + len(changed), 20_000):
            connection.execute(insert(Vote), (changed + counted)[start : start + 20_000])
    return proposal_id


def _voters(drawn: list[tally.Ballot]) -> Iterator[tuple[int, tally.Ballot]]:
    return enumerate(drawn, 1)


def _vote(
    proposal_id: int, voter: int, ballot: tally.Ballot, now: Any, superseded: bool = False
) -> dict[str, Any]:
    choice, power = ballot
    if superseded:  # what they voted first
        choice = "abstain" if isinstance(choice, str) else list(reversed(choice))
    row = {"proposal_id": proposal_id, "voter_id": voter, "choice": choice, "power": power, "cast_at": now}
    return row | {"superseded_at": now if superseded else None}


def _count(engine: Engine, kind: str, method: Method, proposal_id: int, votes: int) -> TallyRun:
    with make_session_factory(engine)() as session:
        proposal = session.get(Proposal, proposal_id)
        assert proposal is not None
        started = time.perf_counter()
        counted = service.count(session=session, proposal=proposal)
        seconds = time.perf_counter() - started
    assert counted.voters == votes, f"{counted.voters} ballots counted, {votes} expected"
    return TallyRun(method, kind, votes, seconds, counted.counts)


# --- from the log -------------------------------------------------------------------------------------


def log_bodies(method: Method, drawn: list[Drawn], proposal_id: int = 1) -> list[bytes]:
    """The log of the vote, as canonical JSON bytes: each voter's signup and tokens minted, then the `open`
    entry (its snapshot holds those signups, the electorate, and the mints), then one
    `governance:vote:cast` entry per voter."""
    signups = [
        _entry("members:member:signup", f"member:{voter}", {}, {"role": "member"})
        for voter in range(1, len(drawn) + 1)
    ]
    mints = [
        _entry(TRANSFER_EVENT, None, {}, _mint(voter, tokens))
        for voter, (_, tokens) in enumerate(drawn, 1)
        if tokens
    ]
    subject = {"proposal": proposal_id}
    electorate = sum(tally.power(method, tokens) for _, tokens in drawn)
    opened = {"snapshot": len(signups) + len(mints), "quorum": 1, "electorate": electorate}
    votes = [
        _entry("governance:vote:cast", f"member:{voter}", subject, {"choice": choice, "power": power})
        for voter, (choice, power) in _voters(ballots(method, drawn))
    ]
    return [
        *signups,
        *mints,
        _entry(
            "governance:proposal:open",
            None,
            subject,
            opened | {"method": str(method), "options": len(OPTIONS)},
        ),
        *votes,
    ]


def _mint(voter: int, tokens: int) -> dict[str, Any]:
    """The data of a transfer entry, as `tokens.transfer` records it."""
    key = personal(f"issuance/welcome/{voter}")
    return {
        "from": "issuance",
        "to": f"member:{voter}",
        "amount": tokens,
        "reason": "welcome",
        "note": "",
        "key": key,
    }


def _entry(event: str, actor: str | None, subject: dict[str, Any], data: dict[str, Any]) -> bytes:
    return canonical(
        {
            "v": 1,
            "event": event,
            "actor": actor,
            "subject": subject,
            "at": "2027-01-01T00:00:00.000000Z",
            "data": data,
        }
    )


def from_log(method: Method, drawn: list[Drawn]) -> TallyRun:
    bodies = log_bodies(method, drawn)
    started = time.perf_counter()
    found = recount(bodies, 1)
    seconds = time.perf_counter() - started
    assert found.tally is not None and not found.differences(), found.differences()[:3]
    return TallyRun(method, "log", len(drawn), seconds, found.tally["counts"])


# --- the run ------------------------------------------------------------------------------------------


def run(config: BenchConfig, console: Console) -> list[TallyRun]:
    votes = int(os.environ.get("AICOMMONS_BENCH_GOVERNANCE_VOTES", "100000"))
    console.rule(f"governance: tallying {votes:,} votes of each voting method")
    drawn = {method: draw(method, votes) for method in Method}
    runs = [in_memory(method, drawn[method]) for method in Method]
    runs += [from_log(method, drawn[method]) for method in Method]
    for kind in ("sqlite", "postgresql") if config.postgres_url else ("sqlite",):
        with _database(kind, config) as database:
            runs += from_database(database, drawn, console)
    return runs


def tally_table(runs: list[TallyRun]) -> Table:
    table = Table(title=f"Tallying votes (target: under {TARGET_S:g} s)")
    for column in ("method", "from", "votes", "seconds", "counts", "target", "result"):
        table.add_column(column, justify="right" if column in {"votes", "seconds"} else "left")
    for row in runs:
        shown = ", ".join(f"{figure:,}" for figure in row.counts)
        table.add_row(
            str(row.method),
            row.where,
            f"{row.votes:,}",
            f"{row.seconds:.3f}",
            shown,
            f"< {TARGET_S:g} s",
            verdict(row.passed),
        )
    return table


def main() -> int:
    console = Console()
    runs = run(BenchConfig.from_env(), console)
    console.print(tally_table(runs))
    return 0 if all(row.passed for row in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
