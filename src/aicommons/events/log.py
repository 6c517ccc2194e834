"""What the events domain writes on the transparency log: ids and kinds, never a title or a name (a private
community's events stay unnamed there), always with the event's community so journeys can count them."""

from typing import Any

from sqlalchemy.orm import Session

from aicommons.events.models import Event
from aicommons.ledger import service as ledger


def record(
    session: Session,
    name: str,
    event: Event,
    *,
    actor_id: int | None,
    subject: dict[str, int] | None = None,
    data: dict[str, Any] | None = None,
) -> None:
    ledger.record(
        session,
        name,
        actor_id=actor_id,
        subject={"event": event.id} | (subject or {}),
        community_id=event.community_id,
        data=data or {},
    )
