"""Request plumbing shared by every domain: the unit of work, CSRF, form parsing and page rendering."""

import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from functools import partial
from typing import Annotated, Any, TypeVar

import anyio
from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from aicommons.core.config import Settings
from aicommons.core.db import end_unit_of_work
from aicommons.core.errors import CommonsError, ErrorCode
from aicommons.core.security import same_secret

CSRF_COOKIE = "aic_csrf"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
UNIT_OF_WORK = "aicommons.unit_of_work"  # the key in the ASGI scope of the request's RequestWork
M = TypeVar("M", bound=BaseModel)


@dataclass
class RequestWork:
    """A request's unit of work: its session, once something asks for it, and whether the route raised."""

    session: Session | None = None
    raised: bool = False

    async def end(self, *, failed: bool) -> None:
        session, self.session = self.session, None
        if session is not None:
            # Not in turn with the routes for the thread pool (as FastAPI ends its dependencies): routes
            # waiting there for a connection, or for SQLite's write lock, may wait for this very end.
            ending = partial(end_unit_of_work, session, failed=failed or self.raised)
            await anyio.to_thread.run_sync(ending, limiter=anyio.CapacityLimiter(1))


class RequestTransactions:
    """Ends each request's unit of work once its answer's status is known, before the answer leaves.

    A status from 400 up rolls back, however the answer was built (a form sent back, an error page, a
    problem document, a JSONResponse of the view's own); so do an exception through the route, even one
    answered with a redirect, and a doomed session (a refused form, `web.navigation.refusal`). Anything
    else commits. A refused request changes nothing without a view having to remember it
    (docs/decisions/0048-refused-requests-roll-back.md)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        work = scope[UNIT_OF_WORK] = RequestWork()

        async def send_once_ended(message: Message) -> None:
            if message["type"] == "http.response.start":
                await work.end(failed=message["status"] >= 400)
            await send(message)

        try:
            await self.app(scope, receive, send_once_ended)
        finally:
            with anyio.CancelScope(shield=True):  # even a cancelled request gives its connection back
                await work.end(failed=True)  # still open here: nothing was answered


async def db_session(request: Request) -> AsyncIterator[Session]:
    """The request's one transaction, which RequestTransactions commits or rolls back.

    Async, so that it costs no trip to the thread pool: opening a session does no I/O."""
    work: RequestWork = request.scope[UNIT_OF_WORK]
    if work.session is None:
        work.session = request.app.state.session_factory()
    try:
        yield work.session
    except BaseException:
        work.raised = True
        raise


DbSession = Annotated[Session, Depends(db_session, scope="function")]


def app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


AppSettings = Annotated[Settings, Depends(app_settings)]


async def submitted_csrf(request: Request) -> str | None:
    """The CSRF token an unsafe request carries, from its header or its form."""
    if request.method in SAFE_METHODS:
        return None
    if header := request.headers.get(CSRF_HEADER):
        return header
    if request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/")
    ):
        value = (await request.form()).get(CSRF_FIELD)
        return value if isinstance(value, str) else None
    return None


def check_csrf(request: Request, submitted: str | None) -> None:
    """Refuse an unsafe request whose CSRF token does not match its cookie (double submit)."""
    if request.method in SAFE_METHODS:
        return
    expected = request.cookies.get(CSRF_COOKIE)
    if not expected or not submitted or not same_secret(expected, submitted):
        raise CommonsError(ErrorCode.CSRF_FAILED)


def require_csrf(request: Request, submitted: Annotated[str | None, Depends(submitted_csrf)]) -> None:
    check_csrf(request, submitted)


def csrf_token(request: Request) -> str:
    """This browser's CSRF token, minted on first sight."""
    token = request.cookies.get(CSRF_COOKIE) or getattr(request.state, "new_csrf", None)
    if token is None:
        token = request.state.new_csrf = secrets.token_urlsafe(32)
    return token


def form_errors(error: ValidationError) -> dict[str, str]:
    """Field name -> first message, for showing next to a form's inputs."""
    errors: dict[str, str] = {}
    for item in error.errors():
        field = str(item["loc"][0]) if item["loc"] else "form"
        errors.setdefault(field, item["msg"].removeprefix("Value error, "))
    return errors


async def form_data(request: Request) -> dict[str, Any]:
    """A submitted form as a dict; repeated fields (checkbox groups) become lists."""
    form = await request.form()
    data: dict[str, Any] = {}
    for key in form:
        if key == CSRF_FIELD:
            continue
        values = [v for v in form.getlist(key) if isinstance(v, str)]  # pages upload no files
        if values:
            data[key] = values if key.endswith("[]") or len(values) > 1 else values[0]
    return {key.removesuffix("[]"): value for key, value in data.items()}


FormData = Annotated[dict[str, Any], Depends(form_data)]


def parse_form(model: type[M], data: dict[str, Any]) -> M:
    """Validate form fields into `model`; a ValidationError goes back to the form.

    An empty field means "not given", so optional fields keep their defaults; a form that must
    be able to clear a text field validates its model with that field given explicitly.
    """
    return model.model_validate({key: value for key, value in data.items() if value != ""})


@dataclass(frozen=True)
class Visitor:
    """Who is logged in, as the page header shows them; it outlives the request's transaction."""

    handle: str
    display_name: str
    moderates: bool = False  # a moderator or admin: the header links the moderation queue


def query_filters(model: type[M], request: Request) -> M:
    """A page's filter form from the query string; empty fields mean "any", bad ones are a 422."""
    fields = {key: value for key, value in request.query_params.items() if key in model.model_fields}
    try:
        return parse_form(model, fields)
    except ValidationError as error:
        detail = "; ".join(f"{field}: {message}" for field, message in form_errors(error).items())
        raise CommonsError(ErrorCode.VALIDATION_FAILED, detail) from error


class Pages:
    """Renders Jinja2 pages, and only the changed fragment for HTMX requests."""

    def __init__(self, templates: Jinja2Templates) -> None:
        self.templates = templates

    def render(
        self,
        request: Request,
        template: str,
        context: dict[str, Any] | None = None,
        *,
        status_code: int = 200,
    ) -> HTMLResponse:
        known = {"viewer": request.state.viewer} if hasattr(request.state, "viewer") else {}
        context = {"csrf_token": csrf_token(request), **known, **(context or {})}
        response = self.templates.TemplateResponse(request, template, context, status_code=status_code)
        if new := getattr(request.state, "new_csrf", None):
            settings = app_settings(request)
            response.set_cookie(
                CSRF_COOKIE, new, httponly=True, samesite="lax", secure=settings.secure_cookies
            )
        return response


def pages(request: Request) -> Pages:
    renderer: Pages = request.app.state.pages
    return renderer


PageRenderer = Annotated[Pages, Depends(pages)]


def is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


def wants_fragment(request: Request, target: str) -> bool:
    """An HTMX request that swaps only the element `target` (not a history restore of the page)."""
    return (
        is_htmx(request)
        and request.headers.get("HX-Target") == target
        and request.headers.get("HX-History-Restore-Request") != "true"
    )
