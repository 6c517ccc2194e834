"""The curl examples of docs/federation.md run, in order, against the app and answer what they say; the
worker drains the job queue before each request (so the documented run really trains, on Ray)."""

from pathlib import Path

import pytest

from aicommons.app import job_handlers
from aicommons.core.jobs import Worker
from aicommons.core.slugs import slugify
from tests.datasets import test_docs_datasets as curl

DOC = Path(__file__).parents[2] / "docs" / "federation.md"
EVENTS = ("node:register", "node:rows", "run:start", "round:complete", "model:register", "run:fail")


@pytest.fixture
def examples(monkeypatch) -> list[tuple[str, int]]:
    monkeypatch.setattr(curl, "DOC", DOC)
    return curl.examples()


def test_the_doc_names_every_log_event_strategy_and_family():
    text = DOC.read_text()
    assert all(f"`federation:{event}`" in text for event in EVENTS)
    assert all(f"`{name}`" in text for name in ("fedavg", "fedprox", "fedmedian", "trimmed_mean", "krum"))
    assert all(f"`{family}`" in text for family in ("logistic", "linear", "mlp"))


def test_the_curl_examples_answer_as_documented(client, examples, federated, settings, factory):
    variables = {
        "COMMONS": "http://testserver",
        "TOKEN": federated.owner_headers["Authorization"].removeprefix("Bearer "),
        "DATASET": federated.dataset,
        "PROBLEM": federated.slug,
        "MODEL": slugify(f"{federated.slug}-run-1", fallback_prefix="model"),
        "DATA_A": str(federated.files[0]),
        "DATA_B": str(federated.files[1]),
    }
    worker = Worker(factory, job_handlers(settings), heartbeat_seconds=5, timeout_seconds=600)
    for command, status in examples:
        while worker.run_once() is not None:
            pass
        sent = curl.request_of(command, variables)
        answer = client.request(sent["method"], sent["url"], headers=sent["headers"], content=sent["content"])
        assert answer.status_code == status, f"{command}\n→ {answer.status_code} {answer.text[:300]}"
    assert client.get("/api/v1/runs/1").json()["state"] == "succeeded"
