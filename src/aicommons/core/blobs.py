"""The content-addressed blob store: files under the data directory, named by their SHA-256."""

import hashlib
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

CHUNK = 1 << 20


class BlobStore:
    """Immutable files named by the SHA-256 of their bytes; a file is written once, then only read."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, digest: str) -> Path:
        return self.root / digest[:2] / digest[2:4] / digest

    def exists(self, digest: str) -> bool:
        return self.path(digest).is_file()

    @contextmanager
    def scratch(self, suffix: str = "") -> Iterator[Path]:
        """A temporary file on the store's own disk (so that `adopt` is a rename), removed afterwards."""
        directory = self.root / "tmp"
        directory.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(dir=directory, suffix=suffix)
        os.close(handle)
        try:
            yield Path(name)
        finally:
            Path(name).unlink(missing_ok=True)

    def adopt(self, scratch: Path) -> tuple[str, bool]:
        """Move a finished scratch file into the store; its digest, and whether it was new there."""
        digest = sha256_of(scratch)
        target = self.path(digest)
        if target.is_file():
            return digest, False
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(scratch, target)
        target.chmod(0o444)
        return digest, True

    def remove(self, digest: str) -> None:
        self.path(digest).unlink(missing_ok=True)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def copy_stream(source: BinaryIO, target: Path, *, limit: int) -> tuple[str, int]:
    """Copy `source` to `target` chunk by chunk; its SHA-256 and size. Raises OverflowError past `limit`."""
    digest, size = hashlib.sha256(), 0
    with target.open("wb") as out:
        while chunk := source.read(CHUNK):
            size += len(chunk)
            if size > limit:
                raise OverflowError(size)
            digest.update(chunk)
            out.write(chunk)
    return digest.hexdigest(), size
