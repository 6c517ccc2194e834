"""An upload cut off halfway leaves nothing behind: no version, no blob, no scratch file, no log entry."""

import socket
import time
from urllib.parse import urlsplit

import httpx
from sqlalchemy import func, select

from aicommons.datasets.models import DatasetVersion
from aicommons.ledger.models import LogEntry, LogRecord
from tests.datasets.conftest import dataset_form


def send_half(url: str, path: str, token: str, declared: int, sent: bytes) -> None:
    """POST with a Content-Length of `declared` bytes, send only `sent`, then hang up."""
    address = urlsplit(url)
    with socket.create_connection((address.hostname, address.port)) as connection:
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {address.netloc}\r\nAuthorization: {token}\r\n"
            f"Content-Type: text/csv\r\nContent-Length: {declared}\r\n\r\n"
        )
        connection.sendall(head.encode() + sent)
        time.sleep(0.3)


def logged(factory) -> int:
    """Entries on the log or waiting for the sequencer (which runs in the live server)."""
    with factory() as db:
        return sum(db.scalar(select(func.count()).select_from(model)) or 0 for model in (LogRecord, LogEntry))


def test_an_interrupted_upload_stores_nothing(live_server, owner_headers, settings, factory):
    slug = httpx.post(f"{live_server}/api/v1/datasets", json=dataset_form(), headers=owner_headers).json()[
        "slug"
    ]
    records = logged(factory)
    send_half(
        live_server,
        f"/api/v1/datasets/{slug}/versions",
        owner_headers["Authorization"],
        100_000,
        b"a,b\n1,2\n",
    )
    time.sleep(0.5)
    with factory() as db:
        assert db.scalar(select(func.count()).select_from(DatasetVersion)) == 0
    assert logged(factory) == records
    assert [path for path in settings.blob_dir.rglob("*") if path.is_file()] == []
