"""`aicommons problems …` against a running commons: list, show, submit --wait, the leaderboard, refusals."""

import json

import pytest

from aicommons.sdk import Client
from tests.cli.test_cli import aicommons
from tests.conftest import PASSWORD
from tests.problems.test_api import predictions
from tests.sdk.test_problems_sdk import open_problem


@pytest.fixture
def remote_env(env, live_server, make_member, token_for) -> dict[str, str]:
    """The environment of a solver, ana, on a commons with one open problem."""
    make_member("owner")
    with Client(live_server) as owner:
        owner.login("owner", PASSWORD)
        open_problem(owner)
    secret = token_for(make_member("ana"))["Authorization"].removeprefix("Bearer ")
    return env | {"AICOMMONS_SERVER": live_server, "AICOMMONS_TOKEN": secret}


def test_list_and_show(remote_env):
    listed = json.loads(
        aicommons("problems", "list", "--sdg", "13", "--format", "json", env=remote_env).stdout
    )
    assert [(found["slug"], found["state"]) for found in listed["items"]] == [("flood-or-not", "open")]
    shown = aicommons("problems", "show", "flood-or-not", env=remote_env)
    assert shown.returncode == 0, shown.stderr
    assert "binary, scored by accuracy" in shown.stdout and "11.5, 13.1" in shown.stdout


def test_submit_waits_for_the_score_which_the_leaderboard_shows(remote_env, tmp_path):
    path = tmp_path / "answers.csv"
    path.write_bytes(predictions(1))
    sent = aicommons(
        "problems", "submit", "flood-or-not", str(path), "--note", "first", "--wait", env=remote_env
    )
    assert sent.returncode == 0, sent.stderr
    assert "Submitted #1 to flood-or-not as team ana." in sent.stdout
    assert "Scored: 1.0000" in sent.stdout
    board = json.loads(
        aicommons("problems", "leaderboard", "flood-or-not", "--format", "json", env=remote_env).stdout
    )
    assert [(row["rank"], row["team"], row["score"]) for row in board["rows"]] == [(1, "ana", 1.0)]


@pytest.mark.parametrize(
    ("name", "content", "status", "message"),
    [
        ("notes.txt", "id,prediction\n", 2, "submit predictions as a .csv file"),
        ("bad.csv", "id,prediction\nr0,yes\nr0,no\nr1,maybe\n", 1, "bad_submission"),
    ],
)
def test_bad_files_exit_with_a_message(remote_env, tmp_path, name, content, status, message):
    (tmp_path / name).write_text(content)
    result = aicommons("problems", "submit", "flood-or-not", str(tmp_path / name), "--wait", env=remote_env)
    assert result.returncode == status, result.stdout + result.stderr
    assert message in " ".join(result.stderr.split())
