"""Nodes and runs without Flower: who may register a node, what its file must hold, which runs its policy
refuses, and how a round's rewards and log entry come out of a round report."""

from dataclasses import dataclass

import numpy as np
import pytest
from sqlalchemy import select, update

from aicommons.app import job_handlers
from aicommons.core.blobs import BlobStore
from aicommons.core.jobs import Job, JobState, Worker
from aicommons.federation import learning, plans, service
from aicommons.federation.models import TrainingRun
from aicommons.federation.plans import Participant, RoundReport
from aicommons.ledger import tokens
from aicommons.ledger.models import LogRecord
from aicommons.members.models import Member
from tests.federation.conftest import register, upload_rows


def test_only_the_datasets_owners_register_nodes_with_rows_that_match_its_schema(
    client, federated, make_member, token_for, tmp_path
):
    assert register(client, federated, 0).status_code == 200
    again = register(client, federated, 1, name="clinic-0")
    assert (again.status_code, again.json()["code"]) == (409, "node_exists")
    stranger = register(client, federated, 1, headers=token_for(make_member("mallory")))
    assert (stranger.status_code, stranger.json()["code"]) == (403, "forbidden")
    waiting = client.post(
        "/api/v1/nodes",
        json={"name": "clinic-1", "dataset": federated.dataset},
        headers=federated.owner_headers,
    ).json()
    assert (waiting["simulated"], waiting["awaiting_rows"], waiting["rows"]) == (True, True, 0)
    other = tmp_path / "other.csv"
    other.write_text("case,height\nc1,170\n")
    wrong = upload_rows(client, waiting["id"], other, federated.owner_headers)
    assert wrong.json()["code"] == "bad_data" and "lack the published columns" in wrong.json()["detail"]
    not_theirs = upload_rows(client, waiting["id"], federated.files[1], token_for(make_member("eve")))
    assert (not_theirs.status_code, not_theirs.json()["code"]) == (403, "forbidden")
    paths = {"data_path": str(federated.files[1])}  # a path on the server is no longer a way to register
    form = {"name": "c9", "dataset": federated.dataset} | paths
    by_path = client.post("/api/v1/nodes", json=form, headers=federated.owner_headers)
    assert (by_path.status_code, by_path.json()["code"]) == (422, "validation_failed")
    both = register(client, federated, 2, rows=10)  # a simulated node's rows are counted, not stated
    assert (both.status_code, both.json()["code"]) == (422, "validation_failed")
    listed = client.get(f"/api/v1/problems/{federated.slug}/nodes").json()
    assert [(node["name"], node["awaiting_rows"], node["rows"]) for node in listed] == [
        ("clinic-0", False, 105),
        ("clinic-1", True, 0),
    ]


def test_a_run_needs_enough_nodes_whose_policies_accept_it(client, federated, make_member, token_for):
    register(client, federated, 0, require_privacy=True)
    register(client, federated, 1, max_local_epochs=1)
    solver = token_for(make_member("liam"))
    refused = client.post(f"/api/v1/problems/{federated.slug}/runs", json={"local_epochs": 2}, headers=solver)
    body = refused.json()
    assert (refused.status_code, body["code"]) == (409, "not_enough_nodes")
    assert body["refusals"] == {
        "clinic-0": "this node trains only with differential privacy",
        "clinic-1": "at most 50 rounds of 1 local epochs",
    }
    private = {"local_epochs": 1, "clip_norm": 1.0, "noise_multiplier": 1.0, "min_nodes": 1, "nodes": []}
    none_chosen = client.post(f"/api/v1/problems/{federated.slug}/runs", json=private, headers=solver)
    assert none_chosen.json()["code"] == "not_enough_nodes"
    started = client.post(
        f"/api/v1/problems/{federated.slug}/runs", json=private | {"nodes": None}, headers=solver
    )
    assert started.status_code == 202 and len(started.json()["node_ids"]) == 2


@pytest.mark.parametrize(
    "form",
    [
        {"rounds": 0},
        {"noise_multiplier": 1.0},  # noise without clipping
        {"proximal_mu": 0.1},  # FedProx's term with FedAvg
        {"license": "not-a-license"},
        {"family": "transformer"},
        {"unknown": 1},
    ],
)
def test_bad_run_settings_are_refused_and_queue_nothing(
    client, federated, make_member, token_for, form, factory
):
    register(client, federated, 0)
    refused = client.post(
        f"/api/v1/problems/{federated.slug}/runs", json=form, headers=token_for(make_member("liam"))
    )
    assert (refused.status_code, refused.json()["code"]) == (422, "validation_failed")
    with factory() as db:
        assert db.scalars(select(TrainingRun)).all() == []


def _report(run: TrainingRun, values: list[float], left_out: list[str | None]) -> RoundReport:
    architecture = learning.Architecture(family=learning.Family.LOGISTIC, features=8, outputs=2)
    weights = learning.initial_weights(architecture, seed=1)
    participants = tuple(
        Participant(node, 100, plans.update_hash(weights), value, reason)
        for node, value, reason in zip(run.node_ids, values, left_out, strict=True)
    )
    return RoundReport(1, weights, participants, "exact_shapley", {"accuracy": 0.9})


def test_a_rounds_reward_follows_positive_contributions_and_is_on_the_log(
    client, federated, make_member, token_for, factory
):
    for number in range(3):
        register(client, federated, number)
    started = client.post(
        f"/api/v1/problems/{federated.slug}/runs", json={}, headers=token_for(make_member("liam"))
    ).json()
    with factory.begin() as db:
        tokens.set_parameter(db, "reward:federation:round", 100)
        run = service.get_run(session=db, run_id=started["id"])
        report = _report(run, [0.03, 0.01, -0.02], [None, None, "negative contribution: -0.02"])
        row = service.record_round(session=db, run=run, report=report, epsilon=None)
    assert [part["reward"] for part in row.participants] == [75, 25, 0]
    with factory() as db:
        assert tokens.balance(db, tokens.member_account(federated.owner.id)) == 100
        entry = db.scalars(select(LogRecord).where(LogRecord.event == "federation:round:complete")).one()
    assert b'"method":"exact_shapley"' in entry.body and b'"value":"-0.02"' in entry.body


@dataclass(frozen=True)
class Trained:
    slug: str
    features: list[str]
    creator: Member


@pytest.fixture
def trained(client, federated, make_member, token_for, factory, settings) -> Trained:
    """A model as a two-node run by liam registers it: rounds recorded and the model stored by the real
    service functions (the run's job marked done instead of training on Ray)."""
    for number in range(2):
        register(client, federated, number)
    liam = make_member("liam")
    started = client.post(f"/api/v1/problems/{federated.slug}/runs", json={}, headers=token_for(liam)).json()
    with factory.begin() as db:
        run = service.get_run(session=db, run_id=started["id"])
        service.record_round(session=db, run=run, report=_report(run, [0.1, 0.1], [None, None]), epsilon=None)
        architecture = learning.Architecture(family=learning.Family.LOGISTIC, features=8, outputs=2)
        weights = learning.initial_weights(architecture, seed=2)
        model = service.finish(session=db, store=BlobStore(settings.blob_dir), run=run, weights=weights)
        db.execute(update(Job).where(Job.id == run.job_id).values(state=JobState.SUCCEEDED))
        return Trained(model.slug, model.architecture["features"], liam)


def test_predictions_need_every_feature_as_a_number(client, trained):
    slug, features = trained.slug, trained.features
    bad = client.post(f"/api/v1/models/{slug}/predictions", json={"rows": [{features[0]: 1.0}]})
    assert (bad.status_code, bad.json()["code"]) == (422, "validation_failed")
    good = client.post(f"/api/v1/models/{slug}/predictions", json={"rows": [dict.fromkeys(features, 1.0)]})
    probabilities = good.json()["predictions"][0]["probabilities"]
    assert set(probabilities) == {"benign", "malignant"} and np.isclose(sum(probabilities.values()), 1.0)
    assert client.get("/api/v1/models/nothing-here").json()["code"] == "model_not_found"
    assert client.get("/api/v1/runs/999").json()["code"] == "run_not_found"


def test_a_priced_model_charges_each_request_and_pays_its_contributors(
    client, trained, federated, make_member, token_for, factory
):
    ana = make_member("ana")
    path, row = f"/api/v1/models/{trained.slug}", {"rows": [dict.fromkeys(trained.features, 1.0)]}
    refused = client.put(f"{path}/price", json={"price": 5}, headers=token_for(ana))
    assert (refused.status_code, refused.json()["code"]) == (403, "forbidden")
    assert (
        client.put(f"{path}/price", json={"price": 5}, headers=token_for(trained.creator)).status_code == 200
    )
    assert client.post(f"{path}/predictions", json=row).json()["code"] == "not_authenticated"
    broke = client.post(f"{path}/predictions", json=row, headers=token_for(ana))
    assert (broke.status_code, broke.json()["code"]) == (409, "insufficient_funds")
    with factory.begin() as db:
        tokens.mint(db, key="test/ana", target=tokens.member_account(ana.id), amount=12, reason="test")
    assert client.post(f"{path}/predictions", json={"rows": [{}]}, headers=token_for(ana)).status_code == 422
    paid = client.post(f"{path}/predictions", json=row, headers=token_for(ana)).json()
    assert paid["fees"] == {f"member:{federated.owner.id}": 5}
    with factory() as db:
        assert tokens.balance(db, tokens.member_account(ana.id)) == 7  # the bad request cost nothing
        assert tokens.balance(db, tokens.member_account(federated.owner.id)) == 15  # 10 (round) + 5


def test_a_model_is_submitted_to_its_problems_leaderboard(
    client, trained, federated, token_for, settings, factory
):
    headers = token_for(trained.creator)
    sent = client.post(f"/api/v1/models/{trained.slug}/submission", headers=headers)
    assert (sent.status_code, sent.json()["note"]) == (201, f"federated model {trained.slug}")
    assert sent.json()["datasets"]  # the federated dataset's version it was trained on
    worker = Worker(factory, job_handlers(settings), heartbeat_seconds=5, timeout_seconds=60)
    while worker.run_once() is not None:
        pass
    board = client.get(f"/api/v1/problems/{federated.slug}/leaderboard").json()
    assert [row["team"] for row in board["rows"]] == ["liam"]
