"""Background work of the insights domain: the daily digest of each subscriber."""

import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from aicommons.core.db import unit_of_work, utcnow
from aicommons.insights import subscriptions

log = logging.getLogger(__name__)


def digest_chore(factory: sessionmaker[Session]) -> Callable[..., None]:
    """The worker's chore, called often: each subscriber whose last digest is a day old gets one
    notification of what is new, each in a transaction of its own (one failure stops no other)."""

    def send_due(now: datetime | None = None) -> None:
        moment = now or utcnow()
        with unit_of_work(factory) as session:
            due = subscriptions.due(session, now=moment)
        for member_id in due:
            try:
                with unit_of_work(factory) as session:
                    subscriptions.send_digest(session, member_id=member_id, now=moment)
            except Exception:  # one failed digest must not stop the worker; it is tried again next round
                log.exception("the digest of member %s failed", member_id)

    return send_due
