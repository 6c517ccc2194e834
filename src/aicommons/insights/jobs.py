"""Background work of the insights domain: the daily digest of each subscription."""

from collections.abc import Callable

from sqlalchemy.orm import Session, sessionmaker


def digest_chore(factory: sessionmaker[Session]) -> Callable[[], None]:
    """The worker's chore: once a day, each subscriber's new matching insights become one notification."""

    def send_due() -> None:
        pass  # filled in with the insights domain

    return send_due
