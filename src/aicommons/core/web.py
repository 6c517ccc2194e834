"""Request plumbing shared by every domain: the unit of work, CSRF, form parsing and page rendering."""

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session

from aicommons.core.config import Settings
from aicommons.core.db import unit_of_work
from aicommons.core.errors import CommonsError, ErrorCode
from aicommons.core.security import same_secret

CSRF_COOKIE = "aic_csrf"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
M = TypeVar("M", bound=BaseModel)


def db_session(request: Request) -> Iterator[Session]:
    """The request's one transaction; it commits before the response is sent."""
    with unit_of_work(request.app.state.session_factory) as session:
        yield session


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
