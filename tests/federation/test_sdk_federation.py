"""The SDK's federated learning against a live commons whose worker trains: start a run for a problem,
wait for it, and use the model it registered."""

import pandas as pd
import pytest

from aicommons.sdk import Commons, RemoteError
from tests.federation.conftest import evaluation_and_kept_rows, register
from tests.sdk.conftest import commons_of, secret_of  # noqa: F401 (the SDK tests' fixtures)


def test_a_solver_trains_a_model_from_python_and_predicts_with_it(client, federated, make_member, commons_of):  # noqa: F811
    for number in range(3):
        assert register(client, federated, number).status_code == 200
    solver: Commons = commons_of(make_member("liam"))
    problem = solver.problems.get(federated.slug)
    private = {"clip_norm": 2.0, "noise_multiplier": 0.7}  # DP-SGD on every node
    run = problem.train(rounds=2, local_epochs=2, min_nodes=3, **private).wait(timeout=300)
    assert run.state == "succeeded" and [one["number"] for one in run.completed_rounds] == [1, 2]
    spent = [one["epsilon"] for one in run.completed_rounds]
    assert 0 < spent[0] < spent[1]  # the privacy spent so far, reported each round
    model = solver.models.of_problem(federated.slug)[0]
    held_out, _ = evaluation_and_kept_rows()
    predicted = model.predict(held_out[model.architecture["features"]].head(20))
    truth = held_out["diagnosis"].head(20).tolist()
    assert sum(one["label"] == label for one, label in zip(predicted, truth, strict=True)) >= 15
    saved = federated.files[0].parent / "model.npz"
    assert model.download(saved) == saved and saved.read_bytes().startswith(b"PK")
    with pytest.raises(RemoteError) as refused:
        solver.runs.start(federated.slug, rounds=0)
    assert refused.value.code == "validation_failed"


def test_a_data_owner_registers_a_node_and_uploads_its_rows_from_python(federated, commons_of):  # noqa: F811
    owner: Commons = commons_of(federated.owner)
    node = owner.runs.register_node(name="clinic-py", dataset=federated.dataset, max_rounds=20)
    assert (node["awaiting_rows"], node["rows"]) == (True, 0)
    sent = []
    stored = owner.runs.upload_rows(
        node["id"], federated.files[0], progress=lambda done, _: sent.append(done)
    )
    assert (stored["awaiting_rows"], stored["rows"]) == (
        False,
        len(pd.read_parquet(federated.files[0])),
    ) and sent
    copy = owner.runs.register_node(name="clinic-copy", dataset=federated.dataset)
    with pytest.raises(RemoteError) as refused:
        owner.runs.upload_rows(copy["id"], federated.files[0])
    assert refused.value.code == "node_rows_taken"
    with pytest.raises(ValueError, match=r"upload a \.csv or \.parquet file"):
        owner.runs.upload_rows(copy["id"], federated.files[0].with_suffix(".txt"))
