"""Events fixtures: a public and a private community with their steward, events built through the API, and
a way to move an event into the past (as time would)."""

from collections.abc import Callable
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from aicommons.core.db import utcnow
from aicommons.events.models import Event
from aicommons.ledger.models import LogRecord
from tests.communities.conftest import community_form
from tests.problems.test_views import browser  # noqa: F401 (a browser of its own for each person)

Headers = dict[str, str]
ZONE = "Europe/Berlin"


def local(days: float, *, hour: int = 18, zone: str = ZONE) -> str:
    """A wall-clock time `days` from now at `hour` in `zone`, as a form or the API takes it."""
    day = (utcnow() + timedelta(days=days)).astimezone(ZoneInfo(zone))
    return day.replace(hour=hour, minute=0, second=0, microsecond=0, tzinfo=None).isoformat()


def event_form(**changes: Any) -> dict[str, Any]:
    return {
        "title": "Nurses' AI meetup",
        "kind": "meetup",
        "mode": "in-person",
        "description": "We compare **triage tools**.",
        "timezone": ZONE,
        "start": local(10),
        "end": local(10, hour=20),
        "location": "Charité, Berlin",
    } | changes


@pytest.fixture
def steward(make_member, token_for) -> Headers:
    return token_for(make_member("stella"))


@pytest.fixture
def nurses(client: TestClient, steward: Headers) -> str:
    response = client.post("/api/v1/communities", headers=steward, json=community_form("nurses"))
    assert response.status_code == 201, response.text
    return "nurses"


@pytest.fixture
def council(client: TestClient, steward: Headers) -> str:
    form = community_form("council", visibility="private", join_policy="invite")
    assert client.post("/api/v1/communities", headers=steward, json=form).status_code == 201
    return "council"


@pytest.fixture
def schedule(client: TestClient, steward: Headers) -> Callable[..., dict[str, Any]]:
    """Schedule an event through the API as the steward and return it."""

    def create(slug: str = "nurses", **changes: Any) -> dict[str, Any]:
        response = client.post(
            f"/api/v1/communities/{slug}/events", headers=steward, json=event_form(**changes)
        )
        assert response.status_code == 201, response.text
        return dict(response.json())

    return create


@pytest.fixture
def person(client: TestClient, make_member, token_for) -> Callable[..., Headers]:
    """A new member's headers; with `joins`, they join that (open) community first."""

    def make(handle: str, joins: str | None = None) -> Headers:
        headers = token_for(make_member(handle))
        if joins:
            assert client.post(f"/api/v1/communities/{joins}/members", headers=headers).status_code == 201
        return headers

    return make


def answer(client: TestClient, headers: Headers, event_id: int, choice: str) -> dict[str, Any]:
    response = client.put(f"/api/v1/events/{event_id}/rsvp", headers=headers, json={"answer": choice})
    assert response.status_code == 200, response.text
    return dict(response.json())


def into_the_past(factory, event_id: int, days: float = 30) -> None:
    """Move an event back in time, as if it had been held `days` ago."""
    shift = timedelta(days=days)
    with factory.begin() as db:
        event = db.get_one(Event, event_id)
        event.starts_at -= shift
        event.ends_at -= shift
        event.over_at -= shift


def logged(factory, prefix: str = "events:") -> list[tuple[str, int | None, int | None]]:
    """The events domain's log records: (event, actor, community), oldest first."""
    with factory() as db:
        rows = db.execute(
            select(LogRecord.event, LogRecord.actor_id, LogRecord.community_id)
            .where(LogRecord.event.startswith(prefix))
            .order_by(LogRecord.id)
        )
        return [tuple(row) for row in rows]
