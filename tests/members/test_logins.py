"""Guessing is slow and sign-up bursts are refused: failed logins lock an account and an address out for
growing times (on the API, the login page and the CLI), and one address signs up only so many accounts."""

import os
import subprocess
import sys
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from aicommons.core.db import unit_of_work, utcnow
from aicommons.core.errors import CommonsError, ErrorCode
from aicommons.core.web import CSRF_COOKIE
from aicommons.members import logins, service
from aicommons.members.models import LoginThrottle
from tests.conftest import PASSWORD

TOKENS = "/api/v1/auth/tokens"
WRONG = "not the password"


def from_address(app, address: str) -> TestClient:
    return TestClient(app, client=(address, 50000))


def guess(client, handle: str, password: str):
    return client.post(TOKENS, json={"handle": handle, "password": password})


def unlock(factory) -> None:
    """Let every lock-out run out, as if its time had passed."""
    with unit_of_work(factory) as session:
        session.execute(update(LoginThrottle).values(locked_until=utcnow() - timedelta(seconds=1)))


def throttle(factory, key: str) -> LoginThrottle | None:
    with factory() as session:
        return session.scalar(select(LoginThrottle).where(LoginThrottle.key == key))


def test_thirty_wrong_guesses_then_the_right_one_are_refused(client, make_member):
    """The guessing attack of issue 15: 30 wrong guesses, then the right one, all answered normally."""
    make_member("zainab")
    answers = [guess(client, "zainab", f"{WRONG} {n}") for n in range(30)]
    codes = [answer.json()["code"] for answer in answers]
    assert codes == ["invalid_credentials"] * logins.ACCOUNT.free + ["too_many_attempts"] * 25
    right = guess(client, "zainab", PASSWORD)
    assert (right.status_code, right.json()["code"]) == (429, "too_many_attempts")
    assert 0 < int(right.headers["Retry-After"]) <= 60 and right.json()["retry_after"] > 0
    assert "secret" not in right.json()


def test_the_lockout_doubles_with_each_further_failure_up_to_an_hour(client, make_member, factory):
    member = make_member("zainab")
    waits = []
    for _ in range(logins.ACCOUNT.free - 1):
        assert guess(client, "zainab", WRONG).status_code == 401
    for _ in range(9):
        assert guess(client, "zainab", WRONG).json()["code"] == "invalid_credentials"
        refused = guess(client, "zainab", WRONG)
        assert refused.json()["code"] == "too_many_attempts"
        waits.append(int(refused.headers["Retry-After"]))
        unlock(factory)
    assert waits == [60, 120, 240, 480, 960, 1920, 3600, 3600, 3600]
    assert throttle(factory, f"account:{member.id}").failures == logins.ACCOUNT.free + 8


def test_a_failure_is_counted_although_its_request_rolls_back(client, make_member, factory):
    member = make_member("zainab")
    refused = guess(client, "zainab", WRONG)
    assert refused.status_code == 401
    counted = throttle(factory, f"account:{member.id}")
    assert counted is not None and counted.failures == 1 and counted.locked_until is None


def test_a_success_resets_the_accounts_counter(client, make_member, factory):
    member = make_member("zainab")
    for _ in range(logins.ACCOUNT.free - 1):
        guess(client, "zainab", WRONG)
    assert guess(client, "zainab", PASSWORD).status_code == 201
    assert throttle(factory, f"account:{member.id}") is None
    answers = [guess(client, "zainab", WRONG).json()["code"] for _ in range(logins.ACCOUNT.free)]
    assert answers == ["invalid_credentials"] * logins.ACCOUNT.free


def test_the_right_password_on_the_last_free_try_logs_in(client, make_member):
    make_member("zainab")
    for _ in range(logins.ACCOUNT.free - 1):
        guess(client, "zainab", WRONG)
    assert guess(client, "zainab", PASSWORD).status_code == 201
    assert guess(client, "zainab", PASSWORD).status_code == 201


def test_an_account_locked_from_one_address_is_locked_from_every_address(app, client, make_member):
    make_member("zainab")
    for n in range(logins.ACCOUNT.free):
        guess(from_address(app, f"198.51.100.{n}"), "zainab", WRONG)
    elsewhere = guess(from_address(app, "192.0.2.77"), "zainab", PASSWORD)
    assert elsewhere.json()["code"] == "too_many_attempts"


def test_guessing_many_accounts_from_one_address_locks_the_address(app, make_member):
    make_member("zainab")
    sprayer, neighbour = from_address(app, "203.0.113.5"), from_address(app, "203.0.113.6")
    codes = [guess(sprayer, f"victim{n}", WRONG).json()["code"] for n in range(logins.ADDRESS.free + 1)]
    assert codes == ["invalid_credentials"] * logins.ADDRESS.free + ["too_many_attempts"]
    assert guess(sprayer, "zainab", PASSWORD).json()["code"] == "too_many_attempts"
    assert guess(neighbour, "zainab", PASSWORD).status_code == 201


def test_the_login_page_refuses_guessing_with_a_429_page(client, make_member):
    make_member("zainab")
    client.get("/login")
    csrf = client.cookies[CSRF_COOKIE]

    def attempt(password: str):
        form = {"csrf_token": csrf, "handle": "zainab", "password": password}
        return client.post("/login", data=form, follow_redirects=False)

    assert [attempt(WRONG).status_code for _ in range(logins.ACCOUNT.free)] == [401] * logins.ACCOUNT.free
    refused = attempt(PASSWORD)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert "Too many failed logins" in refused.text and "aic_session" not in client.cookies


def test_the_cli_login_reports_too_many_attempts(client, make_member, live_server, tmp_path):
    make_member("zainab")
    for _ in range(logins.ACCOUNT.free):
        guess(client, "zainab", WRONG)
    result = subprocess.run(
        [sys.executable, "-m", "aicommons", "login", "--handle", "zainab", "--password", PASSWORD],
        env={
            "PATH": os.environ["PATH"],
            "HOME": str(tmp_path),
            "AICOMMONS_SERVER": live_server,
            "AICOMMONS_CONFIG_DIR": str(tmp_path / "config"),
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert (result.returncode, "too_many_attempts" in result.stderr) == (1, True), result.stderr
    assert not (tmp_path / "config" / "credentials.json").exists()


def test_the_service_refuses_a_locked_account_without_checking_the_password(factory, make_member):
    make_member("zainab")
    moment = utcnow()
    for _ in range(logins.ACCOUNT.free):
        with pytest.raises(CommonsError), factory() as session:
            logins.log_in(
                session=session, factory=factory, login="zainab", password=WRONG, address="x", now=moment
            )
    with pytest.raises(CommonsError) as refused, factory() as session:
        logins.log_in(
            session=session, factory=factory, login="ZAINAB", password=PASSWORD, address="y", now=moment
        )
    assert refused.value.code is ErrorCode.TOO_MANY_ATTEMPTS
    later = moment + timedelta(minutes=1, seconds=1)
    with factory() as session:
        member = logins.log_in(
            session=session, factory=factory, login="zainab", password=PASSWORD, address="y", now=later
        )
        assert member.handle == "zainab"


# --- sign-up ---------------------------------------------------------------------------------------------


def sign_up(client, n: int):
    form = {"handle": f"throwaway{n}", "email": f"t{n}@example.org", "password": "a long passphrase"}
    return client.post("/api/v1/members", json=form | {"display_name": f"Throwaway {n}"})


def test_a_sign_up_burst_from_one_address_is_rate_limited(app, client):
    """The Sybil half of issue 15: sign-up had no limit, so throwaway accounts cost nothing."""
    answers = [sign_up(client, n) for n in range(service.SIGN_UPS.hits + 1)]
    assert [answer.status_code for answer in answers] == [201] * service.SIGN_UPS.hits + [429]
    assert answers[-1].json()["code"] == "rate_limited" and int(answers[-1].headers["Retry-After"]) > 0
    assert sign_up(from_address(app, "192.0.2.8"), 99).status_code == 201


def test_the_sign_up_page_is_rate_limited_too(app, client):
    for n in range(service.SIGN_UPS.hits):
        assert sign_up(client, n).status_code == 201
    client.get("/signup")
    form = {
        "csrf_token": client.cookies[CSRF_COOKIE],
        "handle": "onemore",
        "email": "onemore@example.org",
        "password": "a long passphrase",
        "display_name": "One more",
    }
    refused = client.post("/signup", data=form, follow_redirects=False)
    assert refused.status_code == 429 and "aic_session" not in client.cookies
    assert int(refused.headers["Retry-After"]) > 0
