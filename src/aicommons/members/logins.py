"""Slow guessing: each login attempt counts as a failure of its account and of its client address until the
password proves right, in a transaction of its own, so that a refused request's rollback cannot undo the
count (decision 0047)."""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, sessionmaker

from aicommons.core.db import unit_of_work, utcnow
from aicommons.core.errors import CommonsError, ErrorCode
from aicommons.core.security import verify_password
from aicommons.members.models import LoginThrottle, Member


@dataclass(frozen=True)
class Lockout:
    """After `free` failures in a row, each failure locks out for `first`, doubled with every further
    failure, and never longer than `longest`."""

    free: int
    first: timedelta
    longest: timedelta

    def after(self, failures: int) -> timedelta | None:
        if failures < self.free:
            return None
        return min(self.longest, self.first * (1 << min(failures - self.free, 32)))


ACCOUNT = Lockout(5, timedelta(minutes=1), timedelta(hours=1))
ADDRESS = Lockout(20, timedelta(minutes=1), timedelta(hours=1))  # one address may hold many people (NAT)
FORGET_AFTER = timedelta(days=1)  # failures in a row start again after a quiet day


class Account(NamedTuple):
    id: int
    password_hash: str


def account_key(member_id: int) -> str:
    return f"account:{member_id}"


def address_key(address: str) -> str:
    return f"address:{address}"


def log_in(
    *,
    session: Session,
    factory: sessionmaker[Session],
    login: str,
    password: str,
    address: str,
    now: datetime | None = None,
) -> Member:
    """The member with this handle (or email) and password; one error for both mistakes, and
    `too_many_attempts` while the account or the address is locked out, even for the right password.

    The attempt is counted first, in a transaction of `factory` that commits at once, and forgiven in
    `session` when the password is right. Call it before `session` has run any statement: on SQLite that
    transaction would hold the write lock the count needs."""
    now = now or utcnow()
    with unit_of_work(factory) as own:
        found = _account(own, login)
        keys = {address_key(address): ADDRESS} | ({account_key(found.id): ACCOUNT} if found else {})
        locks = _count(own, keys, now)
    if not verify_password(found.password_hash if found else None, password) or found is None:
        raise CommonsError(ErrorCode.INVALID_CREDENTIALS)
    _forgive(session, found.id, address_key(address), locks)
    member = session.get(Member, found.id)
    assert member is not None
    return member


def _account(session: Session, login: str) -> Account | None:
    login = login.strip().lower()
    found = session.execute(
        select(Member.id, Member.password_hash).where(
            (Member.handle == login) | (func.lower(Member.email) == login)
        )
    ).first()
    return Account(*found) if found else None


def _count(session: Session, keys: dict[str, Lockout], now: datetime) -> dict[str, datetime | None]:
    """Refuse while any key is locked out; else add this attempt to each key's failures. Returns the
    lock-out each key got from it."""
    rows = _rows(session, sorted(keys), now)
    _refuse_if_locked(rows, now)
    return {row.key: _fail(row, keys[row.key], now) for row in rows}


def _rows(session: Session, keys: list[str], now: datetime) -> list[LoginThrottle]:
    """The keys' rows, made on first use, locked in key order (FOR UPDATE on PostgreSQL; SQLite's
    transaction holds the one write lock already)."""
    on_postgresql = session.get_bind().dialect.name == "postgresql"
    fresh = [{"key": key, "failures": 0, "last_failed_at": now} for key in keys]
    session.execute(
        (postgres_insert if on_postgresql else sqlite_insert)(LoginThrottle)
        .values(fresh)
        .on_conflict_do_nothing()
    )
    query = select(LoginThrottle).where(LoginThrottle.key.in_(keys)).order_by(LoginThrottle.key)
    return list(session.scalars(query.with_for_update()))


def _refuse_if_locked(rows: list[LoginThrottle], now: datetime) -> None:
    waits = [
        row.locked_until - now for row in rows if row.locked_until is not None and row.locked_until > now
    ]
    if waits:
        seconds = math.ceil(max(waits).total_seconds())
        raise CommonsError(
            ErrorCode.TOO_MANY_ATTEMPTS,
            f"Too many failed logins: try again in {_spoken(seconds)}.",
            retry_after=seconds,
        )


def _fail(row: LoginThrottle, lockout: Lockout, now: datetime) -> datetime | None:
    if now - row.last_failed_at > FORGET_AFTER:
        row.failures = 0
    row.failures += 1
    row.last_failed_at = now
    length = lockout.after(row.failures)
    row.locked_until = now + length if length is not None else None
    return row.locked_until


def _forgive(session: Session, member_id: int, address: str, locks: dict[str, datetime | None]) -> None:
    """The right password: the account starts afresh, and the address loses this attempt's failure and the
    lock-out it set (one set since by another attempt stays)."""
    session.execute(delete(LoginThrottle).where(LoginThrottle.key == account_key(member_id)))
    row = LoginThrottle.key == address
    counted = LoginThrottle.failures > 0
    session.execute(update(LoginThrottle).where(row, counted).values(failures=LoginThrottle.failures - 1))
    if locks.get(address) is not None:
        mine = LoginThrottle.locked_until == locks[address]
        session.execute(update(LoginThrottle).where(row, mine).values(locked_until=None))


def _spoken(seconds: int) -> str:
    if seconds < 90:
        return f"{seconds} seconds"
    return f"{math.ceil(seconds / 60)} minutes"
