"""Receiving an uploaded file over HTTP: its format from the request, its bytes streamed to disk."""

import hashlib
from pathlib import Path

from fastapi import Request, UploadFile
from starlette.requests import ClientDisconnect

from aicommons.core.blobs import copy_stream
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


def from_form(file: UploadFile | None, path: Path, *, limit: int, formats: dict[str, str]) -> Upload:
    """A file from a page's form, copied into the scratch `path`; its format comes from its extension,
    one of `formats` (".csv": "csv", …)."""
    if file is None or not file.filename:
        raise CommonsError(ErrorCode.VALIDATION_FAILED, "choose a file to upload")
    file_format = formats.get(Path(file.filename).suffix.lower())
    if file_format is None:
        raise CommonsError(ErrorCode.UNSUPPORTED_FORMAT, f"upload a {' or a '.join(formats)} file")
    try:
        sha256, size = copy_stream(file.file, path, limit=limit)
    except OverflowError as error:
        raise CommonsError(ErrorCode.PAYLOAD_TOO_LARGE, f"uploads are limited to {limit} bytes") from error
    if size == 0:
        raise CommonsError(ErrorCode.EMPTY_DATA, "the file is empty")
    return Upload(path, file_format, sha256, size)
