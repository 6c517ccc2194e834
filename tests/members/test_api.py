"""Members through the JSON API: sign-up, tokens, profiles, roles, and every refusal."""

import pytest
from sqlalchemy import func, select

from aicommons.members.models import ApiToken, GlobalRole, Member
from tests.conftest import PASSWORD

NEW = {
    "handle": "zainab",
    "email": "zainab@example.org",
    "password": "a long passphrase",
    "display_name": "Zainab",
}


def count(factory, model) -> int:
    with factory() as db:
        return db.scalar(select(func.count()).select_from(model))


def test_sign_up_then_log_in_for_a_token_and_read_me(client):
    created = client.post("/api/v1/members", json=NEW)
    assert created.status_code == 201
    assert created.json()["handle"] == "zainab"
    assert "password" not in created.text
    token = client.post("/api/v1/auth/tokens", json={"handle": "zainab", "password": NEW["password"]}).json()
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token['secret']}"})
    assert me.json()["email"] == "zainab@example.org"


def test_tokens_and_passwords_are_stored_only_as_hashes(client, factory):
    client.post("/api/v1/members", json=NEW)
    secret = client.post(
        "/api/v1/auth/tokens", json={"handle": "zainab", "password": NEW["password"]}
    ).json()["secret"]
    with factory() as db:
        member = db.scalar(select(Member).where(Member.handle == "zainab"))
        stored = db.scalar(select(ApiToken.token_hash))
    assert member.password_hash.startswith("$argon2id$")
    assert secret not in stored
    assert len(stored) == 64


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"handle": "x"}, "handle"),
        ({"handle": "Has Space"}, "handle"),
        ({"handle": "a" * 40}, "handle"),
        ({"email": "not-an-email"}, "email"),
        ({"password": "short"}, "password"),
        ({"password": "p" * 200}, "password"),
        ({"display_name": ""}, "display_name"),
        ({"display_name": "n" * 81}, "display_name"),
        ({"role": "admin"}, "role"),
    ],
)
def test_bad_sign_up_is_refused_with_422_and_creates_nothing(client, factory, change, field):
    response = client.post("/api/v1/members", json=NEW | change)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "validation_failed"
    assert any(field in error["loc"] for error in problem["errors"])
    assert count(factory, Member) == 0


def test_duplicate_handle_and_email_are_409_with_their_codes(client, make_member, factory):
    make_member("zainab")
    assert client.post("/api/v1/members", json=NEW).json()["code"] == "handle_taken"
    clash = NEW | {"handle": "other", "email": "ZAINAB@example.org"}
    response = client.post("/api/v1/members", json=clash)
    assert (response.status_code, response.json()["code"]) == (409, "email_taken")
    assert count(factory, Member) == 1


def test_wrong_password_and_unknown_handle_get_the_same_401(client, make_member):
    make_member("zainab")
    wrong = client.post("/api/v1/auth/tokens", json={"handle": "zainab", "password": "wrong password"})
    unknown = client.post("/api/v1/auth/tokens", json={"handle": "nobody", "password": "wrong password"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["code"] == unknown.json()["code"] == "invalid_credentials"


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({}, "not_authenticated"),
        ({"Authorization": "Bearer aic_not_a_real_token"}, "invalid_token"),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, "invalid_token"),
    ],
)
def test_me_needs_a_valid_token(client, headers, code):
    response = client.get("/api/v1/me", headers=headers)
    assert response.status_code == 401
    assert response.json()["code"] == code


def test_a_revoked_token_stops_working(client, make_member, token_for):
    headers = token_for(make_member("zainab"))
    token_id = client.get("/api/v1/me/tokens", headers=headers).json()[0]["id"]
    other = client.post("/api/v1/me/tokens", headers=headers, json={"name": "laptop"}).json()
    revoked = client.delete(f"/api/v1/me/tokens/{other['id']}", headers=headers)
    assert revoked.json()["revoked_at"] is not None
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {other['secret']}"}).status_code == 401
    assert client.delete(f"/api/v1/me/tokens/{token_id}", headers=headers).status_code == 200
    assert client.get("/api/v1/me", headers=headers).json()["code"] == "invalid_token"


def test_members_cannot_revoke_each_others_tokens(client, make_member, token_for):
    owner = token_for(make_member("zainab"))
    token_id = client.get("/api/v1/me/tokens", headers=owner).json()[0]["id"]
    thief = token_for(make_member("mallory"))
    response = client.delete(f"/api/v1/me/tokens/{token_id}", headers=thief)
    assert (response.status_code, response.json()["code"]) == (404, "token_not_found")
    assert client.get("/api/v1/me", headers=owner).status_code == 200


def test_profile_update_validates_every_field(client, make_member, token_for):
    headers = token_for(make_member("zainab"))
    good = {"bio": "Nurse.", "sectors": ["health", "health"], "languages": ["fr", "wo"]}
    updated = client.patch("/api/v1/me", headers=headers, json=good).json()
    assert (updated["sectors"], updated["languages"]) == (["health"], ["fr", "wo"])
    for bad in (
        {"sectors": ["astrology"]},
        {"languages": ["French"]},
        {"bio": "b" * 2001},
        {"email": "x@y.z"},
    ):
        assert client.patch("/api/v1/me", headers=headers, json=bad).status_code == 422
    assert client.get("/api/v1/me", headers=headers).json()["bio"] == "Nurse."


@pytest.mark.parametrize("role", [GlobalRole.MEMBER, GlobalRole.MODERATOR])
def test_only_admins_set_global_roles(client, make_member, token_for, role):
    make_member("target")
    headers = token_for(make_member("actor", role))
    response = client.put("/api/v1/members/target/role", headers=headers, json={"role": "admin"})
    assert (response.status_code, response.json()["code"]) == (403, "forbidden")


def test_an_admin_sets_a_role(client, make_member, token_for):
    make_member("target")
    headers = token_for(make_member("root", GlobalRole.ADMIN))
    assert (
        client.put("/api/v1/members/target/role", headers=headers, json={"role": "moderator"}).json()["role"]
        == "moderator"
    )
    assert (
        client.put("/api/v1/members/ghost/role", headers=headers, json={"role": "admin"}).status_code == 404
    )
    assert (
        client.put("/api/v1/members/target/role", headers=headers, json={"role": "king"}).status_code == 422
    )


def test_login_by_email_works_too(client, make_member):
    make_member("zainab")
    response = client.post("/api/v1/auth/tokens", json={"handle": "ZAINAB@example.org", "password": PASSWORD})
    assert response.status_code == 201


def test_oversized_and_malformed_bodies_are_refused(client):
    huge = client.post(
        "/api/v1/members",
        content=b"{" + b" " * 2_000_000 + b"}",
        headers={"content-type": "application/json"},
    )
    assert (huge.status_code, huge.json()["code"]) == (413, "payload_too_large")
    broken = client.post(
        "/api/v1/members", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert (broken.status_code, broken.json()["code"]) == (422, "validation_failed")


def test_unknown_routes_are_problem_documents(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


def test_a_wrong_method_is_a_405_problem(client):
    response = client.put("/api/v1/members")
    assert (response.status_code, response.json()["code"]) == (405, "method_not_allowed")
