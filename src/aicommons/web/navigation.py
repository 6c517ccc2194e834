"""How the HTML pages move a browser along: redirects, the way to the login page, and forms sent back."""

import re
from typing import NamedTuple
from urllib.parse import quote, urlsplit

from fastapi import Request
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from sqlalchemy.orm import Session

from aicommons.core.db import doom
from aicommons.core.errors import CommonsError, ErrorCode
from aicommons.core.web import form_errors


class Refusal(NamedTuple):
    """Why a form was refused: messages by field name ("form" for the whole form) and the status."""

    errors: dict[str, str]
    status: int


def see_other(path: str) -> RedirectResponse:
    """Post/Redirect/Get: answer a successful form with a 303 to the page that shows the result."""
    return RedirectResponse(path, status_code=303)


def local_path(target: str | None, default: str = "/") -> str:
    """`target` when it is a path on this site; never another site (`//host`, `https:`, `/\\host`)."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return default
    return target


class LoginRequired(Exception):
    """A page or form needs a logged-in member; the browser goes to the login page and back."""


def to_login(request: Request, _exc: Exception | None = None) -> RedirectResponse:
    """The login page, coming back here afterwards (or, after a form, to the page that held it)."""
    if request.method == "GET":
        query = request.url.query
        back_to = request.url.path + (f"?{query}" if query else "")
    else:
        back_to = urlsplit(request.headers.get("referer", "")).path
    return see_other(f"/login?next={quote(local_path(back_to), safe='/')}")


PATTERN_HINTS = {
    "handle": "Use 3 to 32 lowercase letters, digits, - or _, starting with a letter or digit.",
    "steward": "Use the steward's handle: lowercase letters, digits, - or _.",
    "slug": "Use 3 to 50 lowercase letters, digits and hyphens, e.g. water-watch (no spaces).",
}


def refusal(session: Session, error: ValidationError | CommonsError, fields: dict[ErrorCode, str]) -> Refusal:
    """A form sent back: nothing it did is kept (its unit of work is doomed, whatever status the page is
    answered with), and each message goes next to its field."""
    doom(session)
    if isinstance(error, CommonsError):
        return Refusal({fields.get(error.code, "form"): error.detail}, error.code.status)
    return Refusal({field: _readable(field, message) for field, message in form_errors(error).items()}, 422)


def _readable(field: str, message: str) -> str:
    if message.startswith("String should match pattern"):
        return PATTERN_HINTS.get(field, "This is not in the expected form.")
    if message.startswith("List should have at least 1 item"):
        return "Choose at least one."
    if message == "Field required":
        return "Please fill this in."
    if shortest := re.fullmatch(r"String should have at least (\d+) characters?", message):
        return f"Use at least {shortest[1]} characters."
    return message
