"""A simulated node's rows: uploaded by its owner, checked against the published schema, stored, and
fingerprinted so that the same rows back one node only.

A row's hash covers the published columns only, numbers as float64 and everything else as text, so that
the same rows sent again as CSV instead of Parquet, shuffled, with duplicates or with extra columns, hash
the same. A node keeps the sorted set of its rows' hashes; two nodes that share more than `SHARED_LIMIT`
of an upload's rows are refused as one data set registered twice
(docs/decisions/0052-node-rows-are-uploaded.md).
"""

import hashlib
import io
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow.parquet as pq

from aicommons.core.blobs import BlobStore
from aicommons.core.errors import CommonsError, ErrorCode
from aicommons.datasets import ingest
from aicommons.datasets.service import Upload

SHARED_LIMIT = 0.05  # of an upload's distinct rows, at most this share may already back another node
Hashes = npt.NDArray[np.uint64]


@dataclass(frozen=True)
class StoredRows:
    """An upload as it was kept: its Parquet blob, its rows' hashes (a blob too), their fingerprint."""

    data_blob: str
    hashes_blob: str
    fingerprint: str
    rows: int
    hashes: Hashes
    new_blobs: tuple[str, ...]  # the blobs this upload added to the store (to remove if it is refused)


def keep(store: BlobStore, upload: Upload, columns: list[str]) -> StoredRows:
    """Store the upload as Parquet with the sorted hashes of its rows; refuse a file that lacks one of the
    published `columns` or has no rows."""
    with store.scratch(".parquet") as parquet:
        ingest.to_parquet(upload.path, upload.file_format, parquet)
        frame = _published(parquet, columns)
        data_blob, new_data = store.adopt(parquet)
    hashes = row_hashes(frame)
    with store.scratch(".npy") as scratch:
        buffer = io.BytesIO()
        np.save(buffer, hashes, allow_pickle=False)
        scratch.write_bytes(buffer.getvalue())
        hashes_blob, new_hashes = store.adopt(scratch)
    new = tuple(blob for blob, added in ((data_blob, new_data), (hashes_blob, new_hashes)) if added)
    fingerprint = hashlib.sha256(hashes.tobytes()).hexdigest()
    return StoredRows(data_blob, hashes_blob, fingerprint, len(frame), hashes, new)


def _published(parquet: Any, columns: list[str]) -> Any:
    names = pq.read_schema(parquet).names
    missing = [name for name in columns if name not in names]
    if missing:
        raise CommonsError(ErrorCode.BAD_DATA, f"the node's rows lack the published columns {missing[:5]}")
    frame = pq.read_table(parquet, columns=columns).to_pandas()
    if frame.empty:
        raise CommonsError(ErrorCode.EMPTY_DATA, "the file has no rows")
    return frame


def row_hashes(frame: Any) -> Hashes:
    """The sorted, distinct 64-bit hashes of the frame's rows, numbers compared as float64."""
    import pandas as pd

    normal = pd.DataFrame(
        {
            name: column.astype("float64") if pd.api.types.is_numeric_dtype(column) else column.astype(str)
            for name, column in frame.items()
        }
    )
    return np.unique(pd.util.hash_pandas_object(normal, index=False).to_numpy(dtype=np.uint64))


def load_hashes(store: BlobStore, blob: str) -> Hashes:
    hashes: Hashes = np.load(store.path(blob), allow_pickle=False)
    return hashes


def shared(upload: Hashes, other: Hashes) -> float:
    """The share of the upload's distinct rows that the other node's rows hold too."""
    return np.intersect1d(upload, other, assume_unique=True).size / max(upload.size, 1)
