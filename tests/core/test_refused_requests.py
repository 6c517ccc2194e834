"""A refused request changes nothing: whatever a request wrote is rolled back when its answer is an error
(any status from 400 up, however the view built it), when it raised, or when it refused a form."""

from collections.abc import Callable

import pytest
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

import aicommons.app
from aicommons.core.config import Settings
from aicommons.core.db import doom, unit_of_work
from aicommons.core.errors import CommonsError, ErrorCode
from aicommons.core.ratelimit import RateHit
from aicommons.core.web import DbSession, PageRenderer
from aicommons.events.models import Event
from aicommons.ledger.models import LogRecord
from aicommons.web.navigation import LoginRequired, refusal
from tests.communities.conftest import community_form
from tests.events.conftest import event_form, local
from tests.problems.test_views import browser, with_csrf  # noqa: F401 (a browser of its own for each person)

# A test-only router: each route writes a row (a rate limit's hit, the simplest table) and then answers.
trial = APIRouter(prefix="/trial")


def write(session: Session, bucket: str = "trial") -> None:
    session.add(RateHit(bucket=bucket))
    session.flush()


@trial.post("/page/{status}")
def page(status: int, request: Request, pages: PageRenderer, session: DbSession) -> Response:
    write(session)
    error = CommonsError(ErrorCode.VALIDATION_FAILED, "refused after a write")
    return pages.render(request, "error.html", {"error": error}, status_code=status)


@trial.post("/json/{status}")
def json_answer(status: int, session: DbSession) -> Response:
    write(session)
    return JSONResponse({"written": True}, status_code=status)


@trial.post("/html/{status}")
def html_answer(status: int, session: DbSession) -> Response:
    write(session)
    return HTMLResponse("<p>written</p>", status_code=status)


@trial.post("/redirect")
def redirect(session: DbSession) -> Response:
    write(session)
    return RedirectResponse("/", status_code=303)


@trial.post("/raise/{what}")
def raising(what: str, session: DbSession) -> Response:
    write(session)
    if what == "login":
        raise LoginRequired  # answered with a 303 to the login page, and still refused
    raise CommonsError(ErrorCode.FORBIDDEN, "refused by a service after a write")


@trial.post("/fragment")
def refused_fragment(request: Request, pages: PageRenderer, session: DbSession) -> Response:
    """As an HTMX form does: the refusal comes as a 200 fragment, so that HTMX swaps it in."""
    write(session)
    message = refusal(session, CommonsError(ErrorCode.FORBIDDEN, "not now"), {}).errors["form"]
    write(session, "after the refusal")  # a refused request keeps nothing, even what it writes afterwards
    return HTMLResponse(f"<p>{message}</p>")


@trial.post("/counted-apart")
def counted_apart(request: Request, session: DbSession) -> Response:
    """A refusal that still counts something, in a transaction of its own (as failed logins are counted)."""
    write(session)
    doom(session)  # rolled back at once, which also lets go of SQLite's write lock for the count
    with unit_of_work(request.app.state.session_factory) as apart:
        write(apart, "apart")
    return JSONResponse({"detail": "refused"}, status_code=401)


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    app = aicommons.app.create_app(settings)
    app.include_router(trial)
    return app


@pytest.fixture
def rows(factory: sessionmaker[Session]) -> Callable[..., int]:
    """How many rows the requests left in a bucket."""

    def count(bucket: str = "trial") -> int:
        with factory() as db:
            return db.scalar(select(func.count()).select_from(RateHit).where(RateHit.bucket == bucket)) or 0

    return count


def test_a_page_rendered_with_a_4xx_status_keeps_nothing_the_request_wrote(client: TestClient, rows):
    refused = client.post("/trial/page/422", headers={"accept": "text/html"})
    assert refused.status_code == 422 and "refused after a write" in refused.text
    assert rows() == 0


@pytest.mark.parametrize("kind", ["json", "html"])
@pytest.mark.parametrize("status", [400, 409, 500])
def test_an_error_answer_the_view_builds_itself_keeps_nothing(
    client: TestClient, rows, kind: str, status: int
):
    assert client.post(f"/trial/{kind}/{status}").status_code == status
    assert rows() == 0


def test_an_error_raised_after_a_write_keeps_nothing_even_when_answered_with_a_redirect(client, rows):
    assert client.post("/trial/raise/service").status_code == 403
    to_login = client.post("/trial/raise/login", follow_redirects=False)
    assert to_login.status_code == 303 and to_login.headers["location"].startswith("/login")
    assert rows() == 0


def test_a_refused_form_keeps_nothing_even_when_answered_with_a_200_fragment(client: TestClient, rows):
    answer = client.post("/trial/fragment")
    assert answer.status_code == 200 and "not now" in answer.text
    assert rows() == 0 and rows("after the refusal") == 0


def test_successful_answers_commit(client: TestClient, rows):
    assert client.post("/trial/json/201").status_code == 201
    assert client.post("/trial/html/200").status_code == 200
    assert client.post("/trial/page/200").status_code == 200
    assert client.post("/trial/redirect", follow_redirects=False).status_code == 303
    assert rows() == 4


def test_what_a_refused_request_counts_in_a_transaction_of_its_own_is_kept(client: TestClient, rows):
    assert client.post("/trial/counted-apart").status_code == 401
    assert (rows(), rows("apart")) == (0, 1)


def test_a_refused_event_form_leaves_neither_the_event_nor_its_rate_limit_hit(
    client,
    browser,  # noqa: F811 (the fixture imported above)
    make_member,
    token_for,
    factory,
):
    stella = make_member("stella")
    assert client.post(
        "/api/v1/communities", headers=token_for(stella), json=community_form("nurses")
    ).is_success
    page = browser(stella)
    with factory() as db:
        records = db.scalar(select(func.count()).select_from(LogRecord))
    # The service counts the hit against its rate limit (a row, flushed) before it finds the start past.
    past = _strings(event_form(start=local(-3), end=local(-3, hour=20)))
    refused = page.post("/events/new", data=with_csrf(page, community="nurses", **past))
    assert refused.status_code == 422 and "the start must be in the future" in refused.text
    with factory() as db:
        assert db.scalar(select(func.count()).select_from(RateHit)) == 0
        assert db.scalar(select(func.count()).select_from(Event)) == 0
        assert db.scalar(select(func.count()).select_from(LogRecord)) == records
    scheduled = page.post("/events/new", data=with_csrf(page, community="nurses", **_strings(event_form())))
    assert scheduled.status_code == 200 and "Nurses&#39; AI meetup" in scheduled.text
    with factory() as db:
        assert db.scalar(select(func.count()).select_from(RateHit)) == 1


def _strings(fields: dict[str, object]) -> dict[str, str]:
    return {key: "" if value is None else str(value) for key, value in fields.items()}


def test_a_doomed_unit_of_work_rolls_back_instead_of_committing(factory: sessionmaker[Session], rows):
    with unit_of_work(factory) as session:
        write(session)
        doom(session)
        write(session, "after the refusal")
    assert rows() == 0 and rows("after the refusal") == 0
