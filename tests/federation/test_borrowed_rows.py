"""Data belongs to whoever registers it: a node's rows are uploaded by its owner, and rows that already
back a node cannot back another one, whatever their format, order or extra columns (the copycat attack
of issue 15: a node on another grower's file earned tokens and a share of the model card)."""

import pandas as pd
from sqlalchemy import func, select

from aicommons.federation.models import Node
from aicommons.ledger.models import LogRecord
from tests.federation.conftest import dataset_form, published_schema, register, upload_rows


def copycat_node(client, federated, headers, name="copycat") -> int:
    """A node of the copycat's own federated dataset with the same published schema."""
    dataset = client.post("/api/v1/datasets", json=dataset_form(), headers=headers).json()["slug"]
    schema = published_schema(pd.read_parquet(federated.files[0]))
    client.post(f"/api/v1/datasets/{dataset}/versions/federated", json=schema, headers=headers)
    created = client.post("/api/v1/nodes", json={"name": name, "dataset": dataset}, headers=headers)
    assert created.status_code == 201, created.text
    return int(created.json()["id"])


def test_a_node_cannot_name_a_file_on_the_server(client, federated, make_member, token_for):
    copycat = token_for(make_member("mallory"))
    copycat_node(client, federated, copycat)
    form = {"name": "borrowed", "dataset": federated.dataset, "data_path": str(federated.files[0])}
    answer = client.post("/api/v1/nodes", json=form, headers=copycat)
    assert (answer.status_code, answer.json()["code"]) == (422, "validation_failed")


def test_another_owners_rows_are_refused_as_csv_shuffled_and_with_an_extra_column(
    client, federated, make_member, token_for, tmp_path, factory
):
    assert register(client, federated, 0).status_code == 200
    copycat = token_for(make_member("mallory"))
    node = copycat_node(client, federated, copycat)
    rows = pd.read_parquet(federated.files[0]).sample(frac=1.0, random_state=1)
    rows["note"] = "mine"
    disguised = tmp_path / "mine.csv"
    rows.to_csv(disguised, index=False)
    with factory() as db:
        entries = db.scalar(select(func.count()).select_from(LogRecord))
    refused = upload_rows(client, node, disguised, copycat)
    assert (refused.status_code, refused.json()["code"]) == (409, "node_rows_taken")
    assert "100% of these rows already back another node" in refused.json()["detail"]
    with factory() as db:
        found = db.get(Node, node)
        assert (found.data_blob, found.rows, found.rows_fingerprint) == (None, 0, None)
        assert db.scalar(select(func.count()).select_from(LogRecord)) == entries


def test_a_part_of_another_nodes_rows_is_refused_and_fresh_rows_are_not(
    client, federated, make_member, token_for, tmp_path
):
    assert register(client, federated, 0).status_code == 200
    copycat = token_for(make_member("mallory"))
    node = copycat_node(client, federated, copycat)
    theirs = pd.read_parquet(federated.files[0])
    own = pd.read_parquet(federated.files[1])
    mixed = tmp_path / "mixed.parquet"
    pd.concat([own, theirs.iloc[:20]]).to_parquet(mixed, index=False)  # 20 of 125 rows borrowed: 16%
    assert upload_rows(client, node, mixed, copycat).json()["code"] == "node_rows_taken"
    honest = upload_rows(client, node, federated.files[1], copycat)
    assert honest.status_code == 200, honest.text
    assert (honest.json()["rows"], honest.json()["awaiting_rows"]) == (len(own), False)


def test_one_owner_cannot_back_two_nodes_with_the_same_rows(client, federated):
    assert register(client, federated, 0).status_code == 200
    twice = register(client, federated, 0, name="clinic-0-again")
    assert (twice.status_code, twice.json()["code"]) == (409, "node_rows_taken")


def test_a_node_replaces_its_own_rows(client, federated, factory):
    node = register(client, federated, 0).json()["id"]
    with factory() as db:
        first = db.get(Node, node).rows_fingerprint
    again = upload_rows(client, node, federated.files[0], federated.owner_headers)
    assert again.status_code == 200  # its own rows do not count as another node's
    replaced = upload_rows(client, node, federated.files[1], federated.owner_headers)
    assert replaced.status_code == 200
    with factory() as db:
        assert db.get(Node, node).rows_fingerprint not in {None, first}


def test_a_node_waiting_for_its_rows_takes_part_in_no_run(client, federated, make_member, token_for):
    register(client, federated, 0)
    form = {"name": "clinic-9", "dataset": federated.dataset}
    assert client.post("/api/v1/nodes", json=form, headers=federated.owner_headers).status_code == 201
    solver = token_for(make_member("liam"))
    refused = client.post(f"/api/v1/problems/{federated.slug}/runs", json={"min_nodes": 2}, headers=solver)
    assert refused.json()["code"] == "not_enough_nodes"
    assert refused.json()["refusals"] == {
        "clinic-9": "the node has no rows yet: its owner uploads them first"
    }
