"""Problems through the JSON API: stating one, publishing with a bounty, submissions, scoring, the close."""

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from aicommons.app import job_handlers
from aicommons.core import jobs
from aicommons.core.blobs import BlobStore, sha256_of
from aicommons.core.db import utcnow
from aicommons.core.jobs import Worker
from aicommons.datasets.service import Upload
from aicommons.ledger import tokens
from aicommons.ledger.models import LogRecord
from aicommons.members.models import Member
from aicommons.problems import service
from aicommons.problems.jobs import close_chore
from aicommons.problems.models import Problem

EVALUATION = "id,label\n" + "".join(f"r{n},{'yes' if n % 3 == 0 else 'no'}\n" for n in range(60))


def predictions(correct_every: int = 1) -> bytes:
    """Labels for the 60 rows; every `correct_every`-th row right, the others wrong."""
    rows = []
    for n in range(60):
        truth = "yes" if n % 3 == 0 else "no"
        wrong = "no" if truth == "yes" else "yes"
        rows.append(f"r{n},{truth if n % correct_every == 0 else wrong}\n")
    return ("id,prediction\n" + "".join(rows)).encode()


def problem_form(**changes) -> dict:
    now = utcnow()
    return {
        "title": "Flood or not",
        "statement": "Predict whether the **village floods** this season.",
        "task": "binary",
        "metric": "accuracy",
        "id_column": "id",
        "target_column": "label",
        "sdg_targets": ["13.1", "11.5"],
        "opens_at": (now - timedelta(days=1)).isoformat(),
        "closes_at": (now + timedelta(days=30)).isoformat(),
        "bounty": 100,
        "payout_rule": "top3",
        "daily_limit": 3,
    } | changes


@pytest.fixture
def owner(make_member, factory):
    member = make_member("owner")
    with factory.begin() as db:
        tokens.mint(db, key="test/owner", target=tokens.member_account(member.id), amount=1000, reason="test")
    return member


@pytest.fixture
def published(client, owner, token_for):
    headers = token_for(owner)
    slug = client.post("/api/v1/problems", json=problem_form(), headers=headers).json()["slug"]
    sent = client.post(
        f"/api/v1/problems/{slug}/evaluation",
        content=EVALUATION,
        headers=headers | {"Content-Type": "text/csv"},
    )
    assert sent.status_code == 200, sent.text
    assert client.post(f"/api/v1/problems/{slug}/publish", headers=headers).json()["state"] == "open"
    return slug


def submit(client, slug, headers, body: bytes):
    return client.post(
        f"/api/v1/problems/{slug}/submissions", content=body, headers=headers | {"Content-Type": "text/csv"}
    )


def score_all(settings, factory) -> None:
    worker = Worker(factory, job_handlers(settings), heartbeat_seconds=5, timeout_seconds=60)
    while worker.run_once() is not None:
        pass


def test_publishing_moves_the_bounty_to_escrow(client, published, owner, factory):
    with factory() as db:
        assert tokens.balance(db, tokens.member_account(owner.id)) == 900
        assert tokens.balance(db, tokens.escrow_account("bounty:1")) == 100
    shown = client.get(f"/api/v1/problems/{published}").json()
    assert (shown["classes"], shown["evaluation_rows"], shown["sdg_targets"]) == (
        ["no", "yes"],
        60,
        ["11.5", "13.1"],
    )


def test_submissions_are_scored_and_ranked_on_the_public_board(
    client, published, make_member, token_for, settings, factory
):
    ana, ben = token_for(make_member("ana")), token_for(make_member("ben"))
    assert submit(client, published, ana, predictions(1)).status_code == 201
    assert submit(client, published, ben, predictions(2)).status_code == 201
    score_all(settings, factory)
    board = client.get(f"/api/v1/problems/{published}/leaderboard").json()
    assert [(row["rank"], row["team"]) for row in board["rows"]] == [(1, "ana"), (2, "ben")]
    top = board["rows"][0]
    assert top["score"] == 1.0 and top["low"] <= top["score"] <= top["high"]
    mine = client.get(f"/api/v1/problems/{published}/submissions/mine", headers=ben).json()
    assert mine[0]["state"] == "scored" and mine[0]["private_score"] is None
    assert (
        client.get(f"/api/v1/problems/{published}/leaderboard?board=private").json()["code"]
        == "problem_still_open"
    )


def test_a_team_stands_by_its_best_submission_not_its_latest(
    client, published, make_member, token_for, settings, factory
):
    ana, ben = token_for(make_member("ana")), token_for(make_member("ben"))
    assert submit(client, published, ana, predictions(1)).status_code == 201
    score_all(settings, factory)
    for body in (predictions(2), predictions(3)):
        assert submit(client, published, ana, body).status_code == 201
    assert submit(client, published, ben, predictions(2)).status_code == 201
    score_all(settings, factory)
    board = client.get(f"/api/v1/problems/{published}/leaderboard?size=1&page=2").json()
    assert (board["total"], [row["team"] for row in board["rows"]]) == (2, ["ben"])
    top = client.get(f"/api/v1/problems/{published}/leaderboard").json()["rows"][0]
    assert (top["team"], top["score"], top["submissions"]) == ("ana", 1.0, 3)


def test_a_bad_file_fails_precisely_and_does_not_count(
    client, published, make_member, token_for, settings, factory
):
    ana = token_for(make_member("ana"))
    bad = b"id,prediction\nr0,yes\nr0,no\nr1,maybe\n"
    for _ in range(3):
        assert submit(client, published, ana, bad).status_code == 201
    score_all(settings, factory)
    failed = client.get(f"/api/v1/problems/{published}/submissions/mine", headers=ana).json()
    assert {one["state"] for one in failed} == {"failed"}
    assert failed[0]["error"]["problems"]
    assert submit(client, published, ana, predictions(1)).status_code == 201  # failures did not use the limit


def test_the_daily_limit_and_the_window_are_enforced(client, published, make_member, token_for, factory):
    ana = token_for(make_member("ana"))
    for _ in range(3):
        assert submit(client, published, ana, predictions(1)).status_code == 201
    refused = submit(client, published, ana, predictions(1))
    assert (refused.status_code, refused.json()["code"]) == (429, "submission_limit")
    with factory.begin() as db:
        db.execute(update(Problem).values(closes_at=utcnow() - timedelta(minutes=1)))
    late = submit(client, make_member and published, token_for(make_member("late")), predictions(1))
    assert (late.status_code, late.json()["code"]) == (409, "problem_closed")


def test_closing_reveals_the_private_board_and_pays_winners_and_data_owners(
    client, published, owner, make_member, token_for, settings, factory
):
    solvers = {name: make_member(name) for name in ("ana", "ben", "cai", "dee")}
    # every row right, every 2nd, every 3rd, one in 60: far enough apart that whichever rows the random
    # split keeps private, the private ranks come out in this order
    for member, every in zip(solvers.values(), (1, 2, 3, 60), strict=True):
        assert submit(client, published, token_for(member), predictions(every)).status_code == 201
    score_all(settings, factory)
    with factory.begin() as db:
        db.execute(update(Problem).values(closes_at=utcnow() - timedelta(minutes=1)))
    early = client.post(f"/api/v1/problems/{published}/close", headers=token_for(solvers["ana"]))
    assert early.json()["code"] == "forbidden"
    closed = client.post(f"/api/v1/problems/{published}/close", headers=token_for(owner)).json()
    assert closed["state"] == "closed" and closed["rank_correlation"] is not None
    private = client.get(f"/api/v1/problems/{published}/leaderboard?board=private").json()
    assert [row["team"] for row in private["rows"]][:1] == ["ana"]
    with factory() as db:
        paid = {name: tokens.balance(db, tokens.member_account(m.id)) for name, m in solvers.items()}
        assert tokens.balance(db, tokens.escrow_account("bounty:1")) == 0
    assert sum(paid.values()) == 100 and paid["dee"] == 0
    assert paid["ana"] == 50


def test_the_worker_closes_a_problem_on_time_once_every_submission_is_scored(
    client, published, owner, make_member, token_for, settings, factory
):
    ana = make_member("ana")
    assert submit(client, published, token_for(ana), predictions(1)).status_code == 201
    with factory.begin() as db:
        db.execute(update(Problem).values(closes_at=utcnow() - timedelta(minutes=1)))
    close_due = close_chore(factory)
    close_due()  # ana's submission, made in time, is not scored yet: the problem waits for it
    waiting = client.post(f"/api/v1/problems/{published}/close", headers=token_for(owner)).json()
    assert (waiting["code"], waiting["detail"]) == (
        "problem_still_open",
        "submissions still being scored: 1",
    )
    score_all(settings, factory)
    close_due()
    shown = client.get(f"/api/v1/problems/{published}").json()
    assert shown["state"] == "closed"
    with factory() as db:
        assert tokens.balance(db, tokens.member_account(ana.id)) == 100
        closing = db.scalars(select(LogRecord).where(LogRecord.event == "problems:problem:close")).one()
        assert closing.actor_id is None  # the commons closed it, not a member
    again = client.post(f"/api/v1/problems/{published}/close", headers=token_for(owner)).json()
    assert again["code"] == "problem_closed"


def test_the_data_dividend_follows_the_measured_shares_a_submission_carries(
    client, published, owner, make_member, token_for, settings, factory
):
    ana, bob, cyd = make_member("ana"), make_member("bob"), make_member("cyd")
    measured = [  # e.g. a federated model's contributors, as the federation submits it
        {"account": tokens.member_account(bob.id), "share": 0.75},
        {"account": tokens.member_account(cyd.id), "share": 0.25},
    ]
    store = BlobStore(settings.blob_dir)
    with factory.begin() as db, store.scratch(".csv") as path:
        path.write_bytes(predictions(1))
        upload = Upload(path=path, file_format="csv", sha256=sha256_of(path), size=path.stat().st_size)
        problem, member = db.scalars(select(Problem)).one(), db.get(Member, ana.id)
        service.submit(
            session=db, store=store, member=member, problem=problem, upload=upload, contributions=measured
        )
    score_all(settings, factory)
    with factory.begin() as db:
        db.execute(update(Problem).values(closes_at=utcnow() - timedelta(minutes=1)))
    assert client.post(f"/api/v1/problems/{published}/close", headers=token_for(owner)).status_code == 200
    with factory() as db:
        paid = [tokens.balance(db, tokens.member_account(one.id)) for one in (ana, bob, cyd)]
    assert paid == [90, 8, 2]  # 10% of the bounty by share (7.5 and 2.5, the remainder to the first)


@pytest.mark.parametrize(
    "change",
    [
        {"task": "regression", "metric": "accuracy"},
        {"sdg_targets": ["99.9"]},
        {"sdg_targets": []},
        {"closes_at": (utcnow() - timedelta(days=5)).isoformat()},
        {"metric": "vibes"},
        {"target_column": "id"},
        {"bounty": -1},
    ],
)
def test_bad_problems_are_refused(client, owner, token_for, change):
    refused = client.post("/api/v1/problems", json=problem_form(**change), headers=token_for(owner))
    assert (refused.status_code, refused.json()["code"]) == (422, "validation_failed")


def test_drafts_are_hidden_and_evaluation_labels_never_leave(client, owner, token_for, make_member):
    headers = token_for(owner)
    slug = client.post("/api/v1/problems", json=problem_form(), headers=headers).json()["slug"]
    assert client.get(f"/api/v1/problems/{slug}").json()["code"] == "problem_not_found"
    assert client.get(f"/api/v1/problems/{slug}", headers=headers).status_code == 200
    assert client.get("/api/v1/problems").json()["total"] == 0
    paths = client.get("/openapi.json").json()["paths"]
    evaluation = {path: set(operations) for path, operations in paths.items() if "evaluation" in path}
    assert evaluation == {"/api/v1/problems/{ref}/evaluation": {"post"}}


def test_a_stuck_scoring_job_does_not_use_up_the_limit(client, published, make_member, token_for, factory):
    ana = token_for(make_member("ana"))
    for _ in range(3):
        assert submit(client, published, ana, predictions(1)).status_code == 201
    with factory.begin() as db:  # a worker takes the jobs, then dies: its heartbeats stop
        while jobs.claim(db, "dying-worker") is not None:
            pass
    with factory.begin() as db:
        assert jobs.fail_silent_jobs(db, timeout_seconds=0) == 3
    assert submit(client, published, ana, predictions(1)).status_code == 201


def join(client, slug, headers, name):
    return client.post(f"/api/v1/problems/{slug}/teams/{name}", headers=headers)


def test_teams_form_only_while_the_problem_is_open(client, published, make_member, token_for, factory):
    with factory.begin() as db:
        db.execute(update(Problem).values(closes_at=utcnow() - timedelta(minutes=1)))
    late = join(client, published, token_for(make_member("ana")), "rivers")
    assert (late.status_code, late.json()["code"]) == (409, "problem_closed")
