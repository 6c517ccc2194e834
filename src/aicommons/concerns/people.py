"""Who raises, corroborates or flags a concern, without keeping who they are: a member, or a keyed hash of
the client's address (the address itself is never stored, logged or shown)."""

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends

from aicommons.members.auth import ClientAddress, OptionalMember
from aicommons.members.models import Member


@dataclass(frozen=True)
class Person:
    """Someone taking part: `address` is the HMAC of their client address, kept for rate limits and for
    telling one anonymous flagger or witness from another."""

    member: Member | None
    address: str

    @property
    def key(self) -> str:
        """Who this is, as far as counting them once goes: the member, else the address hash."""
        return f"member:{self.member.id}" if self.member is not None else f"address:{self.address}"


def person(address: ClientAddress, viewer: OptionalMember) -> Person:
    """The request's person: the member behind it, and the keyed hash of the address it came from."""
    return Person(member=viewer, address=address)


Asker = Annotated[Person, Depends(person)]
