"""Serving the real app in a child process and waiting until it answers, for the HTTP benchmarks.

The server runs in its own process, as in production, so the client's Python does not share a GIL with it.
"""

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx

READY_PATH = "/api/v1/communities"
POLL_SECONDS = 0.02


@dataclass(frozen=True)
class Child:
    """A running command and the file its standard error goes to (a file, so it never blocks)."""

    process: subprocess.Popen[bytes]
    log: IO[bytes]

    def error_output(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")[-2000:]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def clean_env(**settings: str) -> dict[str, str]:
    """This process's environment without any AICOMMONS_* variable, plus `settings` as AICOMMONS_*."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("AICOMMONS_")}
    env.update({f"AICOMMONS_{key.upper()}": value for key, value in settings.items()})
    return env


@contextmanager
def running(command: Sequence[str], env: Mapping[str, str]) -> Iterator[Child]:
    """Run `command` for the length of the block, then stop it (SIGTERM, and SIGKILL if it lingers)."""
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(command, env=dict(env), stdout=subprocess.DEVNULL, stderr=log)
        try:
            yield Child(process, log)
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@contextmanager
def serve_app(*, data_dir: Path, database_url: str) -> Iterator[str]:
    """The app from `aicommons.app.create_app`, served by uvicorn without its job worker; yields its URL."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "aicommons.app:create_app",
        "--factory",
        "--host=127.0.0.1",
        f"--port={port}",
        "--log-level=warning",
        "--no-access-log",
    ]
    env = clean_env(data_dir=str(data_dir), database_url=database_url, run_worker="false")
    with running(command, env) as child:
        base_url = f"http://127.0.0.1:{port}"
        wait_until(child, base_url, lambda response: response.status_code == 200, timeout=60)
        yield base_url


def wait_until(
    child: Child, base_url: str, ready: Callable[[httpx.Response], bool], *, timeout: float
) -> float:
    """Poll `READY_PATH` until `ready(response)`; return the seconds waited. Fails if the child dies."""
    started = time.perf_counter()
    with httpx.Client(base_url=base_url, timeout=5) as client:
        while time.perf_counter() - started < timeout:
            if child.process.poll() is not None:
                raise RuntimeError(f"exited with {child.process.returncode}: {child.error_output()}")
            try:
                if ready(client.get(READY_PATH)):
                    return time.perf_counter() - started
            except httpx.TransportError:
                pass
            time.sleep(POLL_SECONDS)
    raise TimeoutError(f"{base_url}{READY_PATH} was not ready after {timeout:.0f} s")


def venv_command(name: str) -> str:
    """The path of a console script installed next to this Python (`.venv/bin/aicommons`)."""
    return str(Path(sys.prefix) / "bin" / name)
