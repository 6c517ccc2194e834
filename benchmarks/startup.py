"""The `make demo` benchmark: seconds from starting `aicommons demo` until it serves the seeded communities.

It times `.venv/bin/aicommons demo` on a fresh, empty data directory (migrations, signing key, seeding
through the services, then serving), and once more on the same, already seeded, directory.
"""

import math
import tempfile
import time
from pathlib import Path

import httpx

from benchmarks.config import DEMO_TARGET_S
from benchmarks.report import Startup
from benchmarks.server import clean_env, free_port, running, venv_command, wait_until


def demo_startups() -> list[Startup]:
    with tempfile.TemporaryDirectory(prefix="aicommons-bench-demo-") as directory:
        first = time_demo(Path(directory))
        second = time_demo(Path(directory))
    return [
        Startup("demo, first start (empty data dir)", first),
        Startup("demo, second start (already seeded)", second),
    ]


def time_demo(data_dir: Path) -> float:
    """Seconds until the demo's API lists its communities; infinity when it never does within 4x target."""
    port = free_port()
    command = [venv_command("aicommons"), "demo", f"--port={port}"]
    started = time.perf_counter()
    with running(command, clean_env(data_dir=str(data_dir))) as child:
        try:
            wait_until(child, f"http://127.0.0.1:{port}", _lists_communities, timeout=4 * DEMO_TARGET_S)
        except TimeoutError:
            return math.inf
        return time.perf_counter() - started


def _lists_communities(response: httpx.Response) -> bool:
    return response.status_code == 200 and int(response.json()["total"]) > 0
