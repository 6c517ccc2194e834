"""The rules of membership in the commons: accounts, profiles, roles, logins and API tokens."""

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from aicommons.core import jobs
from aicommons.core.db import utcnow
from aicommons.core.errors import CommonsError, ErrorCode
from aicommons.core.pagination import Page, PageRequest
from aicommons.core.ratelimit import Limit, hit
from aicommons.core.security import hash_password, new_secret, secret_hash
from aicommons.ledger import service as ledger
from aicommons.ledger import tokens
from aicommons.ledger.models import AccountKind, Transfer
from aicommons.members import permissions
from aicommons.members.models import ApiToken, GlobalRole, LoginSession, Member
from aicommons.members.schemas import ProfileUpdate, SignUp, TokenCreate, TransferCreate

TOKEN_PREFIX = "aic"
TOKEN_USE_RESOLUTION = timedelta(minutes=1)
SIGN_UPS = Limit(10, timedelta(hours=1))  # accounts one client address makes (decision 0046)
ESTABLISHED_AGE = "members:established-age"  # governable, in minutes
DEFAULT_ESTABLISHED_AGE = 24 * 60


def sign_up(
    *,
    session: Session,
    form: SignUp,
    role: GlobalRole = GlobalRole.MEMBER,
    password_hash: str | None = None,
    address: str | None = None,
) -> Member:
    """A new member. `password_hash` spares the hashing when it was done once for many (the demo's members
    share one published password). `address`, the keyed hash of the client's address, is given by the API
    and the pages: one address makes at most SIGN_UPS accounts an hour (the operator's CLI gives none)."""
    if address is not None:
        hit(session, f"members:signup:address:{address}", SIGN_UPS)
    if session.scalar(select(Member.id).where(Member.handle == form.handle)):
        raise CommonsError(ErrorCode.HANDLE_TAKEN, f"the handle {form.handle!r} is taken")
    email = form.email.lower()
    if session.scalar(select(Member.id).where(func.lower(Member.email) == email)):
        raise CommonsError(ErrorCode.EMAIL_TAKEN)
    member = Member(
        handle=form.handle,
        email=email,
        display_name=form.display_name,
        password_hash=password_hash or hash_password(form.password),
        role=role,
    )
    session.add(member)
    session.flush()
    ledger.record(session, "members:member:signup", actor_id=member.id, data={"role": str(role)})
    return member


def get(*, session: Session, handle: str) -> Member:
    member = session.scalar(select(Member).where(Member.handle == handle.lower()))
    if member is None:
        raise CommonsError(ErrorCode.MEMBER_NOT_FOUND, f"no member has the handle {handle!r}")
    return member


def count(*, session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Member)) or 0


def job_for(*, session: Session, viewer: Member, job_id: int) -> jobs.Job:
    """A background job, for the member who submitted it or an admin; others are told it does not exist."""
    job = jobs.get(session, job_id)
    if not permissions.may_see_job(viewer, job.submitted_by_id):
        raise CommonsError(ErrorCode.JOB_NOT_FOUND, f"job {job_id} does not exist")
    return job


def established_before(session: Session, now: datetime | None = None) -> datetime:
    """Accounts made before this moment are established: their flags can hide a concern and their
    memberships count toward a community's reward (a throwaway account made a moment ago does neither)."""
    minutes = tokens.parameter(session, ESTABLISHED_AGE, DEFAULT_ESTABLISHED_AGE)
    return (now or utcnow()) - timedelta(minutes=minutes)


def is_established(session: Session, member: Member) -> bool:
    return member.created_at <= established_before(session)


def update_profile(*, session: Session, member: Member, changes: ProfileUpdate) -> Member:
    for field, value in changes.model_dump(exclude_unset=True, exclude_none=True).items():
        setattr(member, field, [str(v) for v in value] if isinstance(value, list) else value)
    session.flush()
    return member


def set_role(*, session: Session, actor: Member | None, member: Member, role: GlobalRole) -> Member:
    """Give `member` a global role; `actor` None is the operator at the server's console (the CLI)."""
    if actor is not None:
        permissions.require_admin(actor)
    member.role = role
    session.flush()
    ledger.record(
        session,
        "members:member:role",
        actor_id=actor.id if actor else None,
        subject={"member": member.id},
        data={"role": str(role)},
    )
    return member


def create_token(*, session: Session, member: Member, form: TokenCreate) -> tuple[ApiToken, str]:
    """A new API token and its secret, which is returned this once and never stored."""
    secret = new_secret(TOKEN_PREFIX)
    token = ApiToken(member=member, name=form.name, token_hash=secret_hash(secret), prefix=secret[:10])
    session.add(token)
    session.flush()
    ledger.record(session, "members:token:create", actor_id=member.id, subject={"token": token.id})
    return token, secret


def list_tokens(*, session: Session, member: Member) -> list[ApiToken]:
    return list(
        session.scalars(select(ApiToken).where(ApiToken.member_id == member.id).order_by(ApiToken.id))
    )


def revoke_token(*, session: Session, member: Member, token_id: int) -> ApiToken:
    token = session.get(ApiToken, token_id)
    if token is None or token.member_id != member.id:
        raise CommonsError(ErrorCode.TOKEN_NOT_FOUND, f"you have no API token {token_id}")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        ledger.record(session, "members:token:revoke", actor_id=member.id, subject={"token": token.id})
    session.flush()
    return token


def send_tokens(*, session: Session, sender: Member, form: TransferCreate) -> Transfer:
    """A member-to-member transfer with a note; the log holds the note only as a hash."""
    recipient = get(session=session, handle=form.to)
    if recipient.id == sender.id:
        raise CommonsError(ErrorCode.VALIDATION_FAILED, "you cannot send tokens to yourself")
    return tokens.transfer(
        session,
        initiator=tokens.member_account(sender.id),
        key=form.idempotency_key,
        source=tokens.member_account(sender.id),
        target=tokens.member_account(recipient.id),
        amount=form.amount,
        reason="members:transfer",
        note=form.note,
        actor_id=sender.id,
    )


def account(*, session: Session, member: Member, page: PageRequest) -> tuple[int, Page[Transfer]]:
    """A member's balance and their transfers, newest first."""
    owner = tokens.member_account(member.id)
    return tokens.balance(session, owner), tokens.history(session, owner, page)


def account_handles(*, session: Session, transfers: Iterable[Transfer]) -> dict[str, str]:
    """The handles behind the member accounts of `transfers`, by account owner ("member:12" -> "amina")."""
    owners = {account.owner for moved in transfers for account in (moved.from_account, moved.to_account)}
    ids = {int(owner.split(":", 1)[1]) for owner in owners if tokens.kind_of(owner) is AccountKind.MEMBER}
    if not ids:
        return {}
    rows = session.execute(select(Member.id, Member.handle).where(Member.id.in_(ids)))
    return {tokens.member_account(member_id): handle for member_id, handle in rows}


def member_for_token(*, session: Session, secret: str) -> Member:
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == secret_hash(secret)))
    if token is None or token.revoked_at is not None:
        raise CommonsError(ErrorCode.INVALID_TOKEN)
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at > TOKEN_USE_RESOLUTION:
        token.last_used_at = now  # at most one write a minute per token, not one per request
    return token.member


def open_login(*, session: Session, member: Member, days: int) -> str:
    """Start a browser login and return the cookie secret."""
    secret = new_secret("aics")
    session.add(
        LoginSession(
            member=member, token_hash=secret_hash(secret), expires_at=utcnow() + timedelta(days=days)
        )
    )
    session.flush()
    return secret


def member_for_login(*, session: Session, secret: str) -> Member | None:
    login = session.scalar(select(LoginSession).where(LoginSession.token_hash == secret_hash(secret)))
    if login is None or login.expires_at < utcnow():
        return None
    return login.member


def close_login(*, session: Session, secret: str) -> None:
    session.execute(delete(LoginSession).where(LoginSession.token_hash == secret_hash(secret)))
