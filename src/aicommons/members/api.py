"""JSON routes of the members domain under /api/v1."""

from fastapi import APIRouter, status

from aicommons.core import jobs
from aicommons.core.pagination import Paging
from aicommons.core.web import DbSession
from aicommons.ledger import tokens
from aicommons.members import logins, notifications, service
from aicommons.members.auth import ClientAddress, CurrentMember, SessionFactory
from aicommons.members.schemas import (
    AccountRead,
    MemberRead,
    MeRead,
    NotificationPage,
    NotificationRead,
    ProfileUpdate,
    RoleUpdate,
    SignUp,
    TokenCreate,
    TokenCreated,
    TokenLogin,
    TokenRead,
    TransferCreate,
    TransferRead,
)

router = APIRouter(prefix="/api/v1", tags=["members"])


@router.post("/members", status_code=status.HTTP_201_CREATED)
def sign_up(form: SignUp, session: DbSession, address: ClientAddress) -> MeRead:
    """Sign up; one address signs up only so many accounts an hour (`rate_limited`)."""
    return MeRead.model_validate(service.sign_up(session=session, form=form, address=address))


@router.post("/auth/tokens", status_code=status.HTTP_201_CREATED)
def log_in_for_token(
    form: TokenLogin, session: DbSession, factory: SessionFactory, address: ClientAddress
) -> TokenCreated:
    """Trade a handle and password for a new API token (what `aicommons login` does); failed logins lock
    the account and the address out for growing times (`too_many_attempts`)."""
    member = logins.log_in(
        session=session, factory=factory, login=form.handle, password=form.password, address=address
    )
    token, secret = service.create_token(session=session, member=member, form=TokenCreate(name=form.name))
    return TokenCreated.of(token, secret)


@router.get("/me")
def me(member: CurrentMember) -> MeRead:
    return MeRead.model_validate(member)


@router.patch("/me")
def update_me(changes: ProfileUpdate, member: CurrentMember, session: DbSession) -> MeRead:
    return MeRead.model_validate(service.update_profile(session=session, member=member, changes=changes))


@router.get("/me/tokens")
def my_tokens(member: CurrentMember, session: DbSession) -> list[TokenRead]:
    return [TokenRead.model_validate(t) for t in service.list_tokens(session=session, member=member)]


@router.post("/me/tokens", status_code=status.HTTP_201_CREATED)
def create_token(form: TokenCreate, member: CurrentMember, session: DbSession) -> TokenCreated:
    token, secret = service.create_token(session=session, member=member, form=form)
    return TokenCreated.of(token, secret)


@router.delete("/me/tokens/{token_id}")
def revoke_token(token_id: int, member: CurrentMember, session: DbSession) -> TokenRead:
    return TokenRead.model_validate(service.revoke_token(session=session, member=member, token_id=token_id))


@router.get("/me/account")
def my_account(member: CurrentMember, session: DbSession, page: Paging) -> AccountRead:
    """Your token balance and transfers, newest first."""
    balance, history = service.account(session=session, member=member, page=page)
    return AccountRead(
        owner=tokens.member_account(member.id),
        balance=balance,
        transfers=[TransferRead.of(t) for t in history.items],
        total=history.total,
        page=history.page,
        size=history.size,
    )


@router.post("/me/transfers", status_code=status.HTTP_201_CREATED)
def send_tokens(form: TransferCreate, member: CurrentMember, session: DbSession) -> TransferRead:
    """Send tokens to another member; a retry with the same idempotency_key returns the first transfer."""
    return TransferRead.of(service.send_tokens(session=session, sender=member, form=form))


@router.get("/members/{handle}")
def member_profile(handle: str, session: DbSession, _viewer: CurrentMember) -> MemberRead:
    return MemberRead.model_validate(service.get(session=session, handle=handle))


@router.put("/members/{handle}/role")
def set_role(handle: str, change: RoleUpdate, actor: CurrentMember, session: DbSession) -> MemberRead:
    member = service.get(session=session, handle=handle)
    return MemberRead.model_validate(
        service.set_role(session=session, actor=actor, member=member, role=change.role)
    )


@router.get("/jobs/{job_id}", tags=["jobs"])
def job_status(job_id: int, member: CurrentMember, session: DbSession) -> jobs.JobRead:
    """A background job's state and progress, for the member who submitted it (or an admin)."""
    return jobs.JobRead.model_validate(service.job_for(session=session, viewer=member, job_id=job_id))


@router.get("/me/notifications")
def my_notifications(member: CurrentMember, session: DbSession, page: Paging) -> NotificationPage:
    """Your notifications, newest first (digests of your subscriptions, waitlist places, votes)."""
    found = notifications.list_for(session, member, page)
    return NotificationPage(
        items=[NotificationRead.model_validate(note) for note in found.items],
        unread=notifications.unread_count(session, member),
        total=found.total,
        page=found.page,
        size=found.size,
    )


@router.post("/me/notifications/read", status_code=status.HTTP_204_NO_CONTENT)
def mark_notifications_read(member: CurrentMember, session: DbSession) -> None:
    """Mark every notification of yours as read."""
    notifications.mark_all_read(session, member)
