"""The governance domain's background work: move proposals along as time passes — open and close their
voting, queue the succeeded ones, execute them once their timelock has passed, expire what cannot be."""

import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from aicommons.core.db import unit_of_work, utcnow
from aicommons.core.errors import CommonsError
from aicommons.governance import service

log = logging.getLogger(__name__)
MAX_STEPS = 5  # a proposal takes at most: close, queue, execute (with no timelock) in one visit


def governance_chore(factory: sessionmaker[Session]) -> Callable[[], None]:
    """The worker's chore: each step of each proposal due in a transaction of its own, so that one that
    fails (an execution the services refuse) neither stops the others nor the worker."""
    return lambda: move_due(factory, utcnow())


def move_due(factory: sessionmaker[Session], now: datetime) -> None:
    """Take every step due at `now` (tests pass the moment they need)."""
    with unit_of_work(factory) as session:
        due = service.due(session, now)
    for proposal_id in due:
        advance(factory, proposal_id, now)


def advance(factory: sessionmaker[Session], proposal_id: int, now: datetime) -> None:
    """Take every step of one proposal that is due at `now`."""
    for _ in range(MAX_STEPS):
        try:
            with unit_of_work(factory) as session:
                entered = service.advance(session, proposal_id, now)
        except CommonsError as refused:
            log.warning("proposal %s could not be executed: %s", proposal_id, refused.detail)
            with unit_of_work(factory) as session:
                service.note_failure(session, proposal_id, refused.detail, now)
            return
        if entered is None:
            return
