"""Revision 0005 gives the teams of a commons that already has scored submissions their standing."""

from datetime import timedelta

import sqlalchemy as sa

from aicommons.core import migrate
from aicommons.core.db import make_engine, utcnow

NOW = utcnow()
PROBLEM = {
    "id": 1,
    "slug": "older",
    "title": "A problem scored before standings were kept",
    "statement": "",
    "task": "regression",
    "metric": "rmse",  # lower is better: the best submission is the smallest score
    "id_column": "id",
    "target_column": "y",
    "classes": [],
    "input_columns": [],
    "evaluation_rows": 10,
    "public_percent": 30,
    "split_seed": 1,
    "opens_at": NOW - timedelta(days=2),
    "closes_at": NOW + timedelta(days=2),
    "daily_limit": 5,
    "total_limit": 100,
    "team_size_limit": 5,
    "bounty": 0,
    "payout_rule": "winner",
    "dividend_percent": 10,
    "state": "open",
    "created_at": NOW,
}


def _submission(number: int, team: int, score: float) -> dict:
    at = NOW - timedelta(hours=10 - number)
    return {
        "id": number,
        "problem_id": 1,
        "team_id": team,
        "blob_sha256": "0" * 64,
        "size_bytes": 1,
        "note": "",
        "state": "scored",
        "public_score": score,
        "public_low": score - 0.1,
        "public_high": score + 0.1,
        "private_score": score,
        "selected": False,
        "datasets": [],
        "created_at": at,
        "scored_at": at,
    }


def test_existing_teams_get_their_best_score_and_count(tmp_path):
    url = f"sqlite:///{tmp_path / 'older.db'}"
    migrate.upgrade(url, "0004")
    engine = make_engine(url)
    tables = sa.MetaData()
    tables.reflect(engine, only=["problem", "team", "submission"])
    submissions = [
        _submission(1, 1, 0.9),
        _submission(2, 1, 0.4),
        _submission(3, 1, 0.7),
        _submission(4, 2, 0.5),
    ]
    with engine.begin() as connection:
        connection.execute(tables.tables["problem"].insert(), [PROBLEM])
        teams = [{"id": n, "problem_id": 1, "name": f"team-{n}", "created_at": NOW} for n in (1, 2, 3)]
        connection.execute(tables.tables["team"].insert(), teams)
        connection.execute(tables.tables["submission"].insert(), submissions)
    migrate.upgrade(url)
    with engine.connect() as connection:
        rows = connection.execute(
            sa.text("SELECT id, public_score, scored_submissions, private_rank FROM team ORDER BY id")
        ).all()
    engine.dispose()
    assert [tuple(row) for row in rows] == [(1, 0.4, 3, None), (2, 0.5, 1, None), (3, None, 0, None)]
