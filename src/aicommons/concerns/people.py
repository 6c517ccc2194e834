"""Who raises, corroborates or flags a concern, without keeping who they are: a member, or a keyed hash of
the client's address (the address itself is never stored, logged or shown)."""

import hashlib
import hmac
from dataclasses import dataclass
from functools import lru_cache
from typing import Annotated

from fastapi import Depends, Request

from aicommons.ledger.note import Signer
from aicommons.members.auth import OptionalMember
from aicommons.members.models import Member

PEPPER_MESSAGE = b"aicommons/concerns: the key of client address hashes"


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


@lru_cache(maxsize=8)
def _pepper(signer: Signer) -> bytes:
    """A secret only this commons knows: its Ed25519 signature (deterministic) of a fixed message. Without
    it, the 2^32 IPv4 addresses could be hashed and looked up in seconds."""
    return hashlib.sha256(signer.key.sign(PEPPER_MESSAGE)).digest()


def address_hash(signer: Signer, address: str) -> str:
    return hmac.new(_pepper(signer), address.encode(), hashlib.sha256).hexdigest()


def person(request: Request, viewer: OptionalMember) -> Person:
    """The request's person: the member behind it, and the keyed hash of the address it came from."""
    address = request.client.host if request.client else "unknown"
    return Person(member=viewer, address=address_hash(request.app.state.log.signer, address))


Asker = Annotated[Person, Depends(person)]
