"""The curl examples of docs/journeys.md run, in order, against the app and answer what they say; the doc
names every stage and every event journeys read."""

from pathlib import Path

import pytest

from aicommons.journeys.activity import ARRIVALS, CONTRIBUTIONS, REUSE, ROLE_CHANGE
from aicommons.journeys.models import Stage
from tests.communities.conftest import community_form
from tests.datasets import test_docs_datasets as curl

DOC = Path(__file__).parents[2] / "docs" / "journeys.md"


@pytest.fixture
def examples(monkeypatch) -> list[tuple[str, int]]:
    monkeypatch.setattr(curl, "DOC", DOC)
    return curl.examples()


def test_the_doc_names_every_stage_and_every_event_it_reads():
    text = DOC.read_text()
    assert all(f"| {stage} |" in text for stage in Stage)
    assert all(f"`{event}`" in text for event in (*ARRIVALS, *CONTRIBUTIONS, REUSE, ROLE_CHANGE))


def test_the_curl_examples_answer_as_documented(client, examples, make_member, token_for):
    headers = token_for(make_member("keeper"))
    form = community_form("river-keepers", name="River Keepers", sectors=["water"])
    assert client.post("/api/v1/communities", json=form, headers=headers).status_code == 201
    variables = {"COMMONS": "http://testserver", "TOKEN": headers["Authorization"].removeprefix("Bearer ")}
    assert len(examples) == 6
    for command, status in examples:
        sent = curl.request_of(command, variables)
        answer = client.request(sent["method"], sent["url"], headers=sent["headers"], content=sent["content"])
        assert answer.status_code == status, f"{command}\n→ {answer.status_code} {answer.text[:300]}"
