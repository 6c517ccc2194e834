"""Who is asking: a bearer API token or a browser login cookie, resolved once per request, and the keyed hash
of the address the request came from."""

import hashlib
import hmac
from functools import lru_cache
from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session, sessionmaker

from aicommons.core.errors import CommonsError, ErrorCode
from aicommons.core.web import DbSession, Visitor, check_csrf, submitted_csrf
from aicommons.ledger.note import Signer
from aicommons.members import service
from aicommons.members.models import GlobalRole, Member
from aicommons.web.navigation import LoginRequired

LOGIN_COOKIE = "aic_session"
MODERATING = (GlobalRole.MODERATOR, GlobalRole.ADMIN)
# The message of the concerns domain, where the hashing began: hashes made before stay the same.
PEPPER_MESSAGE = b"aicommons/concerns: the key of client address hashes"


def optional_member(
    request: Request, session: DbSession, csrf: Annotated[str | None, Depends(submitted_csrf)]
) -> Member | None:
    """The member behind the request, or None; a cookie login must also pass the CSRF check."""
    authorization = request.headers.get("Authorization", "")
    if authorization:
        scheme, _, secret = authorization.partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            raise CommonsError(ErrorCode.INVALID_TOKEN, "use 'Authorization: Bearer <token>'")
        return service.member_for_token(session=session, secret=secret.strip())
    cookie = request.cookies.get(LOGIN_COOKIE)
    member = service.member_for_login(session=session, secret=cookie) if cookie else None
    if member is not None:
        check_csrf(request, csrf)
    # So that even an error page, rendered after the rollback, shows who is logged in.
    request.state.viewer = (
        Visitor(member.handle, member.display_name, member.role in MODERATING) if member is not None else None
    )
    return member


def current_member(member: Annotated[Member | None, Depends(optional_member)]) -> Member:
    if member is None:
        raise CommonsError(ErrorCode.NOT_AUTHENTICATED)
    return member


def page_member(member: Annotated[Member | None, Depends(optional_member)]) -> Member:
    """For pages: the logged-in member, or off to the login page."""
    if member is None:
        raise LoginRequired
    return member


OptionalMember = Annotated[Member | None, Depends(optional_member)]
CurrentMember = Annotated[Member, Depends(current_member)]
PageMember = Annotated[Member, Depends(page_member)]


def set_login_cookie(response: Response, secret: str, *, days: int, secure: bool) -> None:
    response.set_cookie(
        LOGIN_COOKIE, secret, max_age=days * 86400, httponly=True, samesite="lax", secure=secure
    )


@lru_cache(maxsize=8)
def _pepper(signer: Signer) -> bytes:
    """A secret only this commons knows: its Ed25519 signature (deterministic) of a fixed message. Without
    it, the 2^32 IPv4 addresses could be hashed and looked up in seconds (decision 0025)."""
    return hashlib.sha256(signer.key.sign(PEPPER_MESSAGE)).digest()


def address_hash(signer: Signer, address: str) -> str:
    return hmac.new(_pepper(signer), address.encode(), hashlib.sha256).hexdigest()


def client_address(request: Request) -> str:
    """The keyed hash of the address the request came from; the address itself is never kept."""
    address = request.client.host if request.client else "unknown"
    return address_hash(request.app.state.log.signer, address)


def session_factory(request: Request) -> sessionmaker[Session]:
    """For the few writes that must outlive the request's own transaction (a failed login's count)."""
    factory: sessionmaker[Session] = request.app.state.session_factory
    return factory


ClientAddress = Annotated[str, Depends(client_address)]
SessionFactory = Annotated[sessionmaker[Session], Depends(session_factory)]
