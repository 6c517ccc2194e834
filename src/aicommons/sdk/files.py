"""Files the SDK uploads: which kinds it sends, checked before sending, and read a chunk at a time."""

from collections.abc import Callable, Iterator
from pathlib import Path

Progress = Callable[[int, int | None], None]
"""Called as a transfer goes, with the bytes done so far and the total (None when unknown)."""

CONTENT_TYPES = {".csv": "text/csv", ".parquet": "application/vnd.apache.parquet"}
CHUNK = 1 << 20


def readable(path: str | Path) -> Path:
    """The file to upload, checked before anything is sent."""
    source = Path(path)
    if source.suffix.lower() not in CONTENT_TYPES:
        raise ValueError(f"{source.name}: upload a .csv or .parquet file")
    if not source.is_file():
        raise FileNotFoundError(f"no such file: {source}")
    return source


def chunks(source: Path, progress: Progress | None) -> Iterator[bytes]:
    """The file's bytes a chunk at a time, reporting progress, so it is never whole in memory."""
    total, done = source.stat().st_size, 0
    with source.open("rb") as file:
        while chunk := file.read(CHUNK):
            done += len(chunk)
            yield chunk
            if progress:
                progress(done, total)
