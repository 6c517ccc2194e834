"""The curl examples of docs/insights.md run, in order, against the app and answer what they say; the doc
names every log event and every insights route of the API."""

from pathlib import Path

import pytest

from tests.communities.conftest import community_form
from tests.datasets import test_docs_datasets as curl

DOC = Path(__file__).parents[2] / "docs" / "insights.md"
EVENTS = (
    "insights:insight:publish",
    "insights:reply:create",
    "insights:endorsement:add",
    "insights:endorsement:remove",
    "insights:answer:accept",
    "insights:reuse:record",
)


@pytest.fixture
def examples(monkeypatch) -> list[tuple[str, int]]:
    monkeypatch.setattr(curl, "DOC", DOC)
    return curl.examples()


def test_the_doc_names_every_log_event_and_route(app):
    text = DOC.read_text()
    assert all(f"`{event}`" in text for event in EVENTS)
    routes = [
        f"{method.upper()} {path}"
        for path, operations in app.openapi()["paths"].items()
        for method in operations
        if path.startswith("/api/v1/insights")
        or path.endswith("/insights")
        or path.endswith("/insights/reach")
    ]
    assert len(routes) == 15
    assert [route for route in routes if f"`{route}`" not in text] == []


def test_the_curl_examples_answer_as_documented(client, examples, quick_member, token_for):
    tokens = {name: token_for(quick_member(name)) for name in ("amina", "kofi")}
    for owner, slug, sector in (
        ("amina", "nurses-on-ai", "health"),
        ("kofi", "smallholder-ml-meetups", "agriculture"),
    ):
        form = community_form(slug, sectors=[sector])
        assert client.post("/api/v1/communities", headers=tokens[owner], json=form).status_code == 201
    variables = {
        "COMMONS": "http://testserver",
        "TOKEN": tokens["amina"]["Authorization"].removeprefix("Bearer "),
        "OTHER_TOKEN": tokens["kofi"]["Authorization"].removeprefix("Bearer "),
    }
    assert len(examples) >= 15
    for command, status in examples:
        sent = curl.request_of(command, variables)
        answer = client.request(sent["method"], sent["url"], headers=sent["headers"], content=sent["content"])
        assert answer.status_code == status, f"{command}\n→ {answer.status_code} {answer.text[:300]}"
