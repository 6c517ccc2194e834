"""Fixtures of the datasets tests: owners, buyers, a small CSV, and a helper to register datasets."""

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from aicommons.ledger import tokens
from aicommons.members.models import Member

CSV = b"city,year,rainfall_mm,flooded\nDhaka,2020,2100.5,true\nLagos,2020,1800,false\nLima,2021,,false\n"


@pytest.fixture
def owner(make_member) -> Member:
    return make_member("owner")


@pytest.fixture
def reader(make_member) -> Member:
    return make_member("reader")


@pytest.fixture
def owner_headers(owner, token_for) -> dict[str, str]:
    return token_for(owner)


@pytest.fixture
def reader_headers(reader, token_for) -> dict[str, str]:
    return token_for(reader)


def dataset_form(title: str = "Rainfall and floods", **changes: Any) -> dict[str, Any]:
    return {
        "title": title,
        "summary": "Yearly rainfall and whether the city flooded.",
        "license": "CC-BY-4.0",
        "policy": "open",
        "keywords": ["rain", "flood"],
        "sdgs": [11, 13],
        "sectors": ["climate"],
        "datasheet": {"motivation": "Flood early warning.", "composition": "One row per city and year."},
    } | changes


@pytest.fixture
def new_dataset(client: TestClient, owner_headers) -> Callable[..., dict[str, Any]]:
    """Register a dataset as the owner; with `csv`, upload it as the first version."""

    def make(title: str = "Rainfall and floods", csv: bytes | None = CSV, **changes: Any) -> dict[str, Any]:
        created = client.post("/api/v1/datasets", json=dataset_form(title, **changes), headers=owner_headers)
        assert created.status_code == 201, created.text
        if csv is not None:
            uploaded = upload(client, created.json()["slug"], csv, owner_headers)
            assert uploaded.status_code == 201, uploaded.text
        return created.json()

    return make


def upload(
    client: TestClient, slug: str, body: bytes, headers: dict[str, str], content_type: str = "text/csv"
):
    return client.post(
        f"/api/v1/datasets/{slug}/versions", content=body, headers=headers | {"Content-Type": content_type}
    )


@pytest.fixture
def fund(factory) -> Callable[[Member, int], None]:
    """Mint `amount` tokens to a member."""

    def give(member: Member, amount: int) -> None:
        with factory.begin() as db:
            owner = tokens.member_account(member.id)
            tokens.mint(db, key=f"test/{member.id}/{amount}", target=owner, amount=amount, reason="test")

    return give
