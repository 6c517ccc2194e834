"""Rate limits kept in the database, so that every process of the commons counts the same hits.

A limit is a number of hits per window for a bucket, such as `concern:ip:<hash of the address>` or
`insight:member:7`; a hit over the limit raises `rate_limited` and is not counted."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Index, Integer, String, delete, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from aicommons.core.db import Base, UTCDateTime, utcnow
from aicommons.core.errors import CommonsError, ErrorCode


class RateHit(Base):
    """One counted request of a bucket; hits older than the bucket's window are deleted as it is checked."""

    __tablename__ = "rate_hit"
    __table_args__ = (Index("ix_rate_hit_bucket_at", "bucket", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bucket: Mapped[str] = mapped_column(String(120))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


@dataclass(frozen=True)
class Limit:
    """At most `hits` in `window`."""

    hits: int
    window: timedelta


def hit(session: Session, bucket: str, limit: Limit, *, now: datetime | None = None) -> None:
    """Count one hit of `bucket`, or refuse it with `rate_limited` when the window is full.

    The hit is part of the caller's transaction: a request that fails for another reason is not counted."""
    now = now or utcnow()
    since = now - limit.window
    session.execute(delete(RateHit).where(RateHit.bucket == bucket, RateHit.at <= since))
    recent = select(func.count(), func.min(RateHit.at)).where(RateHit.bucket == bucket, RateHit.at > since)
    count, oldest = session.execute(recent).one()
    if count >= limit.hits:
        wait = max(1, int((oldest + limit.window - now).total_seconds()) + 1)
        raise CommonsError(
            ErrorCode.RATE_LIMITED, f"at most {limit.hits} in {_spoken(limit.window)}", retry_after=wait
        )
    session.add(RateHit(bucket=bucket, at=now))
    session.flush()


def _spoken(window: timedelta) -> str:
    minutes = int(window.total_seconds() // 60)
    if minutes >= 60 and minutes % 60 == 0:
        hours = minutes // 60
        return "an hour" if hours == 1 else f"{hours} hours"
    return "a minute" if minutes == 1 else f"{minutes} minutes"
