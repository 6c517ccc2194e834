"""The curl examples of docs/concerns.md run, in order, against the app and answer what they say; the doc
names every log event, route, status and taxonomy value of the domain."""

from pathlib import Path

import pytest

from aicommons.concerns.models import Status
from aicommons.core.vocabulary import HarmType, RiskDomain
from aicommons.members.models import GlobalRole
from tests.concerns.conftest import add_member, policy_community
from tests.datasets import test_docs_datasets as curl

DOC = Path(__file__).parents[2] / "docs" / "concerns.md"
EVENTS = (
    "concern:receive",
    "concern:status",
    "concern:triage",
    "concern:merge",
    "concern:escalate",
    "corroboration:add",
    "concern:hide",
    "concern:restore",
    "responder:name",
    "response:post",
)


@pytest.fixture
def examples(monkeypatch) -> list[tuple[str, int]]:
    monkeypatch.setattr(curl, "DOC", DOC)
    return curl.examples()


def test_the_doc_names_every_log_event_status_and_taxonomy_value():
    text = DOC.read_text()
    assert all(f"`concerns:{event}`" in text for event in EVENTS)
    assert all(f"`{status}`" in text for status in Status)
    assert all(f"`{value}`" in text for value in (*RiskDomain, *HarmType))


def test_the_doc_lists_every_concerns_route(app):
    text = DOC.read_text()
    routes = [
        f"{method.upper()} {path}"
        for path, operations in app.openapi()["paths"].items()
        for method in operations
        if path.startswith("/api/v1/concerns")
    ]
    assert len(routes) == 17
    assert [route for route in routes if f"`{route}`" not in text] == []


def test_the_curl_examples_answer_as_documented(client, examples, factory, token_for):
    with factory.begin() as db:
        moderator, rory = add_member(db, "mona", GlobalRole.MODERATOR), add_member(db, "rory")
        policy_community(db, moderator, "ai-policy-forum")
    variables = {
        "COMMONS": "http://testserver",
        "MODERATOR_TOKEN": token_for(moderator)["Authorization"].removeprefix("Bearer "),
        "RESPONDER_TOKEN": token_for(rory)["Authorization"].removeprefix("Bearer "),
    }
    assert len(examples) == 20
    for command, status in examples:
        sent = curl.request_of(command, variables)
        answer = client.request(sent["method"], sent["url"], headers=sent["headers"], content=sent["content"])
        assert answer.status_code == status, f"{command}\n→ {answer.status_code} {answer.text[:300]}"
        variables.setdefault("TRACKING", answer.json().get("tracking_token", ""))
    assert client.get("/api/v1/concerns/2").json()["merged_into"] == 1
