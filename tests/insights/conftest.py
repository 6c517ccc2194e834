"""Insights fixtures: a small commons of people and communities, and a way to post insights through the API.

- alice stewards `nurses` (public, health), where carol is a member, and `council` (private, public-sector);
- bob stewards `farmers` (public, agriculture), where erin organizes and frank is a member;
- dave belongs nowhere; root is an admin.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from aicommons.core.security import hash_password
from aicommons.core.web import CSRF_COOKIE
from aicommons.members import service as members
from aicommons.members.models import GlobalRole, Member
from aicommons.members.schemas import SignUp
from tests.communities.conftest import community_form
from tests.conftest import PASSWORD

Headers = dict[str, str]


@dataclass(frozen=True)
class Commons:
    alice: Headers
    bob: Headers
    carol: Headers
    dave: Headers
    erin: Headers
    frank: Headers
    root: Headers

    def of(self, name: str) -> Headers:
        anonymous: Headers = {}
        return anonymous if name == "anonymous" else getattr(self, name)


def insight_form(community: str = "nurses", **changes: Any) -> dict[str, Any]:
    return {
        "community": community,
        "kind": "lesson-learned",
        "title": "Night-shift triage with a sepsis alert",
        "body": "We ran the **sepsis alert** for a month.\n\n- fewer missed cases\n- more alarms at night",
        "sdgs": [3],
        "tags": ["triage", "Night Shift"],
        "risks": ["system-safety-failures-limitations"],
        "evidence": ["https://example.org/study"],
        "license": "CC-BY-4.0",
    } | changes


def _found(client: TestClient, owner: Headers, slug: str, **changes: Any) -> None:
    response = client.post("/api/v1/communities", headers=owner, json=community_form(slug, **changes))
    assert response.status_code == 201, response.text


def _join(client: TestClient, headers: Headers, slug: str) -> None:
    assert client.post(f"/api/v1/communities/{slug}/members", headers=headers).status_code == 201


@pytest.fixture(scope="session")
def shared_hash() -> str:
    """One argon2 hash for everyone here: hashing each member's password would take most of a test."""
    return hash_password(PASSWORD)


@pytest.fixture
def quick_member(factory: sessionmaker[Session], shared_hash: str) -> Callable[..., Member]:
    """Like make_member, with the shared password hash."""

    def make(handle: str, role: GlobalRole = GlobalRole.MEMBER) -> Member:
        form = SignUp(
            handle=handle, email=f"{handle}@example.org", password=PASSWORD, display_name=handle.title()
        )
        with factory.begin() as db:
            return members.sign_up(session=db, form=form, role=role, password_hash=shared_hash)

    return make


@pytest.fixture
def commons(client: TestClient, quick_member, token_for) -> Commons:
    people = {
        name: token_for(quick_member(name)) for name in ("alice", "bob", "carol", "dave", "erin", "frank")
    }
    people["root"] = token_for(quick_member("root", GlobalRole.ADMIN))
    _found(client, people["alice"], "nurses", name="Nurses on AI")
    _found(
        client,
        people["alice"],
        "council",
        sectors=["public-sector"],
        visibility="private",
        join_policy="invite",
    )
    _found(client, people["bob"], "farmers", name="Farmers ML", sectors=["agriculture"], sdgs=[2])
    _join(client, people["carol"], "nurses")
    for name in ("erin", "frank"):
        _join(client, people[name], "farmers")
    role = client.put(
        "/api/v1/communities/farmers/members/erin/role", headers=people["bob"], json={"role": "organizer"}
    )
    assert role.status_code == 200
    return Commons(**people)


@pytest.fixture
def post(client: TestClient, commons: Commons) -> Callable[..., dict[str, Any]]:
    """Post an insight through the API (as alice unless `author` says) and return it."""

    def publish(author: Headers | None = None, **changes: Any) -> dict[str, Any]:
        response = client.post(
            "/api/v1/insights", headers=author or commons.alice, json=insight_form(**changes)
        )
        assert response.status_code == 201, response.text
        return dict(response.json())

    return publish


def count(factory: sessionmaker[Session], model: Any, *where: Any) -> int:
    with factory() as db:
        return db.scalar(select(func.count()).select_from(model).where(*where)) or 0


@pytest.fixture
def browser(app) -> Iterator[Callable[..., TestClient]]:
    """A browser of its own (cookies, CSRF token) per person; logged in as `handle` when given."""
    opened: list[TestClient] = []

    def open_as(handle: str | None = None) -> TestClient:
        page = TestClient(app, headers={"accept": "text/html"}, follow_redirects=False)
        opened.append(page)
        page.get("/login")
        if handle is not None:
            login = page.post("/login", data=with_csrf(page, handle=handle, password=PASSWORD))
            assert login.status_code == 303, login.text
        return page

    yield open_as
    for page in opened:
        page.close()


def with_csrf(page: TestClient, **fields: Any) -> dict[str, Any]:
    return {"csrf_token": page.cookies[CSRF_COOKIE], **fields}


HOSTILE = "\n\n".join(
    (
        "<script>alert('script')</script>",
        "[click me](javascript:alert('link'))",
        '<img src="x" onerror="alert(\'img\')">',
        "![pixel](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
        "[data link](data:text/html,<script>alert('data')</script>)",
        "<a href=\"javascript:alert('raw')\">raw link</a>",
        "<svg onload=\"alert('svg')\"></svg>",
        "**Bold** survives.",
    )
)


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, attrs))


def dangers(html: str) -> list[str]:
    """What in a page could run code: script or svg elements, on* handlers, javascript: or data: URLs."""
    parser = _Elements()
    parser.feed(html)
    found = []
    for tag, attrs in parser.found:
        if tag in {"script", "svg", "iframe", "object"} and not _ours(tag, attrs):
            found.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on") or (value or "").strip().lower().startswith(("javascript:", "data:")):
                found.append(f"<{tag} {name}={value!r}>")
    return found


def _ours(tag: str, attrs: list[tuple[str, str | None]]) -> bool:
    """The page's own script: htmx from /static."""
    return tag == "script" and any(
        name == "src" and (value or "").startswith("/static/") for name, value in attrs
    )
