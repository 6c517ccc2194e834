"""The SDK's problems against a live commons: find one, submit predictions, wait for the score, the boards."""

import io

import pandas as pd
import pytest

from aicommons.sdk import Client, Commons, Problem, RemoteError
from tests.problems.test_api import EVALUATION, predictions, problem_form


def open_problem(client: Client, **changes) -> str:
    """Publish a problem through the API as its owner, the way a problem owner would; return its slug."""
    slug = client._call("POST", "/problems", json=problem_form(bounty=0) | changes)["slug"]
    client._call(
        "POST", f"/problems/{slug}/evaluation", content=EVALUATION, headers={"Content-Type": "text/csv"}
    )
    client._call("POST", f"/problems/{slug}/publish")
    return str(slug)


def right_answers() -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(predictions(1)))


@pytest.fixture
def flood(make_member, commons_of) -> str:
    return open_problem(commons_of(make_member("owner")).client)


@pytest.fixture
def solver(make_member, commons_of) -> Commons:
    return commons_of(make_member("ana"))


def test_problems_are_found_by_goal_and_shown_with_their_rules(solver, flood):
    assert [found.slug for found in solver.problems.search(sdg=13)] == [flood]
    assert solver.problems.search(sdg=3) == []
    problem = solver.problems.get(flood)
    assert (problem.title, problem.task, problem.metric, problem.state) == (
        "Flood or not",
        "binary",
        "accuracy",
        "open",
    )
    assert (problem.classes, problem.evaluation_rows, problem.daily_limit) == (["no", "yes"], 60, 3)


def test_a_dataframe_and_a_file_are_scored_ranked_and_chosen_as_finals(solver, flood, tmp_path):
    problem = solver.problems.get(flood)
    frame = right_answers()
    best = problem.wait_for_score(problem.submit(frame, note="all right"))
    assert (best.state, best.public_score, best.note, best.private_score) == (
        "scored",
        1.0,
        "all right",
        None,
    )
    path = tmp_path / "half.csv"
    path.write_bytes(predictions(2))
    seen: list[tuple[int, int | None]] = []
    worse = problem.wait_for_score(problem.submit(path, progress=lambda *done: seen.append(done)))
    assert seen[-1] == (path.stat().st_size, path.stat().st_size)
    assert worse.public_score is not None and worse.public_score < 1.0
    assert [one.id for one in problem.submissions()] == [worse.id, best.id]
    board = problem.leaderboard()
    assert [(row["rank"], row["team"], row["score"]) for row in board["rows"]] == [(1, "ana", 1.0)]
    assert [one.id for one in problem.select_finals([worse.id])] == [worse.id]
    with pytest.raises(RemoteError) as hidden:
        problem.leaderboard(private=True)
    assert hidden.value.code == "problem_still_open"


def test_members_who_join_a_team_submit_as_that_team(solver, flood, make_member, commons_of):
    founder = solver.problems.get(flood)
    assert founder.join_team("river-watch") == {"team": "river-watch", "members": ["ana"]}
    teammate: Problem = commons_of(make_member("ben")).problems.get(flood)
    assert founder.invite("ben")["state"] == "pending"
    invitation = teammate.team()["invitations"][0]
    assert (invitation["team"], invitation["invited_by"]) == ("river-watch", "ana")
    assert teammate.accept_invitation(invitation["id"])["state"] == "accepted"
    assert teammate.team()["members"] == ["ana", "ben"]
    submitted = teammate.submit(right_answers())
    assert submitted.team == "river-watch"
    assert [one.id for one in solver.problems.submissions(flood)] == [submitted.id]


def test_a_team_is_joined_by_asking_not_by_naming_it(solver, flood, make_member, commons_of):
    solver.problems.get(flood).join_team("river-watch")
    stranger: Problem = commons_of(make_member("mal")).problems.get(flood)
    with pytest.raises(RemoteError) as refused:
        stranger.join_team("river-watch")
    assert refused.value.code == "team_consent_required"
    asked = stranger.ask_to_join("river-watch")
    assert [row["member"] for row in solver.problems.get(flood).team()["requests"]] == ["mal"]
    assert solver.problems.get(flood).decline_request(asked["id"])["state"] == "declined"
    assert stranger.team()["team"] is None


def test_bad_files_fail_with_their_problems_and_limits_are_refused(solver, flood, tmp_path):
    problem = solver.problems.get(flood)
    bad = tmp_path / "bad.csv"
    bad.write_text("id,prediction\nr0,yes\nr0,no\nr1,maybe\n")
    failed = problem.wait_for_score(problem.submit(bad))
    assert failed.state == "failed" and failed.error is not None
    assert {"row", "column", "value", "issue"} <= set(failed.error["problems"][0])
    (tmp_path / "notes.txt").write_text("id,prediction\n")
    with pytest.raises(ValueError, match=r"\.csv file"):
        problem.submit(tmp_path / "notes.txt")
    with pytest.raises(FileNotFoundError):
        problem.submit(tmp_path / "missing.csv")
    good = tmp_path / "good.csv"
    good.write_bytes(predictions(1))
    for _ in range(3):
        problem.submit(good)
    with pytest.raises(RemoteError) as limited:
        problem.submit(good)
    assert (limited.value.status, limited.value.code) == (429, "submission_limit")
