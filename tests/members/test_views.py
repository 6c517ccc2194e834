"""Pages without a browser: redirects to the login page, CSRF, and forms that must not crash."""

import pytest

from aicommons.core.web import CSRF_COOKIE
from aicommons.members.models import GlobalRole


def csrf(client) -> str:
    client.get("/login")
    return client.cookies[CSRF_COOKIE]


def test_a_page_that_needs_a_login_sends_the_browser_there_and_back(client):
    response = client.get("/profile?tab=tokens", follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (
        303,
        "/login?next=/profile%3Ftab%3Dtokens",
    )


def test_a_form_posted_while_logged_out_goes_to_login_then_back_to_its_page(client):
    token = csrf(client)
    response = client.post(
        "/communities/new",
        data={"csrf_token": token, "name": "x"},
        headers={"referer": "http://testserver/communities/new"},
        follow_redirects=False,
    )
    assert (response.status_code, response.headers["location"]) == (303, "/login?next=/communities/new")


def test_login_never_redirects_off_site(client, make_member):
    make_member("zainab")
    for target in ("//evil.example", "https://evil.example", "/\\evil.example"):
        response = client.post(
            "/login",
            data={
                "csrf_token": csrf(client),
                "handle": "zainab",
                "password": "correct horse battery",
                "next": target,
            },
            follow_redirects=False,
        )
        assert response.headers["location"] == "/"


def test_forms_without_the_csrf_token_are_refused(client, make_member):
    make_member("zainab")
    csrf(client)
    response = client.post(
        "/login",
        data={"handle": "zainab", "password": "correct horse battery"},
        headers={"accept": "text/html"},
    )
    assert response.status_code == 403
    assert "aic_session" not in client.cookies


def test_a_file_where_text_is_expected_is_a_form_error_not_a_crash(client):
    token = csrf(client)
    response = client.post("/login", data={"csrf_token": token}, files={"handle": ("x.txt", b"zainab")})
    assert response.status_code == 422


def test_a_browser_gets_an_error_page_not_json(client):
    response = client.get("/communities/nowhere", headers={"accept": "text/html"})
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert client.put("/signup", headers={"accept": "text/html"}).status_code == 405


def test_an_error_page_still_shows_who_is_logged_in(client, make_member):
    make_member("zainab")
    client.post(
        "/login", data={"csrf_token": csrf(client), "handle": "zainab", "password": "correct horse battery"}
    )
    response = client.get("/communities/nowhere", headers={"accept": "text/html"})
    assert response.status_code == 404
    assert "Zainab" in response.text
    assert "Log out" in response.text


@pytest.mark.parametrize(
    ("role", "linked"), [(GlobalRole.MEMBER, False), (GlobalRole.MODERATOR, True), (GlobalRole.ADMIN, True)]
)
def test_only_moderators_and_admins_see_the_moderation_link(client, make_member, role, linked):
    make_member("zainab", role)
    client.post(
        "/login", data={"csrf_token": csrf(client), "handle": "zainab", "password": "correct horse battery"}
    )
    assert ('href="/concerns/moderation"' in client.get("/communities").text) is linked
