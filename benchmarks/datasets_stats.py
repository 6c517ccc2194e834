"""Column statistics of a large version: `statistics.compute`, the statistics job's own function.

The Parquet file is written here; the statistics run in a child process
(`python -m benchmarks.datasets_stats FILE`), as the job runs in a worker, so that the child's peak
resident set is the job's alone. The child times `compute` (not its own start-up) and prints JSON.
"""

import json
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from aicommons.datasets import ingest, statistics
from benchmarks.config import STATS_TARGET_S, DatasetsConfig
from benchmarks.datasets_files import write_parquet
from benchmarks.server import clean_env

ROOT = Path(__file__).resolve().parents[1]
CHILD_TIMEOUT_S = 600


@dataclass(frozen=True)
class StatsRun:
    """Statistics of one version: its rows and columns, how long writing it and computing them took."""

    rows: int
    columns: int
    file_bytes: int
    generate_s: float
    compute_s: float
    peak_rss: int

    @property
    def passed(self) -> bool:
        return self.compute_s < STATS_TARGET_S


def bench_statistics(config: DatasetsConfig, console: Console) -> StatsRun:
    with tempfile.TemporaryDirectory(prefix="aicommons-bench-stats-") as directory:
        path = Path(directory) / "version.parquet"
        console.print(f"Writing a Parquet version of {config.stats_rows:,} rows …")
        started = time.perf_counter()
        write_parquet(path, config.stats_rows)
        generate_s = time.perf_counter() - started
        console.print("Computing its statistics in a child process …")
        figures = _in_child(path)
        return StatsRun(
            config.stats_rows,
            int(figures["columns"]),
            path.stat().st_size,
            generate_s,
            figures["seconds"],
            int(figures["peak_rss"]),
        )


def _in_child(path: Path) -> dict[str, int | float]:
    command = [sys.executable, "-m", "benchmarks.datasets_stats", str(path)]
    done = subprocess.run(
        command, cwd=ROOT, env=clean_env(), capture_output=True, timeout=CHILD_TIMEOUT_S, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"statistics failed ({done.returncode}): {done.stderr.decode()[-2000:]}")
    figures: dict[str, int | float] = json.loads(done.stdout)
    return figures


def _compute(path: Path) -> dict[str, int | float]:
    """What the child prints: seconds in `statistics.compute`, columns summarised, its peak RSS in bytes."""
    columns = ingest.describe(path).columns
    started = time.perf_counter()
    figures = statistics.compute(path, columns)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux, bytes on macOS
    peak_rss = peak if sys.platform == "darwin" else peak * 1024
    return {"seconds": seconds, "columns": len(figures["columns"]), "peak_rss": peak_rss}


if __name__ == "__main__":
    print(json.dumps(_compute(Path(sys.argv[1]))))
