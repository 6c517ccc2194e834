"""A federated training run end to end, on Flower's simulation engine with four nodes, one of them
poisoned and one that drops out: rounds valued and rewarded on the log, the poisoned node left out, the
run going on without the lost one, a model registered."""

import json

import numpy as np
import pandas as pd
from sqlalchemy import select

from aicommons.app import job_handlers
from aicommons.core.blobs import BlobStore
from aicommons.core.jobs import Worker
from aicommons.federation import flower, learning, service
from aicommons.federation import nodes as federation_nodes
from aicommons.federation.models import Node
from aicommons.ledger import tokens
from aicommons.ledger.models import LogRecord
from aicommons.problems.models import Problem
from tests.federation.conftest import register, run_figures


def run_jobs(settings, factory) -> None:
    worker = Worker(factory, job_handlers(settings), heartbeat_seconds=5, timeout_seconds=600)
    while worker.run_once() is not None:
        pass


def lose_rows(settings, factory, node_id: int) -> None:
    with factory() as db:
        BlobStore(settings.blob_dir).path(db.get(Node, node_id).data_blob).unlink()


def test_a_run_values_the_nodes_rewards_the_helpful_leaves_out_the_poisoned_and_makes_a_model(
    client, federated, make_member, token_for, settings, factory
):
    nodes = [register(client, federated, number).json()["id"] for number in range(4)]
    lose_rows(
        settings, factory, nodes[2]
    )  # that clinic's machine loses its data: it drops out of every round
    solver = token_for(make_member("liam"))
    form = {"rounds": 3, "local_epochs": 2, "min_nodes": 3, "license": "CC-BY-SA-4.0"}
    started = client.post(f"/api/v1/problems/{federated.slug}/runs", json=form, headers=solver)
    assert started.status_code == 202, started.text
    assert (started.json()["state"], started.json()["node_ids"]) == ("queued", nodes)
    run_jobs(settings, factory)

    run = client.get(f"/api/v1/runs/{started.json()['id']}").json()
    assert (run["state"], run["progress"], len(run["completed_rounds"])) == ("succeeded", 1.0, 3)
    rounds = run["completed_rounds"]
    assert rounds[-1]["metrics"]["accuracy"] > 0.85
    assert {one["method"] for one in rounds} == {"exact_shapley"}
    poisoned = [part for one in rounds for part in one["participants"] if part["node"] == nodes[3]]
    assert len(poisoned) >= 2  # a node may join after the first round was sampled
    assert all(part["node"] != nodes[2] for one in rounds for part in one["participants"])
    assert sum(one["dropped"] for one in rounds) >= 2
    assert all(part["left_out"].startswith("negative contribution") for part in poisoned)
    assert all(part["reward"] == 0 and part["value"] < 0 for part in poisoned)
    for one in rounds:
        assert sum(part["reward"] for part in one["participants"]) == 10
        assert sum(part["left_out"] is None for part in one["participants"]) >= 1
        assert all(len(part["update"]) == 64 for part in one["participants"])
    with factory() as db:
        assert tokens.balance(db, tokens.member_account(federated.owner.id)) == 30
        events = list(db.scalars(select(LogRecord.event).where(LogRecord.event.like("federation:%"))))
    assert events.count("federation:round:complete") == 3 and "federation:model:register" in events

    model = client.get(f"/api/v1/problems/{federated.slug}/models").json()[0]
    assert model["license"] == "CC-BY-SA-4.0" and model["card"]["problem"] == federated.slug
    assert [row["round"] for row in model["card"]["rounds"]] == [1, 2, 3]
    owner = f"member:{federated.owner.id}"
    assert model["contributors"] == [{"account": owner, "share": 1.0, "tokens": 30}]
    row = dict.fromkeys(model["architecture"]["features"], 14.0)
    predicted = client.post(f"/api/v1/models/{model['slug']}/predictions", json={"rows": [row]}).json()
    assert predicted["predictions"][0]["label"] in {"benign", "malignant"}
    assert client.get(f"/api/v1/models/{model['slug']}/weights").content.startswith(b"PK")


def test_a_node_sends_only_its_weights_its_row_count_and_its_id(
    client, federated, make_member, token_for, settings, factory, tmp_path
):
    """Every message the nodes send, as the ClientApp's outbox describes it, holds nothing else."""
    for number in range(3):
        register(client, federated, number)
    started = client.post(
        f"/api/v1/problems/{federated.slug}/runs", json={"rounds": 2}, headers=token_for(make_member("liam"))
    ).json()
    store = BlobStore(settings.blob_dir)
    with factory() as db:
        run = service.get_run(session=db, run_id=started["id"])
        problem = db.get(Problem, run.problem_id)
        evaluation = service.evaluation(store, problem, run)
        nodes = federation_nodes.node_data(store, run, list(db.scalars(select(Node))))
        run_settings = service.settings_of(run)
    outbox = tmp_path / "outbox"
    flower.simulate(evaluation, run_settings, nodes, lambda report: None, outbox=str(outbox))
    sent = [json.loads(path.read_text()) for path in outbox.glob("*.json")]
    assert len(sent) == 6  # three nodes, two rounds
    shapes = learning.weight_shapes(evaluation.plan.architecture)
    rows = {node.node_id: len(pd.read_parquet(node.path)) for node in nodes}
    for message in sent:
        records = message["records"]
        assert set(records) == {"arrays", "metrics", "node"}
        assert records["metrics"]["values"] == {"num-examples": rows[message["node"]]}
        assert records["node"]["values"] == {"node": message["node"]}
        assert [np.asarray(array).shape for array in records["arrays"]["arrays"]] == shapes


def queued_run(client, federated, solver, form) -> int:
    started = client.post(f"/api/v1/problems/{federated.slug}/runs", json=form, headers=solver)
    assert started.status_code == 202, started.text
    return started.json()["id"]


def test_the_same_run_twice_repeats_every_update_model_value_and_reward(
    client, federated, make_member, token_for, settings, factory
):
    """Same settings and seed, same rows: the same figures, whatever order the nodes answer in (the
    simulation engine starts afresh for each run). Krum and a private FedAvg diverged before."""
    for number in range(3):
        register(client, federated, number)
    solver = token_for(make_member("liam"))
    krum = {"rounds": 3, "strategy": "krum", "min_nodes": 3, "seed": 11}
    private = {"rounds": 3, "min_nodes": 3, "seed": 11, "clip_norm": 1.0, "noise_multiplier": 0.8}
    runs = [queued_run(client, federated, solver, form) for form in (krum, private, krum, private)]
    run_jobs(settings, factory)
    found = [client.get(f"/api/v1/runs/{run}").json() for run in runs]
    assert all(run["state"] == "succeeded" for run in found), [run["error"] for run in found]
    figures = [run_figures(run) for run in found]
    assert figures[0] == figures[2] and figures[1] == figures[3]
    assert figures[0] != figures[1]
    assert all(len(one) == 3 for one in figures)
