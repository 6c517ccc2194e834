"""`aicommons federation …` against a running commons whose worker trains: the nodes, a run followed with
--wait, its rounds, the model's card and its predictions, and the refusals."""

import json

import pytest

from aicommons.core.slugs import slugify
from tests.cli.conftest import env  # noqa: F401 (the CLI tests' fixture)
from tests.cli.test_cli import aicommons
from tests.federation.conftest import evaluation_and_kept_rows, register


@pytest.fixture
def remote_env(env, live_server, client, federated, make_member, token_for) -> dict[str, str]:  # noqa: F811
    """A solver's environment on a commons whose problem has three clinics' nodes."""
    for number in range(3):
        assert register(client, federated, number).status_code == 200
    secret = token_for(make_member("liam"))["Authorization"].removeprefix("Bearer ")
    return env | {"AICOMMONS_SERVER": live_server, "AICOMMONS_TOKEN": secret}


def test_a_run_is_started_followed_and_its_model_used(remote_env, federated, tmp_path):
    listed = aicommons("federation", "nodes", federated.slug, "--format", "json", env=remote_env)
    assert [node["name"] for node in json.loads(listed.stdout)] == ["clinic-0", "clinic-1", "clinic-2"]
    trained = aicommons(
        "federation", "train", federated.slug, "--rounds", "2", "--min-nodes", "3", "--wait", env=remote_env
    )
    assert trained.returncode == 0, trained.stderr
    assert (
        "Queued run 1 on nodes [1, 2, 3]." in trained.stdout and "Run 1 succeeded: accuracy" in trained.stdout
    )
    rounds = json.loads(aicommons("federation", "run", "1", "--format", "json", env=remote_env).stdout)
    assert [one["number"] for one in rounds["completed_rounds"]] == [1, 2]
    slug = slugify(f"{federated.slug}-run-1", fallback_prefix="model")
    card = aicommons("federation", "model", slug, env=remote_env)
    assert card.returncode == 0 and f"member:{federated.owner.id}" in card.stdout
    held_out, _ = evaluation_and_kept_rows()
    rows = tmp_path / "rows.csv"
    held_out.head(3).drop(columns=["case", "diagnosis"]).to_csv(rows, index=False)
    predicted = json.loads(
        aicommons("federation", "predict", slug, str(rows), "--format", "json", env=remote_env).stdout
    )
    assert len(predicted["predictions"]) == 3


def test_a_run_the_nodes_refuse_exits_with_the_reason(remote_env, federated):
    refused = aicommons("federation", "train", federated.slug, "--min-nodes", "9", env=remote_env)
    assert refused.returncode == 1 and "not_enough_nodes" in refused.stderr
    bad = aicommons("federation", "train", federated.slug, "--rounds", "0", env=remote_env)
    assert bad.returncode == 2


def test_a_run_trains_on_the_nodes_chosen_on_the_command_line(remote_env, federated):
    chosen = aicommons(
        "federation", "train", federated.slug, "--node", "1", "--node", "3", "--seed", "7", env=remote_env
    )
    assert chosen.returncode == 0, chosen.stderr
    assert "Queued run 1 on nodes [1, 3]." in chosen.stdout
    unknown = aicommons("federation", "train", federated.slug, "--node", "99", env=remote_env)
    assert unknown.returncode == 1 and "validation_failed" in unknown.stderr
