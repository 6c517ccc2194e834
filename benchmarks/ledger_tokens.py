"""Token transfers between a few hot accounts by concurrent writers, and the ledger's invariants after.

`hot_accounts` community accounts are minted a generous balance; then `transfer_writers` threads each
make `tokens.transfer` calls between two random hot accounts (a random amount, a unique idempotency
key), one per durable transaction, while the app's job worker sequences the log. The figure is
successful transfers per second. Once every record is integrated, the invariants are checked: the
balances sum to zero (the issuance account's negative balance included); no account but issuance is
negative; the transfer table holds exactly the mints and the successful calls; and a replay of the
log's entries (`tokens.replay`) gives exactly the stored balances.
"""

import random
from collections.abc import Sequence
from dataclasses import dataclass

from rich.console import Console
from rich.table import Table
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError

from aicommons.core.db import unit_of_work
from aicommons.core.errors import CommonsError
from aicommons.ledger import service as ledger
from aicommons.ledger import tokens
from aicommons.ledger.entries import parse
from aicommons.ledger.models import Account, AccountKind, Transfer
from benchmarks.config import TRANSFERS_TARGET_PER_S, LedgerConfig
from benchmarks.ledger_setup import LedgerDb, integrate_all, ledger_database, run_threads, sequencer, shares
from benchmarks.report import verdict

MINTED = 10**12
MAX_AMOUNT = 100
SEED = 11


@dataclass(frozen=True)
class TransferRun:
    """One run of concurrent transfers and what the check afterwards found."""

    database: str
    writers: int
    accounts: int
    transfers: int  # successful calls
    failures: int
    first_failure: str
    seconds: float
    cpu_share: float  # this process's CPU time over the wall time (1.0 = one core)
    broken: Sequence[str]  # the invariants that did not hold
    target: float | None  # transfers/s; None where there is none (SQLite)

    @property
    def rate(self) -> float:
        return self.transfers / self.seconds

    @property
    def passed(self) -> bool:
        return not self.broken and (self.target is None or self.rate >= self.target)


@dataclass
class _Tally:
    done: int = 0
    failed: int = 0
    first_failure: str = ""


def bench_transfers(kind: str, postgres_url: str, config: LedgerConfig, console: Console) -> TransferRun:
    writers, count = config.transfer_writers, config.transfers
    with ledger_database(kind, postgres_url, "tokens") as db:
        console.print(
            f"Transfers on {kind}: {count:,} by {writers} writers "
            f"between {config.hot_accounts} hot accounts …"
        )
        accounts = _mint(db, config.hot_accounts)
        tallies = [_Tally() for _ in range(writers)]
        counts = shares(count, writers)

        def work(writer: int) -> None:
            _transfer(db, writer, counts[writer], accounts, tallies[writer])

        with sequencer(db):
            timed = run_threads(writers, work)
        done = sum(t.done for t in tallies)
        broken = check_invariants(db, expected_transfers=len(accounts) + done)
    return TransferRun(
        database=kind,
        writers=writers,
        accounts=len(accounts),
        transfers=done,
        failures=sum(t.failed for t in tallies),
        first_failure=next((t.first_failure for t in tallies if t.first_failure), ""),
        seconds=timed.seconds,
        cpu_share=timed.cpu_share,
        broken=broken,
        target=TRANSFERS_TARGET_PER_S.get(kind),
    )


def _mint(db: LedgerDb, count: int) -> list[str]:
    """Open `count` community accounts, each with a balance no run of transfers can exhaust."""
    owners = [tokens.community_account(number + 1) for number in range(count)]
    for owner in owners:
        with unit_of_work(db.factory) as session:
            tokens.mint(session, key=f"bench/{owner}", target=owner, amount=MINTED, reason="benchmark")
    return owners


def _transfer(db: LedgerDb, writer: int, count: int, accounts: Sequence[str], tally: _Tally) -> None:
    rng = random.Random(SEED * 1000 + writer)
    initiator = tokens.member_account(writer + 1)
    for number in range(count):
        source, target = rng.sample(accounts, 2)
        try:
            with unit_of_work(db.factory) as session:
                tokens.transfer(
                    session,
                    initiator=initiator,
                    key=f"bench-{writer}-{number}",
                    source=source,
                    target=target,
                    amount=rng.randint(1, MAX_AMOUNT),
                    reason="benchmark",
                    actor_id=writer + 1,
                )
        except (CommonsError, DBAPIError) as error:  # counted and shown: the run goes on
            tally.failed += 1
            tally.first_failure = tally.first_failure or f"{type(error).__name__}: {error}"[:300]
        else:
            tally.done += 1


def check_invariants(db: LedgerDb, *, expected_transfers: int) -> list[str]:
    """Integrate everything waiting, then name every invariant of the ledger that does not hold."""
    size = integrate_all(db)
    with unit_of_work(db.factory) as session:
        rows = session.execute(select(Account.owner, Account.kind, Account.balance)).all()
        transfers = session.scalar(select(func.count()).select_from(Transfer)) or 0
        bodies = ledger.entry_bodies(session, 0, size)
    balances = {owner: balance for owner, _, balance in rows if balance}
    broken = []
    if sum(balances.values()) != 0:
        broken.append(f"the balances sum to {sum(balances.values())}, not 0")
    negative = [owner for owner, kind, balance in rows if balance < 0 and kind != AccountKind.ISSUANCE]
    if negative:
        broken.append(f"negative balances: {', '.join(negative[:5])}")
    if transfers != expected_transfers:
        broken.append(f"{transfers:,} transfers stored, {expected_transfers:,} made")
    if tokens.replay(parse(body) for body in bodies) != dict(sorted(balances.items())):
        broken.append("a replay of the log differs from the balances")
    return broken


def transfers_table(rows: Sequence[TransferRun]) -> Table:
    table = Table(title="Token transfers on hot accounts: one durable transfer per transaction")
    columns = (
        "database",
        "writers",
        "accounts",
        "transfers",
        "failed",
        "seconds",
        "transfers/s",
        "bench CPU",
    )
    for column in (*columns, "invariants", "target", "result"):
        table.add_column(
            column, justify="left" if column in {"database", "invariants", "target"} else "right"
        )
    for row in rows:
        table.add_row(
            row.database,
            str(row.writers),
            str(row.accounts),
            f"{row.transfers:,}",
            f"{row.failures:,}",
            f"{row.seconds:.1f}",
            f"{row.rate:,.0f}",
            f"{row.cpu_share:.0%}",
            "; ".join(row.broken) or "all held",
            "invariants" if row.target is None else f"≥ {row.target:,.0f}/s",
            verdict(row.passed),
        )
    return table
