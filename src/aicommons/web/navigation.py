"""Where the HTML pages send a browser next: redirects after a POST, to the login page, and back."""

from urllib.parse import quote

from fastapi import Request
from fastapi.responses import RedirectResponse

from aicommons.core.web import is_htmx


def see_other(path: str) -> RedirectResponse:
    """Post/Redirect/Get: answer a successful form with a 303 to the page that shows the result."""
    return RedirectResponse(path, status_code=303)


def local_path(target: str | None, default: str = "/") -> str:
    """`target` when it is a path on this site; never another site (`//host`, `https:`, `/\\host`)."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return default
    return target


def to_login(request: Request, back_to: str | None = None) -> RedirectResponse:
    """Send someone who is not logged in to the login page, to come back to `back_to` (or here)."""
    if back_to is None:
        query = request.url.query
        back_to = request.url.path + (f"?{query}" if query else "")
    return see_other(f"/login?next={quote(local_path(back_to), safe='/')}")


def wants_fragment(request: Request, target: str) -> bool:
    """An HTMX request that swaps only the element `target` (not a history restore of the page)."""
    return (
        is_htmx(request)
        and request.headers.get("HX-Target") == target
        and request.headers.get("HX-History-Restore-Request") != "true"
    )
