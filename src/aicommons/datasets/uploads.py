"""Receiving an uploaded file over HTTP: its format from the request, its bytes streamed to disk."""

import hashlib
from pathlib import Path

from fastapi import Request
from starlette.requests import ClientDisconnect

from aicommons.core.errors import CommonsError, ErrorCode
from aicommons.datasets.service import Upload

CONTENT_TYPES = {
    "text/csv": "csv",
    "application/csv": "csv",
    "application/vnd.apache.parquet": "parquet",
    "application/x-parquet": "parquet",
    "application/parquet": "parquet",
}


def format_of(content_type: str, chosen: str | None) -> str:
    """csv or parquet, from `?format=` or the Content-Type; anything else is refused before reading."""
    if chosen:
        return chosen
    found = CONTENT_TYPES.get(content_type.split(";", maxsplit=1)[0].strip().lower())
    if found is None:
        raise CommonsError(
            ErrorCode.UNSUPPORTED_FORMAT,
            f"send text/csv or application/vnd.apache.parquet, not {content_type or 'no Content-Type'}",
        )
    return found


async def receive(request: Request, target: Path, file_format: str, *, limit: int) -> Upload:
    """Stream the request body to `target`, hashing it; refuse it past `limit` bytes or when cut off."""
    digest, size = hashlib.sha256(), 0
    try:
        with target.open("wb") as out:
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise CommonsError(ErrorCode.PAYLOAD_TOO_LARGE, f"uploads are limited to {limit} bytes")
                digest.update(chunk)
                out.write(chunk)
    except ClientDisconnect as error:
        raise CommonsError(
            ErrorCode.VALIDATION_FAILED, "the upload was interrupted; nothing was stored"
        ) from error
    if size == 0:
        raise CommonsError(ErrorCode.EMPTY_DATA, "the file is empty")
    return Upload(target, file_format, digest.hexdigest(), size)
