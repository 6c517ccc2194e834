"""Uploading a large CSV as a new dataset version, over HTTP, to the real app served in a child process.

The file is streamed from disk by `httpx` (`POST /api/v1/datasets/{slug}/versions`, `text/csv`); the
server streams it to its scratch space, converts it to Parquet with `ingest.to_parquet` and answers
once the version is stored. The time runs from the first byte sent to the answer; the memory figure
is the server process's peak resident set (the kernel's VmHWM on Linux, else RSS sampled every 20 ms).
"""

import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import psutil
from rich.console import Console

from aicommons.core import migrate
from benchmarks.config import INGEST_MEMORY_TARGET_BYTES, INGEST_TARGET_S, DatasetsConfig
from benchmarks.datasets_files import write_csv
from benchmarks.seed import sqlite_database, viewer
from benchmarks.server import serve_app

CHUNK_BYTES = 1 << 20
SAMPLE_SECONDS = 0.02
UPLOAD_TIMEOUT_S = 600.0


@dataclass(frozen=True)
class IngestRun:
    """One upload: the file, how long sending it and getting the answer took, the server's memory."""

    csv_bytes: int
    rows: int
    generate_s: float
    sent_s: float
    answered_s: float
    rss_before: int
    peak_rss: int

    @property
    def passed(self) -> bool:
        return self.answered_s < INGEST_TARGET_S and self.peak_rss < INGEST_MEMORY_TARGET_BYTES


class PeakMemory:
    """The largest resident set of a process: VmHWM where /proc has it, else sampled from a thread."""

    def __init__(self, pid: int) -> None:
        self.process = psutil.Process(pid)
        self.sampled = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> "PeakMemory":
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        while not self._stop.wait(SAMPLE_SECONDS):
            self.sampled = max(self.sampled, self.now())

    def now(self) -> int:
        rss: int = self.process.memory_info().rss
        return rss

    def peak(self) -> int:
        status = Path(f"/proc/{self.process.pid}/status")
        if not status.exists():
            return max(self.sampled, self.now())
        line = next(line for line in status.read_text().splitlines() if line.startswith("VmHWM:"))
        return int(line.split()[1]) * 1024


def bench_ingest(config: DatasetsConfig, console: Console) -> IngestRun:
    """Write the CSV, serve a fresh commons on SQLite, register a dataset and upload the file to it."""
    with tempfile.TemporaryDirectory(prefix="aicommons-bench-ingest-") as directory:
        data_dir = Path(directory)
        console.print(f"Writing a CSV of {config.csv_bytes:,} bytes …")
        started = time.perf_counter()
        rows = write_csv(data_dir / "upload.csv", config.csv_bytes)
        generate_s = time.perf_counter() - started
        database = sqlite_database(data_dir)
        migrate.upgrade(database.url)
        headers = {"Authorization": f"Bearer {viewer(database).token}"}
        with (
            serve_app(data_dir=data_dir, database_url=database.url) as base_url,
            httpx.Client(base_url=base_url, headers=headers, timeout=UPLOAD_TIMEOUT_S) as client,
        ):
            console.print(f"Uploading it to {base_url} …")
            return _upload(client, _server_pid(base_url), data_dir / "upload.csv", rows, generate_s)


def _server_pid(base_url: str) -> int:
    """The uvicorn child of this process that listens on `base_url`'s port."""
    flag = f"--port={urlsplit(base_url).port}"
    return next(int(child.pid) for child in psutil.Process().children() if flag in child.cmdline())


def _upload(client: httpx.Client, pid: int, path: Path, rows: int, generate_s: float) -> IngestRun:
    form = {"title": "Water readings", "license": "CC-BY-4.0", "policy": "open"}
    slug = client.post("/api/v1/datasets", json=form).raise_for_status().json()["slug"]
    size, sent = path.stat().st_size, list[float]()
    headers = {"Content-Type": "text/csv", "Content-Length": str(size)}
    with PeakMemory(pid) as memory:
        before = memory.now()
        started = time.perf_counter()
        response = client.post(
            f"/api/v1/datasets/{slug}/versions", content=_chunks(path, sent), headers=headers
        )
        answered = time.perf_counter()
    if response.status_code != 201 or response.json()["row_count"] != rows:
        raise RuntimeError(f"the upload answered {response.status_code}: {response.text[:300]}")
    return IngestRun(size, rows, generate_s, sent[0] - started, answered - started, before, memory.peak())


def _chunks(path: Path, sent: list[float]) -> Iterator[bytes]:
    """The file's bytes, a chunk at a time; notes when the last one went."""
    with path.open("rb") as source:
        while chunk := source.read(CHUNK_BYTES):
            yield chunk
    sent.append(time.perf_counter())
