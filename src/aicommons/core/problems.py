"""Every error leaves as RFC 9457 problem+json from the API, or as an error page in the browser."""

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from aicommons.core.errors import CommonsError, ErrorCode
from aicommons.core.web import Pages

PROBLEM_JSON = "application/problem+json"
MAX_BODY_BYTES = 1_048_576
UPLOAD_PATHS = ("/versions", "/evaluation", "/submissions")  # routes that stream files to disk
HTTP_CODES = {
    401: ErrorCode.NOT_AUTHENTICATED,
    403: ErrorCode.FORBIDDEN,
    405: ErrorCode.METHOD_NOT_ALLOWED,
    413: ErrorCode.PAYLOAD_TOO_LARGE,
}


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or "text/html" not in request.headers.get("accept", "")


def problem_response(request: Request, error: CommonsError) -> Response:
    if _wants_json(request):
        response: Response = JSONResponse(
            error.problem(request.url.path), status_code=error.code.status, media_type=PROBLEM_JSON
        )
    else:
        pages: Pages = request.app.state.pages
        response = pages.render(request, "error.html", {"error": error}, status_code=error.code.status)
    return with_retry_after(response, error)


def with_retry_after(response: Response, error: CommonsError) -> Response:
    """A refusal that says when to try again (rate_limited, too_many_attempts) says it in the header too."""
    if "retry_after" in error.extra:
        response.headers["Retry-After"] = str(error.extra["retry_after"])
    return response


async def _commons_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, CommonsError)
    return problem_response(request, exc)


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = [_public_error(error) for error in exc.errors()]
    detail = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors[:5])
    return problem_response(request, CommonsError(ErrorCode.VALIDATION_FAILED, detail, errors=errors))


def _public_error(error: Any) -> dict[str, Any]:
    return {
        "loc": list(error.get("loc", ())),
        "msg": str(error.get("msg", "")),
        "type": str(error.get("type", "")),
    }


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    code = HTTP_CODES.get(exc.status_code, ErrorCode.NOT_FOUND)
    return problem_response(request, CommonsError(code, str(exc.detail)))


class BodyLimit:
    """Refuse request bodies over MAX_BODY_BYTES before anything reads them. File uploads (a POST to a path
    ending in one of UPLOAD_PATHS) may be as large as `upload_limit`; their routes enforce it again while
    streaming, for bodies sent without a length."""

    def __init__(self, app: ASGIApp, upload_limit: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.upload_limit = upload_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            upload = scope["method"] == "POST" and scope["path"].rstrip("/").endswith(UPLOAD_PATHS)
            limit = self.upload_limit if upload else MAX_BODY_BYTES
            length = dict(scope.get("headers", [])).get(b"content-length", b"0")
            if not length.isdigit() or int(length) > limit:
                error = CommonsError(ErrorCode.PAYLOAD_TOO_LARGE, f"bodies are limited to {limit} bytes")
                response = JSONResponse(
                    error.problem(scope["path"]), status_code=413, media_type=PROBLEM_JSON
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def install_problem_handlers(app: FastAPI, *, upload_limit: int = MAX_BODY_BYTES) -> None:
    app.add_exception_handler(CommonsError, _commons_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_middleware(BodyLimit, upload_limit=upload_limit)
