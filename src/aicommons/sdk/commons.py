"""`Commons`: the datasets of a commons as Python objects, loadable into pyarrow, pandas and Spark."""

import json
import os
import re
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import httpx

from aicommons.sdk.client import JSON, Client

Progress = Callable[[int, int | None], None]
"""Called as a transfer goes, with the bytes done so far and the total (None when unknown)."""

CONTENT_TYPES = {".csv": "text/csv", ".parquet": "application/vnd.apache.parquet"}
CHUNK = 1 << 20


@dataclass(frozen=True)
class Version:
    """One immutable version of a dataset."""

    number: int
    row_count: int
    size_bytes: int
    source_format: str
    columns: list[dict[str, str]]
    created_at: str
    withdrawn: bool

    @classmethod
    def from_json(cls, data: JSON) -> "Version":
        return cls(**{name: data[name] for name in _field_names(cls)})


@dataclass
class Dataset:
    """A dataset of the catalog; `json` holds everything the server said about it."""

    slug: str
    title: str
    summary: str
    license: str
    policy: str
    price: int
    owner: str
    file_format: str
    version_count: int
    sdgs: list[int]
    sectors: list[str]
    keywords: list[str]
    json: JSON = field(repr=False)
    api: "Datasets" = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: JSON, api: "Datasets") -> "Dataset":
        known = {name: data[name] for name in _field_names(cls) - {"json", "api"}}
        return cls(**known, json=data, api=api)

    @property
    def versions(self) -> list[Version]:
        """The versions, oldest first (asked of the server each time)."""
        return self.api.versions(self.slug)

    def download(
        self, path: str | Path, *, version: int | None = None, progress: Progress | None = None
    ) -> Path:
        """Save a version (the newest by default) as Parquet; into a folder, under the server's file name."""
        return self.api.download(self.slug, path, version=version, progress=progress)

    def to_arrow(self, *, version: int | None = None) -> Any:
        """The version as a pyarrow Table."""
        import pyarrow.parquet as pq

        with tempfile.TemporaryDirectory() as folder:
            return pq.read_table(self.download(folder, version=version), memory_map=False)

    def to_pandas(self, *, version: int | None = None) -> Any:
        """The version as a pandas DataFrame."""
        return self.to_arrow(version=version).to_pandas()

    def to_spark(self, spark: Any, *, version: int | None = None) -> Any:
        """The version as a Spark DataFrame, read from a Parquet copy kept in the cache folder."""
        self.api.cache_dir.mkdir(parents=True, exist_ok=True)
        return spark.read.parquet(str(self.download(self.api.cache_dir, version=version)))


class Datasets:
    """The catalog of one commons: `Datasets(client)`, or `Commons(url).datasets`."""

    def __init__(self, client: Client, *, cache_dir: str | Path | None = None) -> None:
        self.client = client
        self.cache_dir = Path(cache_dir) if cache_dir else _default_cache()

    def search(self, *, page: int = 1, size: int = 20, **filters: Any) -> list[Dataset]:
        """One page of the catalog: filters are q, sdg, sector, license, policy and format."""
        return [Dataset.from_json(item, self) for item in self.page(page=page, size=size, **filters)["items"]]

    def page(self, *, page: int = 1, size: int = 20, **filters: Any) -> JSON:
        """Like `search`, as the server's page: items, total, page and size."""
        params = {key: value for key, value in filters.items() if value is not None}
        result: JSON = self.client._call("GET", "/datasets", params={**params, "page": page, "size": size})
        return result

    def get(self, ref: str) -> Dataset:
        """A dataset by slug or id."""
        return Dataset.from_json(self.client._call("GET", f"/datasets/{ref}"), self)

    def versions(self, ref: str) -> list[Version]:
        return [Version.from_json(found) for found in self.client._call("GET", f"/datasets/{ref}/versions")]

    def download(
        self, ref: str, path: str | Path, *, version: int | None = None, progress: Progress | None = None
    ) -> Path:
        """Stream a version to `path` (a file, or a folder to save it in); return the file written."""
        params = {"version": version} if version else {}
        with self.client._stream("GET", f"/datasets/{ref}/download", params=params) as response:
            target = _target(Path(path), response, ref)
            _save(response, target, progress)
        return target

    def publish(
        self,
        path: str | Path,
        *,
        title: str,
        license: str,
        policy: str = "open",
        progress: Progress | None = None,
        **metadata: Any,
    ) -> Dataset:
        """Register a dataset and upload a CSV or Parquet file as its first version.

        `metadata` is any of summary, sdgs, sectors, keywords, price, license_days,
        decision_days, request_fields, datasheet, community and slug."""
        source = _readable(path)
        created = self.client._call(
            "POST", "/datasets", json={"title": title, "license": license, "policy": policy, **metadata}
        )
        self.upload(created["slug"], source, progress=progress)
        return self.get(created["slug"])

    def upload(self, ref: str, path: str | Path, *, progress: Progress | None = None) -> JSON:
        """Upload a CSV or Parquet file as a new version (the same bytes again make none); return it."""
        source = _readable(path)
        headers = {"Content-Type": CONTENT_TYPES[source.suffix.lower()]}
        content = _chunks(source, progress)
        result: JSON = self.client._call(
            "POST", f"/datasets/{ref}/versions", content=content, headers=headers
        )
        return result

    def import_croissant(
        self,
        jsonld_path: str | Path,
        data_path: str | Path,
        *,
        progress: Progress | None = None,
        **choices: Any,
    ) -> Dataset:
        """Register a dataset from its Croissant (JSON-LD) description, then upload its data file.

        `choices` is what a Croissant document does not say: policy, price and community."""
        source = _readable(data_path)
        document = json.loads(Path(jsonld_path).read_text())
        params = {key: value for key, value in choices.items() if value is not None}
        created = self.client._call("POST", "/datasets/croissant", json=document, params=params)
        self.upload(created["slug"], source, progress=progress)
        return self.get(created["slug"])

    def request_access(self, ref: str, reason: str, answers: dict[str, str] | None = None) -> JSON:
        """Ask the owners of a gated dataset for access, answering their questions."""
        body = {"reason": reason, "answers": answers or {}}
        result: JSON = self.client._call("POST", f"/datasets/{ref}/requests", json=body)
        return result

    def buy(self, ref: str) -> JSON:
        """Buy a time-boxed license of a priced dataset; the tokens wait in escrow until the download."""
        result: JSON = self.client._call("POST", f"/datasets/{ref}/licenses")
        return result


class Commons:
    """`Commons("http://127.0.0.1:8000", token="aic_…")`: a client with the datasets as `.datasets`."""

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
        cache_dir: str | Path | None = None,
    ) -> None:
        self.client = Client(base_url, token=token, timeout=timeout, transport=transport)
        self.datasets = Datasets(self.client, cache_dir=cache_dir)

    def __enter__(self) -> "Commons":
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self.client.close()

    def login(self, handle: str, password: str) -> str:
        """Trade a handle and password for an API token, use it from now on, and return it."""
        return self.client.login(handle, password, token_name="sdk")


def _field_names(cls: type) -> set[str]:
    return {found.name for found in fields(cls)}


def _default_cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "aicommons" / "datasets"


def _readable(path: str | Path) -> Path:
    """The file to upload, checked before anything is sent."""
    source = Path(path)
    if source.suffix.lower() not in CONTENT_TYPES:
        raise ValueError(f"{source.name}: upload a .csv or .parquet file")
    if not source.is_file():
        raise FileNotFoundError(f"no such file: {source}")
    return source


def _chunks(source: Path, progress: Progress | None) -> Iterator[bytes]:
    """The file's bytes a chunk at a time, reporting progress, so it is never whole in memory."""
    total, done = source.stat().st_size, 0
    with source.open("rb") as file:
        while chunk := file.read(CHUNK):
            done += len(chunk)
            yield chunk
            if progress:
                progress(done, total)


def _target(path: Path, response: httpx.Response, ref: str) -> Path:
    if not path.is_dir():
        return path
    disposition = response.headers.get("content-disposition", "")
    named = re.search(r'filename="?([\w.-]+)"?', disposition)
    return path / (named.group(1) if named else f"{ref}.parquet")


def _save(response: httpx.Response, target: Path, progress: Progress | None) -> None:
    """Write the body to `target` as it arrives; a cut-off download leaves no partial file behind."""
    total = int(response.headers["content-length"]) if "content-length" in response.headers else None
    partial = target.with_name(f".{target.name}.part")
    try:
        with partial.open("wb") as out:
            for chunk in response.iter_bytes(CHUNK):
                out.write(chunk)
                if progress:
                    progress(response.num_bytes_downloaded, total)
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
