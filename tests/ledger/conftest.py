"""Ledger fixtures: the log's identity and a way to sequence what was recorded."""

from collections.abc import Callable

import pytest
from sqlalchemy.orm import Session, sessionmaker

from aicommons.app import log_identity
from aicommons.core.db import unit_of_work
from aicommons.ledger import service as ledger
from aicommons.ledger.models import LogCheckpoint


@pytest.fixture
def log(settings) -> ledger.LogIdentity:
    return log_identity(settings)


@pytest.fixture
def sequence(factory: sessionmaker[Session], log) -> Callable[[], LogCheckpoint | None]:
    """Run the sequencer once in its own transaction, as the worker's chore does."""

    def run() -> LogCheckpoint | None:
        with unit_of_work(factory) as session:
            return ledger.integrate(session, log)

    return run
