"""Fixtures of the SDK tests: members with API tokens on a live commons, and files to publish."""

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from aicommons.ledger import tokens
from aicommons.members.models import Member
from aicommons.sdk import Commons

CSV = "city,year,rainfall_mm,flooded\nDhaka,2020,2100.5,true\nLagos,2020,1800,false\nLima,2021,,false\n"
CROISSANT = {
    "@context": {"@vocab": "https://schema.org/", "cr": "http://mlcommons.org/croissant/"},
    "@type": "Dataset",
    "conformsTo": "http://mlcommons.org/croissant/1.0",
    "name": "Rainfall from Croissant",
    "description": "Yearly rainfall and whether the city flooded.",
    "license": "CC-BY-4.0",
    "keywords": ["rain", "flood"],
    "distribution": [
        {
            "@type": "cr:FileObject",
            "@id": "rainfall.csv",
            "contentUrl": "rainfall.csv",
            "encodingFormat": "text/csv",
        }
    ],
}


@pytest.fixture
def rainfall(tmp_path) -> Path:
    path = tmp_path / "rainfall.csv"
    path.write_text(CSV)
    return path


@pytest.fixture
def secret_of(token_for) -> Callable[[Member], str]:
    """A fresh API token of a member, as the SDK takes it."""
    return lambda member: token_for(member)["Authorization"].removeprefix("Bearer ")


@pytest.fixture
def commons_of(live_server, secret_of, tmp_path) -> Iterator[Callable[[Member], Commons]]:
    """`Commons` on the live server, logged in as a member; closed after the test."""
    opened: list[Commons] = []

    def open_as(member: Member) -> Commons:
        opened.append(Commons(live_server, token=secret_of(member), cache_dir=tmp_path / "cache"))
        return opened[-1]

    yield open_as
    for commons in opened:
        commons.close()


@pytest.fixture
def fund(factory) -> Callable[[Member, int], None]:
    def give(member: Member, amount: int) -> None:
        with factory.begin() as db:
            account = tokens.member_account(member.id)
            tokens.mint(db, key=f"sdk-test/{member.id}", target=account, amount=amount, reason="test")

    return give
