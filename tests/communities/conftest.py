"""Communities fixtures: a steward with a community of each policy, and a way to build more."""

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

Headers = dict[str, str]


def community_form(slug: str, **changes: Any) -> dict[str, Any]:
    return {
        "name": f"Community {slug}",
        "slug": slug,
        "format": "discussion",
        "description": "Nurses talk about AI at the bedside.",
        "sectors": ["health"],
        "sdgs": [3],
        "region": "europe",
        "languages": ["en"],
    } | changes


@pytest.fixture
def steward(make_member, token_for) -> Headers:
    return token_for(make_member("steward"))


@pytest.fixture
def new_community(client: TestClient, steward: Headers) -> Callable[..., dict[str, Any]]:
    """Create a community through the API as the steward and return it."""

    def create(slug: str, **changes: Any) -> dict[str, Any]:
        response = client.post("/api/v1/communities", headers=steward, json=community_form(slug, **changes))
        assert response.status_code == 201, response.text
        return dict(response.json())

    return create


@pytest.fixture
def visitor(make_member, token_for) -> Headers:
    return token_for(make_member("visitor"))
