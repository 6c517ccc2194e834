"""Rate limits count hits per bucket in the database, refuse the one over the limit, and forget old hits."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from aicommons.core.db import utcnow
from aicommons.core.errors import CommonsError, ErrorCode
from aicommons.core.ratelimit import Limit, RateHit, hit

THREE_A_MINUTE = Limit(3, timedelta(minutes=1))


def test_the_hit_over_the_limit_is_refused_with_the_seconds_to_wait_and_not_counted(session):
    start = utcnow()
    for second in range(3):
        hit(session, "concern:ip:abc", THREE_A_MINUTE, now=start + timedelta(seconds=second))
    with pytest.raises(CommonsError) as refused:
        hit(session, "concern:ip:abc", THREE_A_MINUTE, now=start + timedelta(seconds=10))
    assert refused.value.code is ErrorCode.RATE_LIMITED
    assert refused.value.extra == {"retry_after": 51}
    assert "at most 3 in a minute" in refused.value.detail
    assert session.scalar(select(func.count()).select_from(RateHit)) == 3


def test_buckets_are_separate_and_a_window_later_the_old_hits_are_gone(session):
    start = utcnow()
    for _ in range(3):
        hit(session, "insight:member:1", THREE_A_MINUTE, now=start)
    hit(session, "insight:member:2", THREE_A_MINUTE, now=start)  # another member is not slowed down
    later = start + timedelta(minutes=1, seconds=1)
    hit(session, "insight:member:1", THREE_A_MINUTE, now=later)
    left = session.scalar(select(func.count()).where(RateHit.bucket == "insight:member:1"))
    assert left == 1  # the three old hits were deleted as the bucket was checked


def test_an_hour_window_reads_as_an_hour(session):
    hourly = Limit(1, timedelta(hours=1))
    hit(session, "b", hourly)
    with pytest.raises(CommonsError, match="at most 1 in an hour"):
        hit(session, "b", hourly)
