"""The problems' pages without a browser: the catalog, a problem's page and its forms, the leaderboards, a
team's submissions with their errors, finals and score history, and the owners' actions."""

import re
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import update

from aicommons.core.db import utcnow
from aicommons.core.web import CSRF_COOKIE
from aicommons.members.models import Member
from aicommons.problems.models import Problem
from tests.conftest import PASSWORD
from tests.datasets.conftest import CSV, dataset_form, upload
from tests.problems import test_api
from tests.problems.test_api import EVALUATION, predictions, problem_form, score_all, submit

Browser = Callable[..., TestClient]
owner, published = test_api.owner, test_api.published  # the API tests' fixtures, shared
BAD = b"id,prediction\nr0,yes\nr0,no\nr1,maybe\n"


@pytest.fixture
def browser(app: FastAPI) -> Iterator[Browser]:
    """A browser of its own (cookies, CSRF token) for each person; logged in as `member` when given."""
    opened: list[TestClient] = []

    def open_as(member: Member | None = None) -> TestClient:
        page = TestClient(app, headers={"accept": "text/html"})
        opened.append(page)
        page.get("/login")
        if member is not None:
            login = page.post("/login", data=with_csrf(page, handle=member.handle, password=PASSWORD))
            assert login.status_code == 200, login.text
        return page

    yield open_as
    for page in opened:
        page.close()


def with_csrf(page: TestClient, **fields: Any) -> dict[str, Any]:
    return {"csrf_token": page.cookies[CSRF_COOKIE], **fields}


def send_file(page: TestClient, path: str, body: bytes, name: str = "predictions.csv", **fields: Any):
    return page.post(
        path, data=with_csrf(page, **fields), files={"file": (name, body, "text/csv")}, follow_redirects=False
    )


@pytest.fixture
def draft(client, owner, token_for) -> str:
    created = client.post("/api/v1/problems", json=problem_form(), headers=token_for(owner))
    assert created.status_code == 201, created.text
    return str(created.json()["slug"])


def past_closing(factory) -> None:
    with factory.begin() as db:
        db.execute(update(Problem).values(closes_at=utcnow() - timedelta(minutes=1)))


# --- the catalog ----------------------------------------------------------------------------------------


def test_the_catalog_lists_published_problems_by_goal(browser, published, draft):
    page = browser()
    listed = page.get("/problems")
    assert "1 problem found" in listed.text and "Flood or not" in listed.text
    assert "SDG 13.1" in listed.text and "accuracy" in listed.text and "Bounty 100 tokens" in listed.text
    assert "Open" in listed.text and "Closes" in listed.text
    assert "17 · Partnerships" in listed.text or listed.text.count("<option") >= 18
    assert "0 problems found" in page.get("/problems?sdg=2").text
    assert "1 problem found" in page.get("/problems?sdg=11&page=1").text


def test_an_htmx_filter_gets_only_the_results(browser, published):
    fragment = browser().get("/problems?sdg=13", headers={"HX-Request": "true", "HX-Target": "results"})
    assert "1 problem found" in fragment.text and "<header" not in fragment.text
    assert fragment.headers["Vary"] == "HX-Request, HX-Target"
    assert browser().get("/problems?sdg=18").status_code == 422


# --- a problem's page -----------------------------------------------------------------------------------


def test_the_statement_is_markdown_with_raw_html_escaped(client, browser, owner, token_for):
    statement = "Predict **floods**.\n\n<script>alert('x')</script>\n\n- one\n- two"
    form = problem_form(statement=statement)
    slug = client.post("/api/v1/problems", json=form, headers=token_for(owner)).json()["slug"]
    shown = browser(owner).get(f"/problems/{slug}").text
    assert "<strong>floods</strong>" in shown and "<li>one</li>" in shown
    assert "<script>alert" not in shown and "&lt;script&gt;" in shown


def test_a_problem_shows_its_data_rules_timeline_and_bounty(client, browser, owner, token_for):
    headers = token_for(owner)
    dataset = client.post("/api/v1/datasets", json=dataset_form(), headers=headers).json()["slug"]
    assert upload(client, dataset, CSV, headers).status_code == 201
    form = problem_form(
        input={"dataset": dataset, "version": 1}, datasets=[{"dataset": dataset, "version": 1}]
    )
    slug = client.post("/api/v1/problems", json=form, headers=headers).json()["slug"]
    shown = browser().get(f"/problems/{slug}")
    assert shown.status_code == 404  # a draft is its owners' alone
    shown = browser(owner).get(f"/problems/{slug}").text
    assert "rainfall_mm" in shown and f'href="/datasets/{dataset}?version=1"' in shown
    assert "<code>id,prediction</code>" in shown and "3 a day, 100 in all" in shown
    assert "public leaderboard scores 30% of the rows" in shown and "up to 5 members" in shown
    assert "50%, 30% and 20% to the first three teams" in shown and "10% of the bounty" in shown
    assert "Upload evaluation data" in shown and ">Publish</button>" in shown


def test_visitors_see_no_forms_and_members_see_the_submission_form(browser, published, make_member):
    anonymous = browser().get(f"/problems/{published}").text
    assert "Submit predictions" not in anonymous and "For the owners" not in anonymous
    member = browser(make_member("ana")).get(f"/problems/{published}").text
    assert "Submit predictions" in member and "For the owners" not in member
    assert 'action="/problems/flood-or-not/submissions"' in member


def test_members_found_a_team_and_join_one_only_with_its_consent_through_the_forms(
    browser, published, make_member, factory
):
    with factory.begin() as db:
        db.execute(update(Problem).values(team_size_limit=3))
    ana, ben, cyd = (browser(make_member(handle)) for handle in ("ana", "ben", "cyd"))
    assert "You have no team yet" in ana.get(f"/problems/{published}").text
    founded = ana.post(
        f"/problems/{published}/team", data=with_csrf(ana, team="rivers"), follow_redirects=False
    )
    assert (founded.status_code, founded.headers["location"]) == (303, f"/problems/{published}#team")
    assert "You compete in <strong>rivers</strong>" in ana.get(f"/problems/{published}").text
    hijack = ben.post(f"/problems/{published}/team", data=with_csrf(ben, team="rivers"))
    assert hijack.status_code == 403 and "ask to join it" in hijack.text
    assert 'value="rivers"' in hijack.text  # the form keeps what was typed
    asked = ben.post(
        f"/problems/{published}/team/requests", data=with_csrf(ben, ask="rivers"), follow_redirects=False
    )
    assert (
        asked.status_code == 303 and "your request to join rivers" in ben.get(f"/problems/{published}").text
    )
    page = ana.get(f"/problems/{published}").text
    assert "Asking to join rivers" in page and 'aria-label="Approve ben"' in page
    approve = _action(page, "requests", "approve")
    assert ana.post(approve, data=with_csrf(ana), follow_redirects=False).status_code == 303
    assert (
        "You compete in <strong>rivers</strong> with 2 of up to 3" in ben.get(f"/problems/{published}").text
    )
    invited = ben.post(f"/problems/{published}/team/invitations", data=with_csrf(ben, handle="cyd"))
    assert invited.status_code == 200 and "cyd, invited to rivers" in invited.text  # after the redirect
    page = cyd.get(f"/problems/{published}").text
    assert "ben invited you to <strong>rivers</strong>" in page
    assert cyd.post(_action(page, "invitations", "accept"), data=with_csrf(cyd)).status_code == 200
    page = cyd.get(f"/problems/{published}").text
    assert "with 3 of up to 3" in page and "Invite a member" not in page  # the team is full
    unknown = cyd.post(f"/problems/{published}/requests/999/approve", data=with_csrf(cyd))
    assert unknown.status_code == 404 and "no pending request #999" in unknown.text


def _action(page: str, kind: str, decision: str) -> str:
    """The path of the first form on the page that decides an invitation or request so."""
    match = re.search(rf'action="(/problems/[^"]+/{kind}/\d+/{decision})"', page)
    assert match, f"no {kind} to {decision} on the page"
    return match.group(1)


# --- submitting through the form --------------------------------------------------------------------------


def test_a_member_submits_and_sees_the_score_the_chart_and_the_leaderboard(
    browser, published, make_member, settings, factory
):
    page = browser(make_member("ana"))
    sent = send_file(page, f"/problems/{published}/submissions", predictions(1), note="all right")
    assert (sent.status_code, sent.headers["location"]) == (303, f"/problems/{published}/submissions")
    assert "Queued" in page.get(f"/problems/{published}/submissions").text
    score_all(settings, factory)
    mine = page.get(f"/problems/{published}/submissions").text
    assert "Scored" in mine and "1.0000" in mine and "all right" in mine
    assert "Public score of each scored submission over time" in mine and "<circle" in mine
    board = browser().get(f"/problems/{published}/leaderboard").text
    assert '<td data-label="Team">ana</td>' in board and "1.0000" in board and "95% CI" in board


@pytest.mark.parametrize(
    ("body", "name", "fields", "status", "message"),
    [
        (b"", "", {}, 422, "choose a file to upload"),
        (b"id,prediction\n", "predictions.txt", {}, 415, "upload a .csv file"),
        (b"", "predictions.csv", {}, 422, "the file is empty"),
        (b"id,prediction\nr1,yes\n", "p.csv", {"datasets[]": ["999"]}, 422, "are not among the problem"),
        (b"id,prediction\nr1,yes\n", "p.csv", {"note": "x" * 501}, 422, "under 500 characters"),
    ],
)
def test_a_refused_submission_comes_back_with_why(
    browser, published, make_member, body, name, fields, status, message
):
    page = browser(make_member("ana"))
    response = send_file(page, f"/problems/{published}/submissions", body, name, **fields)
    assert response.status_code == status, response.text
    assert message in response.text and "Submit predictions" in response.text


def test_a_failed_file_shows_its_rows_and_issues(browser, published, make_member, settings, factory):
    page = browser(make_member("ana"))
    assert send_file(page, f"/problems/{published}/submissions", BAD).status_code == 303
    score_all(settings, factory)
    mine = page.get(f"/problems/{published}/submissions").text
    assert "Failed" in mine and "What is wrong in submission #1" in mine
    assert "<code>maybe</code>" in mine and "<code>prediction</code>" in mine


def test_submitting_needs_a_login_and_an_open_problem(browser, published, make_member, factory):
    visitor = browser().get(f"/problems/{published}/submissions", follow_redirects=False)
    assert visitor.headers["location"] == f"/login?next=/problems/{published}/submissions"
    past_closing(factory)
    page = browser(make_member("late"))
    assert "closed to submissions" in page.get(f"/problems/{published}").text
    late = send_file(page, f"/problems/{published}/submissions", predictions(1))
    assert late.status_code == 409 and "the problem closed" in late.text


# --- finals -----------------------------------------------------------------------------------------------


def test_choosing_finals_keeps_at_most_two(
    client, browser, published, make_member, token_for, settings, factory
):
    ana = make_member("ana")
    for number in (1, 2, 3):
        assert submit(client, published, token_for(ana), predictions(number)).status_code == 201
    score_all(settings, factory)
    page = browser(ana)
    too_many = page.post(
        f"/problems/{published}/finals", data=with_csrf(page, **{"finals[]": ["1", "2", "3"]})
    )
    assert too_many.status_code == 422, too_many.text[-3000:]
    assert "select one or two submissions" in too_many.text, too_many.text[-4000:]
    chosen = page.post(
        f"/problems/{published}/finals", data=with_csrf(page, **{"finals[]": ["2"]}), follow_redirects=False
    )
    assert chosen.status_code == 303
    mine = page.get(f"/problems/{published}/submissions").text
    assert 'value="2" aria-label="Final: submission 2" checked' in mine
    assert 'value="1" aria-label="Final: submission 1">' in mine
    others = browser(make_member("ben"))
    refused = others.post(f"/problems/{published}/finals", data=with_csrf(others, **{"finals[]": ["2"]}))
    assert refused.status_code == 404


# --- the owners' actions ------------------------------------------------------------------------------------


def test_the_owner_uploads_evaluation_data_and_publishes_through_the_forms(
    browser, draft, owner, make_member
):
    stranger = browser(make_member("eve"))
    assert send_file(stranger, f"/problems/{draft}/evaluation", EVALUATION.encode()).status_code == 404
    page = browser(owner)
    early = page.post(f"/problems/{draft}/publish", data=with_csrf(page))
    assert early.status_code == 422 and "upload the evaluation data before publishing" in early.text
    bad = send_file(page, f"/problems/{draft}/evaluation", b"id,other\nr1,x\n", "evaluation.csv")
    assert bad.status_code == 422 and "has no column" in bad.text
    sent = send_file(page, f"/problems/{draft}/evaluation", EVALUATION.encode(), "evaluation.csv")
    assert (sent.status_code, sent.headers["location"]) == (303, f"/problems/{draft}#owner")
    assert "Now: 60 rows." in page.get(f"/problems/{draft}").text
    published = page.post(f"/problems/{draft}/publish", data=with_csrf(page), follow_redirects=False)
    assert published.status_code == 303
    assert "held in escrow" in page.get(f"/problems/{draft}").text


def test_only_owners_publish_and_close(browser, published, make_member, factory):
    stranger = browser(make_member("eve"))
    refused = stranger.post(f"/problems/{published}/close", data=with_csrf(stranger))
    assert refused.status_code == 403 and "only the problem&#39;s owners may close it" in refused.text
    past_closing(factory)
    refused = stranger.post(f"/problems/{published}/close", data=with_csrf(stranger))
    assert refused.status_code == 403


def test_the_private_board_waits_for_the_close_and_the_owner_closes_through_the_form(
    client, browser, published, owner, make_member, token_for, settings, factory
):
    for number, name in enumerate(("ana", "ben", "cai"), start=1):
        assert submit(client, published, token_for(make_member(name)), predictions(number)).status_code == 201
    score_all(settings, factory)
    hidden = browser().get(f"/problems/{published}/leaderboard?board=private")
    assert hidden.status_code == 409 and "revealed when the problem closes" in hidden.text
    page = browser(owner)
    assert "You can close the problem after" in page.get(f"/problems/{published}").text
    early = page.post(f"/problems/{published}/close", data=with_csrf(page))
    assert early.status_code == 409
    past_closing(factory)
    assert ">Close</button>" in page.get(f"/problems/{published}").text
    closed = page.post(f"/problems/{published}/close", data=with_csrf(page), follow_redirects=False)
    assert closed.headers["location"] == f"/problems/{published}/leaderboard?board=private"
    private = browser().get(f"/problems/{published}/leaderboard?board=private").text
    assert private.index(">ana<") < private.index(">ben<") < private.index(">cai<")
    shown = browser().get(f"/problems/{published}").text
    assert "Spearman" in shown and "How well the public ranks foretold the private ones" in shown
