"""HTML pages of the members domain: sign up, log in and out, one's profile, API tokens and wallet, jobs."""

import uuid
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from aicommons.core import jobs
from aicommons.core.config import Settings
from aicommons.core.errors import CommonsError, ErrorCode
from aicommons.core.pagination import PageRequest, Paging
from aicommons.core.problems import with_retry_after
from aicommons.core.vocabulary import Sector
from aicommons.core.web import (
    AppSettings,
    DbSession,
    FormData,
    PageRenderer,
    is_htmx,
    parse_form,
    require_csrf,
    wants_fragment,
)
from aicommons.ledger import tokens
from aicommons.ledger.models import Transfer
from aicommons.members import logins, notifications, service
from aicommons.members.auth import (
    LOGIN_COOKIE,
    ClientAddress,
    OptionalMember,
    PageMember,
    SessionFactory,
    set_login_cookie,
)
from aicommons.members.models import Member
from aicommons.members.schemas import Login, ProfileUpdate, SignUp, TokenCreate, TransferCreate
from aicommons.web.navigation import Refusal, local_path, refusal, see_other

router = APIRouter(include_in_schema=False, dependencies=[Depends(require_csrf)])

SECTORS = [(sector.value, sector.value.replace("-", " ").capitalize()) for sector in Sector]
FIELD_OF = {ErrorCode.HANDLE_TAKEN: "handle", ErrorCode.EMAIL_TAKEN: "email"}
FINISHED = (jobs.JobState.SUCCEEDED, jobs.JobState.FAILED)
TRANSFER_FIELD_OF = {
    ErrorCode.MEMBER_NOT_FOUND: "to",
    ErrorCode.VALIDATION_FAILED: "to",
    ErrorCode.INSUFFICIENT_FUNDS: "amount",
}
TRANSFER_MESSAGES = {
    # The ledger words its errors for auditors (accounts, amounts); a member reads these instead.
    ErrorCode.INSUFFICIENT_FUNDS: "You do not have that many tokens.",
    ErrorCode.VALIDATION_FAILED: "You cannot send tokens to yourself.",  # the only rule send_tokens adds
    ErrorCode.IDEMPOTENCY_CONFLICT: "This form was already used for another transfer: check your history "
    "below, then send again.",
}
ACCOUNT_LABELS = {"issuance": "New tokens", "treasury": "The commons' treasury"}
REASON_LABELS = {"members:transfer": "Transfer"}
PROFILE_TRANSFERS = 3


@router.get("/signup")
def signup_page(request: Request, pages: PageRenderer, viewer: OptionalMember) -> Response:
    return pages.render(request, "members/signup.html", {"viewer": viewer, "values": {}, "errors": {}})


@router.post("/signup")
def signup(
    *,
    request: Request,
    pages: PageRenderer,
    data: FormData,
    session: DbSession,
    settings: AppSettings,
    address: ClientAddress,
) -> Response:
    try:
        member = service.sign_up(session=session, form=parse_form(SignUp, data), address=address)
    except (ValidationError, CommonsError) as error:
        errors, status = refusal(session, error, FIELD_OF)
        context = {"viewer": None, "values": data, "errors": errors}
        page = pages.render(request, "members/signup.html", context, status_code=status)
        return _retry_after(page, error)
    return _logged_in(session, member, settings, "/")


@router.get("/login")
def login_page(request: Request, pages: PageRenderer, viewer: OptionalMember, next: str = "/") -> Response:
    context: dict[str, Any] = {"viewer": viewer, "values": {}, "errors": {}, "next": local_path(next)}
    return pages.render(request, "members/login.html", context)


@router.post("/login")
def login(
    *,
    request: Request,
    pages: PageRenderer,
    data: FormData,
    session: DbSession,
    settings: AppSettings,
    factory: SessionFactory,
    address: ClientAddress,
) -> Response:
    back_to = local_path(data.pop("next", None))
    try:
        form = parse_form(Login, data)
        member = logins.log_in(
            session=session, factory=factory, login=form.handle, password=form.password, address=address
        )
    except (ValidationError, CommonsError) as error:
        errors, status = refusal(session, error, {})
        context = {"viewer": None, "values": data, "errors": errors, "next": back_to}
        page = pages.render(request, "members/login.html", context, status_code=status)
        return _retry_after(page, error)
    return _logged_in(session, member, settings, back_to)


def _retry_after(page: Response, error: ValidationError | CommonsError) -> Response:
    return with_retry_after(page, error) if isinstance(error, CommonsError) else page


def _logged_in(session: Session, member: Member, settings: Settings, target: str) -> Response:
    secret = service.open_login(session=session, member=member, days=settings.session_days)
    response = see_other(target)
    set_login_cookie(response, secret, days=settings.session_days, secure=settings.secure_cookies)
    return response


@router.post("/logout")
def logout(request: Request, session: DbSession) -> Response:
    if secret := request.cookies.get(LOGIN_COOKIE):
        service.close_login(session=session, secret=secret)
    response = see_other("/")
    response.delete_cookie(LOGIN_COOKIE, httponly=True, samesite="lax")
    return response


@router.get("/profile")
def profile_page(
    request: Request, pages: PageRenderer, session: DbSession, viewer: PageMember, saved: bool = False
) -> Response:
    return pages.render(request, "members/profile.html", _profile(session, viewer, saved=saved))


@router.post("/profile")
def save_profile(
    request: Request, pages: PageRenderer, data: FormData, session: DbSession, viewer: PageMember
) -> Response:
    try:
        service.update_profile(session=session, member=viewer, changes=_profile_changes(data))
    except (ValidationError, CommonsError) as error:
        errors, status = refusal(session, error, {})
        context = _profile(session, viewer, values=data, errors=errors)
        return pages.render(request, "members/profile.html", context, status_code=status)
    return see_other("/profile?saved=true")


def _profile_changes(data: dict[str, Any]) -> ProfileUpdate:
    """Every field of the profile form, so that emptying one (bio, sectors, languages) clears it."""
    languages = [code.strip().lower() for code in str(data.get("languages", "")).split(",") if code.strip()]
    return ProfileUpdate.model_validate(
        {
            "display_name": data.get("display_name", ""),
            "bio": data.get("bio", ""),
            "sectors": data.get("sectors", []),
            "languages": languages,
        }
    )


@router.post("/profile/tokens")
def create_token(
    request: Request, pages: PageRenderer, data: FormData, session: DbSession, viewer: PageMember
) -> Response:
    """Create an API token and show its secret in this response, the only time it is ever shown."""
    try:
        token, secret = service.create_token(
            session=session, member=viewer, form=parse_form(TokenCreate, data)
        )
    except (ValidationError, CommonsError) as error:
        errors, status = refusal(session, error, {})
        context = _profile(session, viewer, token_values=data, token_errors=errors)
        return pages.render(request, "members/profile.html", context, status_code=status)
    context = _profile(session, viewer, new_token=token, new_secret=secret)
    return pages.render(request, "members/profile.html", context, status_code=201)


@router.get("/profile/tokens")
def tokens_page() -> Response:
    """Where a reload after creating a token lands without creating another one."""
    return see_other("/profile#tokens")


@router.post("/profile/tokens/{token_id}/revoke")
def revoke_token(request: Request, token_id: int, session: DbSession, viewer: PageMember) -> Response:
    service.revoke_token(session=session, member=viewer, token_id=token_id)
    return see_other("/profile#tokens")


@router.get("/wallet")
def wallet_page(
    *,
    request: Request,
    pages: PageRenderer,
    session: DbSession,
    viewer: PageMember,
    page: Paging,
    sent: int | None = None,
    to: str = "",
) -> Response:
    """Balance, history and the send form; the history's page links swap only the history."""
    values = {"to": to, "idempotency_key": _new_key()}
    context = _wallet(session, viewer, page, sent=sent, values=values, errors={})
    template = "members/_history.html" if wants_fragment(request, "history") else "members/wallet.html"
    response = pages.render(request, template, context)
    response.headers["Vary"] = "HX-Request, HX-Target"
    return response


@router.post("/wallet")
def send_tokens(
    request: Request, pages: PageRenderer, data: FormData, session: DbSession, viewer: PageMember
) -> Response:
    """Send tokens; the form's idempotency key, made when it was shown, makes a second submit a no-op."""
    try:
        moved = service.send_tokens(session=session, sender=viewer, form=parse_form(TransferCreate, data))
    except (ValidationError, CommonsError) as error:
        errors, status = _transfer_refused(session, error)
        conflict = isinstance(error, CommonsError) and error.code is ErrorCode.IDEMPOTENCY_CONFLICT
        values = data | {"idempotency_key": _new_key()} if conflict else data
        context = _wallet(session, viewer, PageRequest(), values=values, errors=errors)
        return pages.render(request, "members/wallet.html", context, status_code=status)
    return see_other(f"/wallet?sent={moved.id}")


def _new_key() -> str:
    return str(uuid.uuid4())


def _transfer_refused(session: Session, error: ValidationError | CommonsError) -> Refusal:
    errors, status = refusal(session, error, TRANSFER_FIELD_OF)
    if isinstance(error, CommonsError) and error.code in TRANSFER_MESSAGES:
        errors = {TRANSFER_FIELD_OF.get(error.code, "form"): TRANSFER_MESSAGES[error.code]}
    return Refusal(errors, status)


def _wallet(
    session: Session, member: Member, page: PageRequest, *, sent: int | None = None, **context: Any
) -> dict[str, Any]:
    """The wallet page: the balance, a page of transfers and, after a send, the transfer just made."""
    balance, history = service.account(session=session, member=member, page=page)
    mine = tokens.member_account(member.id)
    just_sent = next((t for t in history.items if t.id == sent and t.from_account.owner == mine), None)
    return _transfers(session, member, history.items) | {
        "balance": balance,
        "history": history,
        "just_sent": just_sent,
        **context,
    }


def _transfers(session: Session, member: Member, transfers: list[Transfer]) -> dict[str, Any]:
    """What the transfers table needs to name each counterparty and reason."""
    return {
        "viewer": member,
        "mine": tokens.member_account(member.id),
        "handles": service.account_handles(session=session, transfers=transfers),
        "account_labels": ACCOUNT_LABELS,
        "reason_labels": REASON_LABELS,
    }


def _profile(session: Session, member: Member, **context: Any) -> dict[str, Any]:
    balance, recent = service.account(
        session=session, member=member, page=PageRequest(size=PROFILE_TRANSFERS)
    )
    values = {
        "display_name": member.display_name,
        "bio": member.bio,
        "sectors": member.sectors,
        "languages": ", ".join(member.languages),
    }
    return {
        "viewer": member,
        "values": values,
        "errors": {},
        "token_values": {},
        "token_errors": {},
        "tokens": service.list_tokens(session=session, member=member),
        "choices": {"sectors": SECTORS},
        "balance": balance,
        "recent": recent,
        **_transfers(session, member, recent.items),
        **context,
    }


@router.get("/jobs/{job_id}")
def job_progress(
    request: Request, job_id: int, pages: PageRenderer, session: DbSession, viewer: PageMember
) -> Response:
    """A job's state; HTMX polls the fragment until the job is done, then triggers `job-finished`."""
    job = service.job_for(session=session, viewer=viewer, job_id=job_id)
    template = "partials/job.html" if is_htmx(request) else "members/job.html"
    response = pages.render(request, template, {"viewer": viewer, "job": job})
    if job.state in FINISHED:
        response.headers["HX-Trigger"] = "job-finished"
    return response


@router.get("/notifications")
def notifications_page(
    request: Request, pages: PageRenderer, session: DbSession, viewer: PageMember, page: Paging
) -> Response:
    """The member's notifications, newest first, unread ones marked."""
    found = notifications.list_for(session, viewer, page)
    return pages.render(request, "members/notifications.html", {"viewer": viewer, "found": found})


@router.get("/notifications/count")
def unread_badge(request: Request, session: DbSession, viewer: OptionalMember) -> Response:
    """The navigation's link text: "Notifications" and, when some are unread, their count."""
    unread = notifications.unread_count(session, viewer) if viewer else 0
    return HTMLResponse(f'Notifications <span class="badge">{unread}</span>' if unread else "Notifications")


@router.post("/notifications/read")
def mark_notifications_read(session: DbSession, viewer: PageMember) -> Response:
    notifications.mark_all_read(session, viewer)
    return see_other("/notifications")
