"""The demo commons' problems: baselines scored by the real job, and one problem closed with its payout.

Seeding the demo takes seconds, so each test checks several things of one seed."""

import pytest
from sqlalchemy import select

from aicommons.core.blobs import BlobStore
from aicommons.core.db import unit_of_work
from aicommons.demo import seed
from aicommons.ledger import tokens
from aicommons.problems.models import Problem, Team

OPEN = ("bedside-biopsy-triage", "diabetes-progression-forecast")
CLOSED = "wine-cultivar-check"


@pytest.fixture
def demo(factory, settings) -> None:
    with unit_of_work(factory) as session:
        seed(session, store=BlobStore(settings.blob_dir))


def test_the_demo_lists_open_problems_first_and_the_closed_one_last(client, demo):
    listed = client.get("/api/v1/problems").json()["items"]
    assert [(item["slug"], item["state"]) for item in listed] == [
        *((slug, "open") for slug in OPEN),
        (CLOSED, "closed"),
    ]
    assert {item["task"] for item in listed} == {"binary", "regression", "multiclass"}
    assert all(item["statement"] and item["sdg_targets"] and item["dataset_versions"] for item in listed)


def test_open_demo_problems_rank_scored_baselines_on_their_public_boards(client, demo, factory):
    for slug in OPEN:
        board = client.get(f"/api/v1/problems/{slug}/leaderboard").json()
        assert len(board["rows"]) == 3
        assert all(row["low"] <= row["score"] <= row["high"] for row in board["rows"])
        refused = client.get(f"/api/v1/problems/{slug}/leaderboard?board=private").json()
        assert refused["code"] == "problem_still_open"
    roc = client.get(f"/api/v1/problems/{OPEN[0]}/leaderboard").json()["rows"]
    assert roc[-1]["team"] == "ana" and roc[-1]["score"] == 0.5 and roc[0]["score"] > 0.95
    assert "bedside-ml" in {row["team"] for row in roc}
    with factory() as db:
        team = db.scalars(select(Team).where(Team.name == "bedside-ml")).one()
        assert sorted(row.member.handle for row in team.members) == ["grace", "priya"]


def test_the_closed_demo_problem_shows_its_private_board_and_paid_its_bounty(client, demo, factory):
    shown = client.get(f"/api/v1/problems/{CLOSED}").json()
    assert shown["closed_at"] and shown["rank_correlation"] is not None
    private = client.get(f"/api/v1/problems/{CLOSED}/leaderboard?board=private").json()
    assert len(private["rows"]) == 4 and private["rows"][-1]["team"] == "priya"
    with factory() as db:
        problem = db.query(Problem).filter_by(slug=CLOSED).one()
        assert tokens.balance(db, tokens.escrow_account(f"bounty:{problem.id}")) == 0
