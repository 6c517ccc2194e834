"""The token ledger: accounts, double-entry transfers with idempotency keys, mints and rewards."""

import math
from collections.abc import Callable, Iterable, Mapping
from fractions import Fraction
from typing import Any, TypeVar, cast

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Integer,
    Table,
    bindparam,
    case,
    delete,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import Insert as PostgresInsert
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import Insert as SQLiteInsert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.util import identity_key
from sqlalchemy.sql.dml import ReturningInsert

from aicommons.core.db import DriverStatement, utcnow
from aicommons.core.errors import CommonsError, ErrorCode
from aicommons.core.pagination import Page, PageRequest, paginate
from aicommons.ledger import service as log
from aicommons.ledger.entries import personal
from aicommons.ledger.models import Account, AccountKind, LogEntry, LogRecord, Parameter, Transfer

ISSUANCE = "issuance"
TREASURY = "treasury"
TRANSFER_EVENT = "ledger:transfer:create"
REWARD_PREFIX = "reward:"
Share = TypeVar("Share", int, str)  # who a split pays: a node's id, an account


def member_account(member_id: int) -> str:
    return f"member:{member_id}"


def community_account(community_id: int) -> str:
    return f"community:{community_id}"


def owner_account(member_id: int | None, community_id: int | None) -> str:
    """The account of whatever a member or a community owns (a dataset, a problem)."""
    return community_account(community_id) if community_id is not None else member_account(member_id or 0)


def escrow_account(purpose: str) -> str:
    """One escrow account per bounty or purchase, e.g. escrow:bounty:12."""
    return f"escrow:{purpose}"


def kind_of(owner: str) -> AccountKind:
    return AccountKind(owner.split(":", 1)[0])


def account(session: Session, owner: str) -> Account:
    """The account of `owner`, opened with a zero balance on first use."""
    found = session.scalar(select(Account).where(Account.owner == owner))
    if found is not None:
        return found
    try:
        with session.begin_nested():
            found = Account(owner=owner, kind=kind_of(owner), balance=0)
            session.add(found)
    except IntegrityError:  # another transaction opened it at the same moment
        found = session.scalar(select(Account).where(Account.owner == owner))
    assert found is not None
    return found


def balance(session: Session, owner: str) -> int:
    return session.scalar(select(Account.balance).where(Account.owner == owner)) or 0


def transfer(
    session: Session,
    *,
    initiator: str,
    key: str,
    source: str,
    target: str,
    amount: int,
    reason: str,
    note: str = "",
    actor_id: int | None = None,
) -> Transfer:
    """Move `amount` tokens; a retry with the same (initiator, key) returns the first transfer."""
    if amount <= 0 or source == target:
        raise CommonsError(
            ErrorCode.VALIDATION_FAILED, "a transfer moves a positive amount between two accounts"
        )
    record_id = log.record(
        session,
        TRANSFER_EVENT,
        actor_id=actor_id,
        data={
            "from": source,
            "to": target,
            "amount": amount,
            "reason": reason,
            "note": personal(note) if note else "",
            "key": personal(f"{initiator}/{key}"),
        },
    )
    row = {
        "initiator": initiator,
        "idempotency_key": key,
        "amount": amount,
        "reason": reason,
        "note": note,
        "record_id": record_id,
        "created_at": utcnow(),
    }
    moved = _insert_and_move(session, row, source, target)
    if moved is None:  # a retry: the key was used before (or by a concurrent call); answer with that transfer
        session.execute(delete(LogRecord).where(LogRecord.id == record_id))
        earlier = _earlier_id(session, initiator, key)
        return _same_or_conflict(session.get(Transfer, earlier) if earlier else None, source, target, amount)
    transfer_id, debit, credit = moved
    return _loaded(session, Transfer(id=transfer_id, from_account_id=debit, to_account_id=credit, **row))


# The statements of a transfer are built once and go straight to the driver: SQLAlchemy's work per call
# cost more than their round trips to the database (docs/decisions/0013 and 0043).
_TRANSFERS = cast(Table, Transfer.__table__)
_ACCOUNTS = cast(Table, Account.__table__)
# The new transfer's values are bound as new_<column>: SQLAlchemy keeps a column's own name for VALUES.
NEW = "new_"
_PAYER, _PAYEE = _ACCOUNTS.alias("payer"), _ACCOUNTS.alias("payee")
_GIVEN = [column for column in _TRANSFERS.c if column.name not in {"id", "from_account_id", "to_account_id"}]


def _insert_unless_key_taken(
    dialect_insert: Callable[[Table], SQLiteInsert | PostgresInsert],
) -> ReturningInsert[Any]:
    """INSERT … SELECT the two accounts' ids by owner … ON CONFLICT DO NOTHING RETURNING: no row when the
    key was taken (a retry; no savepoint, no error when it races the first call) or an account is not
    open yet."""
    given = (bindparam(NEW + column.name, type_=column.type) for column in _GIVEN)
    return (
        dialect_insert(_TRANSFERS)
        .from_select(
            [*_GIVEN, _TRANSFERS.c.from_account_id, _TRANSFERS.c.to_account_id],
            select(*given, _PAYER.c.id, _PAYEE.c.id)
            .select_from(_PAYER.join(_PAYEE, _PAYEE.c.owner == bindparam("target")))
            .where(_PAYER.c.owner == bindparam("source")),
        )
        .on_conflict_do_nothing(index_elements=["initiator", "idempotency_key"])
        .returning(_TRANSFERS.c.id, _TRANSFERS.c.from_account_id, _TRANSFERS.c.to_account_id)
    )


_AMOUNT = bindparam(NEW + "amount", type_=BigInteger)


def _change(debit: ColumnElement[int]) -> ColumnElement[int]:
    """What a transfer adds to an account's balance: minus the amount for the debited one."""
    return case((_ACCOUNTS.c.id == debit, -_AMOUNT), else_=_AMOUNT)


def _affordable(change: ColumnElement[int]) -> ColumnElement[bool]:
    """The guard of every balance change: no balance goes below zero, except issuance's."""
    return or_(_ACCOUNTS.c.balance + change >= 0, _ACCOUNTS.c.kind == AccountKind.ISSUANCE)


# SQLite has one writer at a time: the transfer's row, then a guarded UPDATE of both balances.
_DEBIT = bindparam("debit", type_=Integer)
_INSERT_ON_SQLITE = DriverStatement(_insert_unless_key_taken(sqlite_insert))
_MOVE_ON_SQLITE = DriverStatement(
    update(_ACCOUNTS)
    .where(_ACCOUNTS.c.id.in_([_DEBIT, bindparam("credit", type_=Integer)]), _affordable(_change(_DEBIT)))
    .values(balance=_ACCOUNTS.c.balance + _change(_DEBIT))
)
# PostgreSQL does both in one statement. It locks the rows an UPDATE meets in the order its plan meets
# them, which on a small table is the order of the heap, not of the keys: two crossing transfers could
# each lock one row and wait for the other's. So the rows are locked first, in key order (SELECT …
# ORDER BY id FOR NO KEY UPDATE: the lock an UPDATE takes, which does not wait for the key-share locks
# of other transfers' foreign keys), and only those of a transfer that was inserted.
_MOVED = _insert_unless_key_taken(postgres_insert).cte("moved")
_LOCKED = (
    select(
        _ACCOUNTS.c.id,
        _change(_MOVED.c.from_account_id).label("change"),
    )
    .join(_MOVED, _ACCOUNTS.c.id.in_([_MOVED.c.from_account_id, _MOVED.c.to_account_id]))
    .order_by(_ACCOUNTS.c.id)
    .with_for_update(of=_ACCOUNTS, key_share=True)
    .cte("locked")
)
_CHANGED = (
    update(_ACCOUNTS)
    .where(
        _ACCOUNTS.c.id == _LOCKED.c.id,
        _affordable(_LOCKED.c.change),
    )
    .values(balance=_ACCOUNTS.c.balance + _LOCKED.c.change)
    .returning(_ACCOUNTS.c.id)
    .cte("changed")
)
_INSERT_AND_MOVE_ON_POSTGRESQL = DriverStatement(
    select(
        _MOVED.c.id,
        _MOVED.c.from_account_id,
        _MOVED.c.to_account_id,
        select(func.count()).select_from(_CHANGED).scalar_subquery(),
    )
)
_OPEN_ACCOUNTS = select(func.count()).where(_ACCOUNTS.c.owner.in_([bindparam("source"), bindparam("target")]))


def _insert_and_move(
    session: Session, row: dict[str, Any], source: str, target: str
) -> tuple[int, int, int] | None:
    """Insert the transfer unless its key is taken and, if it was inserted, move the tokens: its id and
    accounts' ids, or None for a retry. A debit that would go below zero changes no balance and raises.
    An account used for the first time is opened, and the transfer tried once more."""
    values = {NEW + column: value for column, value in row.items()} | {"source": source, "target": target}
    on_postgresql = session.get_bind().dialect.name == "postgresql"
    moved, changed = (_in_one_statement if on_postgresql else _in_two_statements)(session, values)
    if moved is None and session.connection().execute(_OPEN_ACCOUNTS, values).scalar() != 2:
        account(session, source), account(session, target)
        return _insert_and_move(session, row, source, target)
    if moved is not None and changed != 2:
        raise CommonsError(
            ErrorCode.INSUFFICIENT_FUNDS, f"the paying account holds fewer than {row['amount']} tokens"
        )
    for key in moved[1:] if moved is not None and session.identity_map else ():
        if (stale := session.identity_map.get(identity_key(Account, (key,)))) is not None:
            session.expire(stale, ["balance"])  # an account this session loaded before
    return None if moved is None else (int(moved[0]), int(moved[1]), int(moved[2]))


def _in_one_statement(session: Session, values: dict[str, Any]) -> tuple[tuple[Any, ...] | None, int]:
    """PostgreSQL: the transfer's (id, debit, credit) or None, and how many balances changed."""
    found = _INSERT_AND_MOVE_ON_POSTGRESQL.execute(session, values).rows
    return (found[0][:3], found[0][3]) if found else (None, 0)


def _in_two_statements(session: Session, values: dict[str, Any]) -> tuple[tuple[Any, ...] | None, int]:
    """SQLite: the same, the row first, then the balances."""
    inserted = _INSERT_ON_SQLITE.execute(session, values).rows
    if not inserted:
        return None, 0
    moved = inserted[0]
    return moved, _MOVE_ON_SQLITE.execute(session, values | {"debit": moved[1], "credit": moved[2]}).rowcount


def _loaded(session: Session, moved: Transfer) -> Transfer:
    """The transfer just inserted, as a persistent object, without reading back what was just written."""
    make_transient_to_detached(moved)
    session.add(moved)
    return moved


def _earlier_id(session: Session, initiator: str, key: str) -> int | None:
    return session.scalar(
        select(Transfer.id).where(Transfer.initiator == initiator, Transfer.idempotency_key == key)
    )


def _same_or_conflict(earlier: Transfer | None, source: str, target: str, amount: int) -> Transfer:
    if earlier is None:
        raise CommonsError(ErrorCode.IDEMPOTENCY_CONFLICT, "the transfer could not be completed; retry it")
    same = (earlier.from_account.owner, earlier.to_account.owner, earlier.amount) == (source, target, amount)
    if not same:
        raise CommonsError(ErrorCode.IDEMPOTENCY_CONFLICT)
    return earlier


def mint(session: Session, *, key: str, target: str, amount: int, reason: str) -> Transfer:
    """New tokens from the issuance account (the only account that goes below zero)."""
    return transfer(
        session, initiator=ISSUANCE, key=key, source=ISSUANCE, target=target, amount=amount, reason=reason
    )


def split(amount: int, weights: Mapping[Share, float]) -> dict[Share, int]:
    """`amount` whole tokens in proportion to `weights`, by largest remainders (Hamilton's rule).

    Each holder first gets the whole part of its exact share; the tokens left go one each to the largest
    fractional parts, equal ones to the lowest key. So the amounts sum to `amount`, each is less than one
    token from its exact share, a zero weight gets nothing, a larger weight never gets less, and the same
    weights always give the same split. With fewer tokens than holders some positive weights get none:
    each still gets the whole part of its share (decision 0049)."""
    exact = _exact_shares(amount, weights)
    amounts = {key: int(share) for key, share in exact.items()}
    left = amount - sum(amounts.values())
    by_remainder = sorted(exact, key=lambda key: (-(exact[key] - amounts[key]), key))
    for key in by_remainder[:left]:
        amounts[key] += 1
    return amounts


def _exact_shares(amount: int, weights: Mapping[Share, float]) -> dict[Share, Fraction]:
    """Each holder's exact share of `amount`, as a fraction (floats are exact as fractions)."""
    if amount < 0 or any(not math.isfinite(weight) or weight < 0 for weight in weights.values()):
        raise ValueError("a split shares a non-negative amount by finite, non-negative weights")
    total = sum((Fraction(weight) for weight in weights.values()), Fraction(0))
    if not weights:
        return {}
    if total == 0:
        raise ValueError("a split needs a positive weight")
    return {key: amount * Fraction(weight) / total for key, weight in weights.items()}


def parameter(session: Session, name: str, default: int = 0) -> int:
    value = session.scalar(select(Parameter.value).where(Parameter.name == name))
    return default if value is None else int(value)


def set_parameter(session: Session, name: str, value: int) -> None:
    found = session.get(Parameter, name)
    if found is None:
        session.add(Parameter(name=name, value=value))
    else:
        found.value = value
    session.flush()


def reward(session: Session, event: str, *, subject: str, contributors: Iterable[int]) -> list[Transfer]:
    """Mint the reward policy's amount for `event` to each contributor a domain names (once per subject)."""
    amount = parameter(session, REWARD_PREFIX + event)
    if amount <= 0:
        return []
    return [
        mint(
            session,
            key=f"{event}/{subject}/{member_id}",
            target=member_account(member_id),
            amount=amount,
            reason=event,
        )
        for member_id in sorted(set(contributors))
    ]


INTERVAL_ENTRIES = "reward:interval-entries"
INTERVAL_AMOUNT = "reward:interval"
INTERVAL_PAID = "reward:interval-paid"
MIN_INTERVAL = 10  # a reward is itself an entry: shorter intervals would feed themselves


def reward_intervals(session: Session, size: int) -> list[Transfer]:
    """The per-interval ("block") reward: for each completed interval of the log, mint to the treasury."""
    every, amount = parameter(session, INTERVAL_ENTRIES), parameter(session, INTERVAL_AMOUNT)
    if every < MIN_INTERVAL or amount <= 0:
        return []
    paid, due = parameter(session, INTERVAL_PAID), size // every
    minted = [
        mint(session, key=f"interval/{every}/{n}", target=TREASURY, amount=amount, reason=INTERVAL_AMOUNT)
        for n in range(paid + 1, due + 1)
    ]
    if due > paid:
        set_parameter(session, INTERVAL_PAID, due)
    return minted


def history(session: Session, owner: str, page: PageRequest) -> Page[Transfer]:
    """An account's transfers, newest first (reading opens no account)."""
    mine = select(Account.id).where(Account.owner == owner).scalar_subquery()
    query = select(Transfer).where(or_(Transfer.from_account_id == mine, Transfer.to_account_id == mine))
    return paginate(session, query.order_by(Transfer.id.desc()), page)


def balances_at(session: Session, size: int) -> dict[str, int]:
    """The stored balances less the transfers the first `size` log entries do not hold yet.

    What an auditor's replay of those entries must give; a mismatch means the balances and the log differ.
    """
    totals = {owner: balance for owner, balance in session.execute(select(Account.owner, Account.balance))}
    later = session.execute(
        select(Transfer.amount, Transfer.from_account_id, Transfer.to_account_id)
        .outerjoin(LogEntry, LogEntry.record_id == Transfer.record_id)
        .where(or_(LogEntry.index.is_(None), LogEntry.index >= size))
    ).all()
    owners = (
        {key: owner for key, owner in session.execute(select(Account.id, Account.owner))} if later else {}
    )
    for amount, source, target in later:
        totals[owners[source]] += amount
        totals[owners[target]] -= amount
    return {owner: total for owner, total in sorted(totals.items()) if total}


def replay(entries: Iterable[dict[str, Any]]) -> dict[str, int]:
    """Balances recomputed from log entries alone, as an auditor does."""
    totals: dict[str, int] = {}
    for document in entries:
        if document.get("event") != TRANSFER_EVENT:
            continue
        data = document["data"]
        totals[data["from"]] = totals.get(data["from"], 0) - int(data["amount"])
        totals[data["to"]] = totals.get(data["to"], 0) + int(data["amount"])
    return {owner: total for owner, total in sorted(totals.items()) if total}
