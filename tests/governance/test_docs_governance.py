"""The curl examples of docs/governance.md run, in order, against the app and answer what they say (the
worker's chore runs before each request); the doc names every route, log event, kind, method, state and
governable parameter of the domain."""

from pathlib import Path

import pytest

from aicommons.core.db import utcnow
from aicommons.governance.jobs import move_due
from aicommons.governance.models import Kind, Method, State
from aicommons.governance.parameters import DECLARED
from tests.datasets import test_docs_datasets as curl

DOC = Path(__file__).parents[2] / "docs" / "governance.md"
EVENTS = (
    "proposal:create",
    "proposal:submit",
    "proposal:open",
    "proposal:extend",
    "proposal:cancel",
    "proposal:succeed",
    "proposal:defeat",
    "proposal:queue",
    "proposal:execute",
    "proposal:expire",
    "vote:cast",
)


@pytest.fixture
def examples(monkeypatch) -> list[tuple[str, int]]:
    monkeypatch.setattr(curl, "DOC", DOC)
    return curl.examples()


def test_the_doc_names_every_event_kind_method_state_and_parameter():
    text = DOC.read_text()
    assert [event for event in EVENTS if f"`governance:{event}`" not in text] == []
    assert [value for value in (*Kind, *Method, *State) if f"`{value}`" not in text] == []
    assert [parameter.name for parameter in DECLARED if f"`{parameter.name}`" not in text] == []


def test_the_doc_lists_every_governance_route(app):
    text = DOC.read_text()
    routes = [
        f"{method.upper()} {path}"
        for path, operations in app.openapi()["paths"].items()
        for method in operations
        if path.startswith("/api/v1/governance")
    ]
    assert len(routes) == 12
    assert [route for route in routes if f"`{route}`" not in text] == []


def test_the_curl_examples_answer_as_documented(client, examples, factory, commons, token_for):
    variables = {
        "COMMONS": "http://testserver",
        "TOKEN": token_for(commons["alice"])["Authorization"].removeprefix("Bearer "),
        "MEMBER_TOKEN": token_for(commons["bob"])["Authorization"].removeprefix("Bearer "),
    }
    assert len(examples) == 23
    for command, status in examples:
        move_due(factory, utcnow())
        sent = curl.request_of(command, variables)
        answer = client.request(sent["method"], sent["url"], headers=sent["headers"], content=sent["content"])
        assert answer.status_code == status, f"{command}\n→ {answer.status_code} {answer.text[:300]}"
    proposal = client.get("/api/v1/governance/proposals/1").json()
    assert (proposal["state"], proposal["action"]["amount"]) == ("active", 30)
    assert client.get("/api/v1/governance/proposals/1/tally").json()["counts"] == [1, 0, 0]
