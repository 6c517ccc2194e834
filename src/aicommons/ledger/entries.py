"""What a log entry is: canonical JSON with a schema version, event, actor, subject, time and payload."""

import hashlib
import json
import re
from datetime import datetime
from typing import Any

from aicommons.core.errors import CommonsError, ErrorCode

SCHEMA_VERSION = 1
MAX_ENTRY_BYTES = 65_535  # one entry must fit a tlog-tiles entry bundle's 16-bit length
EVENT_NAME = re.compile(r"^[a-z][a-z0-9_-]*:[a-z][a-z0-9_-]*:[a-z][a-z0-9_-]*$")


def personal(value: str) -> str:
    """How personal data (an email, a handle, a name) appears on the log: only as a hash."""
    return "sha256:" + hashlib.sha256(value.strip().lower().encode()).hexdigest()


def canonical(document: dict[str, Any]) -> bytes:
    """RFC 8785-style JSON: sorted keys, no spaces, UTF-8; integers and strings only (no floats)."""
    _refuse_floats(document)
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _refuse_floats(value: Any) -> None:
    if isinstance(value, float):
        raise CommonsError(
            ErrorCode.VALIDATION_FAILED, "log entries hold no floats (their JSON is not canonical)"
        )
    children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    for child in children:
        _refuse_floats(child)


def entry_body(
    event: str, *, actor_id: int | None, subject: dict[str, Any], data: dict[str, Any], at: datetime
) -> bytes:
    """The bytes of one entry, checked for its name and size."""
    if not EVENT_NAME.match(event):
        raise CommonsError(ErrorCode.VALIDATION_FAILED, f"event {event!r} is not domain:subject:action")
    body = canonical(
        {
            "v": SCHEMA_VERSION,
            "event": event,
            "actor": f"member:{actor_id}" if actor_id is not None else None,
            "subject": subject,
            "at": at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "data": data,
        }
    )
    if len(body) > MAX_ENTRY_BYTES:
        raise CommonsError(ErrorCode.VALIDATION_FAILED, f"a log entry is at most {MAX_ENTRY_BYTES} bytes")
    return body


def parse(body: bytes) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(body)
    return document
