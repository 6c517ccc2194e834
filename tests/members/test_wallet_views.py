"""The wallet page without a browser: sending tokens through the form, idempotency, refusals, logins."""

import re

import pytest
from sqlalchemy import func, select

from aicommons.core.db import unit_of_work
from aicommons.core.web import CSRF_COOKIE
from aicommons.ledger import tokens
from aicommons.ledger.models import LogRecord, Transfer
from aicommons.members import service
from tests.conftest import PASSWORD

KEY = "2f0c4a1e-8d7b-4c55-9a63-0e6f1d2b7c90"


@pytest.fixture
def alice(make_member, factory):
    """A member with 100 tokens, minted before she logs in."""
    member = make_member("alice")
    with unit_of_work(factory) as session:
        tokens.mint(
            session,
            key="welcome/alice",
            target=tokens.member_account(member.id),
            amount=100,
            reason="welcome",
        )
    return member


@pytest.fixture
def bob(make_member):
    return make_member("bob")


def log_in(client, handle: str) -> str:
    client.get("/login")
    token = client.cookies[CSRF_COOKIE]
    response = client.post("/login", data={"csrf_token": token, "handle": handle, "password": PASSWORD})
    assert response.status_code == 200
    return token


def send(client, token: str, **fields: str):
    form = {"csrf_token": token, "to": "bob", "amount": "30", "note": "", "idempotency_key": KEY} | fields
    return client.post("/wallet", data=form, follow_redirects=False)


def balances(factory) -> dict[str, int]:
    with factory() as session:
        alice, bob = (service.get(session=session, handle=handle) for handle in ("alice", "bob"))
        return {
            "alice": tokens.balance(session, tokens.member_account(alice.id)),
            "bob": tokens.balance(session, tokens.member_account(bob.id)),
        }


def counts(factory) -> tuple[int, int]:
    with factory() as session:
        return (
            session.scalar(select(func.count()).select_from(Transfer)) or 0,
            session.scalar(select(func.count()).select_from(LogRecord)) or 0,
        )


def test_the_wallet_shows_the_balance_and_a_form_with_a_fresh_idempotency_key(client, alice):
    log_in(client, "alice")
    first, second = client.get("/wallet"), client.get("/wallet")
    assert first.status_code == 200
    assert re.search(r'id="balance">100<', first.text)
    keys = [
        re.search(r'name="idempotency_key" value="([^"]+)"', page.text).group(1) for page in (first, second)
    ]
    assert keys[0] != keys[1]
    assert "welcome" in first.text


def test_tokens_sent_through_the_form_move_once_and_show_in_both_histories(client, factory, alice, bob):
    token = log_in(client, "alice")
    response = send(client, token, note="For the water sensors")
    assert response.status_code == 303
    assert re.fullmatch(r"/wallet\?sent=\d+", response.headers["location"])
    assert balances(factory) == {"alice": 70, "bob": 30}

    page = client.get(response.headers["location"])
    assert "You sent 30 tokens to\n  @bob." in page.text
    assert re.search(r'id="balance">70<', page.text)
    assert "For the water sensors" in page.text
    assert '<a href="/members/bob">@bob</a>' in page.text

    client.post("/logout", data={"csrf_token": token})
    log_in(client, "bob")
    received = client.get("/wallet")
    assert re.search(r'id="balance">30<', received.text)
    assert '<a href="/members/alice">@alice</a>' in received.text
    assert "For the water sensors" in received.text
    assert "Received" in received.text
    assert re.search(r'id="balance">30<', client.get("/profile").text)


def test_a_double_submit_with_the_same_key_sends_once(client, factory, alice, bob):
    token = log_in(client, "alice")
    first, again = send(client, token), send(client, token)
    assert (first.status_code, again.status_code) == (303, 303)
    assert first.headers["location"] == again.headers["location"]
    assert balances(factory) == {"alice": 70, "bob": 30}
    assert counts(factory)[0] == 2  # the welcome mint and one transfer


def test_the_same_key_for_a_different_transfer_is_refused_with_a_fresh_key(client, factory, alice, bob):
    token = log_in(client, "alice")
    send(client, token)
    refused = send(client, token, amount="31")
    assert refused.status_code == 409
    assert "already used for another transfer" in refused.text
    assert f'value="{KEY}"' not in refused.text
    assert balances(factory) == {"alice": 70, "bob": 30}


def test_sending_more_than_the_balance_shows_the_error_and_changes_nothing(client, factory, alice, bob):
    token = log_in(client, "alice")
    before = counts(factory)
    response = send(client, token, amount="101", note="too much")
    assert response.status_code == 409
    assert re.search(r'id="amount-error">You do not have that many tokens\.<', response.text)
    assert 'id="f-amount" name="amount" type="number" value="101"' in response.text
    assert f'value="{KEY}"' in response.text  # a retry after a refusal may keep its key: nothing was sent
    assert balances(factory) == {"alice": 100, "bob": 0}
    assert counts(factory) == before


@pytest.mark.parametrize(
    ("fields", "status", "field", "message"),
    [
        ({"to": "nobody"}, 404, "to", "no member has the handle"),
        ({"to": "alice"}, 422, "to", "You cannot send tokens to yourself."),
        ({"amount": "0"}, 422, "amount", "greater than or equal to 1"),
        ({"amount": "ten"}, 422, "amount", "valid integer"),
        ({"to": ""}, 422, "to", "Please fill this in."),
    ],
)
def test_a_refused_transfer_says_why_next_to_its_field(
    client, factory, alice, bob, fields, status, field, message
):
    token = log_in(client, "alice")
    before = counts(factory)
    response = send(client, token, **fields)
    assert response.status_code == status
    assert re.search(rf'id="{field}-error">[^<]*{re.escape(message)}', response.text)
    assert balances(factory) == {"alice": 100, "bob": 0}
    assert counts(factory) == before


def test_the_wallet_needs_a_login_and_a_csrf_token(client, alice, bob, factory):
    response = client.get("/wallet", follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (303, "/login?next=/wallet")

    token = log_in(client, "alice")
    forged = client.post("/wallet", data={"to": "bob", "amount": "30", "idempotency_key": KEY})
    assert forged.status_code == 403
    client.post("/logout", data={"csrf_token": token})
    logged_out = send(client, token, **{"csrf_token": token})
    assert logged_out.status_code == 303
    assert logged_out.headers["location"].startswith("/login")
    assert balances(factory) == {"alice": 100, "bob": 0}


def test_the_history_pages_and_htmx_gets_only_the_history(client, factory, alice, bob):
    token = log_in(client, "alice")
    for n in range(3):
        send(client, token, amount="1", idempotency_key=f"key-{n}")
    page = client.get("/wallet?size=2&page=2")
    assert "Page 2 of 2" in page.text
    fragment = client.get("/wallet?size=2", headers={"HX-Request": "true", "HX-Target": "history"})
    assert "<h1>" not in fragment.text
    assert "4 transfers" in fragment.text
    assert fragment.text.count('data-label="Direction"') == 2


def test_a_members_page_offers_to_send_them_tokens(client, alice, bob):
    log_in(client, "alice")
    assert 'href="/wallet?to=bob"' in client.get("/members/bob").text
    assert 'id="f-to" name="to" type="text" value="bob"' in client.get("/wallet?to=bob").text
