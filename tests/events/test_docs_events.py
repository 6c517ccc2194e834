"""The curl examples of docs/events.md run, in order, against the app and answer what they say.

They are read as docs/datasets.md's are (`tests.datasets.test_docs_datasets`). The documented dates are of
2027; once that is near, the examples run a year later than the one after now. Outcomes wait for the end
of an event, so the first event is moved into the past just before they are linked, as time would."""

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from aicommons.core.db import utcnow
from aicommons.events.models import Event
from tests.communities.conftest import community_form
from tests.datasets import test_docs_datasets as curl
from tests.events.conftest import into_the_past

DOC = Path(__file__).parents[2] / "docs" / "events.md"
LOG_EVENTS = (
    "event:schedule",
    "event:update",
    "event:cancel",
    "rsvp:set",
    "waitlist:promote",
    "outcome:link",
)


@pytest.fixture
def examples(monkeypatch) -> list[tuple[str, int]]:
    monkeypatch.setattr(curl, "DOC", DOC)
    return curl.examples()


def test_the_doc_names_every_log_event_kind_mode_and_error():
    text = DOC.read_text()
    assert all(f"`events:{name}`" in text for name in LOG_EVENTS)
    assert all(f"`{kind}`" in text for kind in ("meetup", "workshop", "hackathon", "roundtable", "webinar"))
    assert all(f"`{mode}`" in text for mode in ("online", "in-person", "hybrid"))
    assert all(
        f"`{code}`" in text for code in ("event_not_found", "event_over", "event_cancelled", "event_not_over")
    )


def test_the_curl_examples_answer_as_documented(client, examples, make_member, token_for, factory):
    steward, member = token_for(make_member("amina")), token_for(make_member("grace"))
    created = client.post("/api/v1/communities", headers=steward, json=community_form("nurses-on-ai"))
    assert created.status_code == 201
    variables = {
        "COMMONS": "http://testserver",
        "MEMBER_TOKEN": member["Authorization"].removeprefix("Bearer "),
        "TOKEN": steward["Authorization"].removeprefix("Bearer "),
    }
    year = "2027" if utcnow() < datetime(2027, 2, 1, tzinfo=UTC) else str(utcnow().year + 1)
    for command, status in examples:
        if "/outcomes" in command:
            _first_event_held(factory)
        sent = curl.request_of(re.sub(r"\b2027(?=-\d\d-\d\d)", year, command), variables)
        answer = client.request(sent["method"], sent["url"], headers=sent["headers"], content=sent["content"])
        assert answer.status_code == status, f"{command}\n→ {answer.status_code} {answer.text[:300]}"
    assert client.get("/api/v1/events/1/rsvp", headers=member).json()["answer"] == "going"
    assert [o["kind"] for o in client.get("/api/v1/events/1").json()["outcomes"]] == ["recommendation"]


def _first_event_held(factory) -> None:
    with factory() as db:
        starts_at = db.get_one(Event, 1).starts_at
    if starts_at > utcnow():
        into_the_past(factory, 1, days=(starts_at - utcnow() + timedelta(days=1)).total_seconds() / 86400)
