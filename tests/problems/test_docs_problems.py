"""The curl examples of docs/problems.md run, in order, against the app and answer what they say.

They are read as docs/datasets.md's are (`tests.datasets.test_docs_datasets`), with the worker draining
the job queue before each request, as the commons' background worker would."""

from pathlib import Path

import pytest

from aicommons.app import job_handlers
from aicommons.core.jobs import Worker
from aicommons.ledger import tokens
from tests.datasets import test_docs_datasets as curl

DOC = Path(__file__).parents[2] / "docs" / "problems.md"
EVENTS = ("create", "publish", "close")


@pytest.fixture
def examples(monkeypatch) -> list[tuple[str, int]]:
    monkeypatch.setattr(curl, "DOC", DOC)
    return curl.examples()


def test_the_doc_names_every_log_event_and_metric(examples):
    text = DOC.read_text()
    assert all(f"`problems:problem:{action}`" in text for action in EVENTS)
    assert all(
        f"`problems:{event}`" in text
        for event in ("evaluation:upload", "submission:create", "submission:score")
    )
    assert all(f"`{metric}`" in text for metric in ("rmse", "mae", "r2", "accuracy", "roc_auc", "log_loss"))
    team = ("create", "invite", "request", "accept", "approve", "decline", "remove")
    assert all(f"`problems:team:{action}`" in text for action in team)


def test_the_curl_examples_answer_as_documented(client, examples, make_member, token_for, factory, settings):
    owner, solver, bashir, chen = (make_member(handle) for handle in ("owner", "solver", "bashir", "chen"))
    with factory.begin() as db:
        tokens.mint(db, key="docs/owner", target=tokens.member_account(owner.id), amount=100, reason="test")
    variables = {
        "COMMONS": "http://testserver",
        "SOLVER_TOKEN": _bare(token_for(solver)),
        "TOKEN": _bare(token_for(owner)),
        "BASHIR_TOKEN": _bare(token_for(bashir)),
        "CHEN_TOKEN": _bare(token_for(chen)),
    }
    worker = Worker(factory, job_handlers(settings), heartbeat_seconds=5, timeout_seconds=60)
    for command, status in examples:
        while worker.run_once() is not None:
            pass
        sent = curl.request_of(command, variables)
        answer = client.request(sent["method"], sent["url"], headers=sent["headers"], content=sent["content"])
        assert answer.status_code == status, f"{command}\n→ {answer.status_code} {answer.text[:300]}"
    mine = client.get("/api/v1/problems/village-floods/submissions/mine", headers=token_for(solver)).json()
    assert [one["state"] for one in mine] == ["failed", "scored"]
    team = client.get("/api/v1/problems/village-floods/team", headers=token_for(chen)).json()
    assert (team["team"], team["members"]) == ("river-watch", ["bashir", "chen", "solver"])


def _bare(headers: dict[str, str]) -> str:
    return headers["Authorization"].removeprefix("Bearer ")
