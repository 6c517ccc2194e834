"""`Commons`: the datasets and problems of a commons as Python objects; datasets load into pyarrow, pandas
and Spark, and predictions are submitted from a file or a pandas DataFrame."""

import json
import os
import re
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from aicommons.sdk.client import JSON, Client, RemoteError
from aicommons.sdk.federation import Models, Run, Runs
from aicommons.sdk.files import CHUNK, CONTENT_TYPES, Progress, chunks, readable


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
        source = readable(path)
        created = self.client._call(
            "POST", "/datasets", json={"title": title, "license": license, "policy": policy, **metadata}
        )
        return self._with_first_version(created["slug"], source, progress)

    def _with_first_version(self, slug: str, source: Path, progress: Progress | None) -> Dataset:
        """Upload a just-registered dataset's first version; if it is refused, remove the registration."""
        try:
            self.upload(slug, source, progress=progress)
        except RemoteError:
            self.client._call("DELETE", f"/datasets/{slug}")  # leave nothing half-made behind
            raise
        return self.get(slug)

    def upload(self, ref: str, path: str | Path, *, progress: Progress | None = None) -> JSON:
        """Upload a CSV or Parquet file as a new version (the same bytes again make none); return it."""
        source = readable(path)
        headers = {"Content-Type": CONTENT_TYPES[source.suffix.lower()]}
        content = chunks(source, progress)
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
        source = readable(data_path)
        document = json.loads(Path(jsonld_path).read_text())
        params = {key: value for key, value in choices.items() if value is not None}
        created = self.client._call("POST", "/datasets/croissant", json=document, params=params)
        return self._with_first_version(created["slug"], source, progress)

    def request_access(self, ref: str, reason: str, answers: dict[str, str] | None = None) -> JSON:
        """Ask the owners of a gated dataset for access, answering their questions."""
        body = {"reason": reason, "answers": answers or {}}
        result: JSON = self.client._call("POST", f"/datasets/{ref}/requests", json=body)
        return result

    def buy(self, ref: str) -> JSON:
        """Buy a time-boxed license of a priced dataset; the tokens wait in escrow until the download."""
        result: JSON = self.client._call("POST", f"/datasets/{ref}/licenses")
        return result


@dataclass(frozen=True)
class Submission:
    """One submitted file of predictions and, once its job ran, its scores (or why it failed)."""

    id: int
    team: str
    state: str  # queued, scored or failed
    public_score: float | None
    public_low: float | None
    public_high: float | None
    private_score: float | None  # hidden until the problem closes
    selected: bool
    error: JSON | None  # detail and the first problems, each {row, column, value, issue}
    datasets: list[int]
    note: str
    job_id: int | None
    created_at: str
    scored_at: str | None

    @classmethod
    def from_json(cls, data: JSON) -> "Submission":
        return cls(**{name: data[name] for name in _field_names(cls)})


@dataclass
class Problem:
    """A published problem; `json` holds everything the server said about it."""

    id: int
    slug: str
    title: str
    statement: str
    task: str
    metric: str
    id_column: str
    target_column: str
    classes: list[Any]
    sdg_targets: list[str]
    dataset_versions: list[int]
    evaluation_rows: int
    opens_at: str
    closes_at: str
    daily_limit: int
    total_limit: int
    team_size_limit: int
    bounty: int
    state: str
    json: JSON = field(repr=False)
    api: "Problems" = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: JSON, api: "Problems") -> "Problem":
        known = {name: data[name] for name in _field_names(cls) - {"json", "api"}}
        return cls(**known, json=data, api=api)

    def submit(
        self,
        predictions: Any,
        *,
        datasets: Iterable[int] = (),
        note: str = "",
        progress: Progress | None = None,
    ) -> Submission:
        """Send predictions (a .csv file or a pandas DataFrame); a job scores them."""
        return self.api.submit(self.slug, predictions, datasets=datasets, note=note, progress=progress)

    def submissions(self) -> list[Submission]:
        """Your team's submissions, newest first."""
        return self.api.submissions(self.slug)

    def wait_for_score(self, submission: Submission, *, timeout: float = 60.0) -> Submission:
        """The submission once its job ran: `state` is scored, or failed with its `error`."""
        return self.api.wait_for_score(self.slug, submission, timeout=timeout)

    def leaderboard(self, *, private: bool = False) -> JSON:
        """Teams by best score: problem, board, metric and rows (the private board after the close)."""
        return self.api.leaderboard(self.slug, private=private)

    def select_finals(self, submission_ids: list[int]) -> list[Submission]:
        """Choose one or two scored submissions of your team for the private leaderboard."""
        return self.api.select_finals(self.slug, submission_ids)

    def join_team(self, name: str) -> JSON:
        """Found a team by a fresh name, or join the team of that name that invited you: `team`, `members`.

        Any other existing team refuses (`team_consent_required`): `ask_to_join` it instead."""
        return self.api.join_team(self.slug, name)

    def team(self) -> JSON:
        """Your team (`team`, `members`) and what waits: `invitations` to you, `requests` to your team,
        and `outgoing` (your requests, your team's invitations), each with its `id`."""
        return self.api.team(self.slug)

    def invite(self, handle: str, *, team: str | None = None) -> JSON:
        """Invite a member to your team (or the named one of yours); they join once they accept."""
        return self.api.invite(self.slug, team or self.team()["team"] or "", handle)

    def ask_to_join(self, name: str) -> JSON:
        """Ask to join a team; you join once one of its members approves."""
        return self.api.ask_to_join(self.slug, name)

    def accept_invitation(self, invitation_id: int) -> JSON:
        """Accept an invitation to a team: you join it."""
        return self.api.decide(self.slug, "invitations", invitation_id, "accept")

    def decline_invitation(self, invitation_id: int) -> JSON:
        return self.api.decide(self.slug, "invitations", invitation_id, "decline")

    def approve_request(self, request_id: int) -> JSON:
        """Approve a request to join your team: the member who asked joins it."""
        return self.api.decide(self.slug, "requests", request_id, "approve")

    def decline_request(self, request_id: int) -> JSON:
        return self.api.decide(self.slug, "requests", request_id, "decline")

    def train(self, **settings: Any) -> Run:
        """Start a federated training run on the problem's nodes (settings as in docs/federation.md)."""
        return Runs(self.api.client).start(self.slug, **settings)


class Problems:
    """The problems of one commons: `Problems(client)`, or `Commons(url).problems`."""

    def __init__(self, client: Client) -> None:
        self.client = client

    def search(self, *, sdg: int | None = None, page: int = 1, size: int = 20) -> list[Problem]:
        """One page of the published problems, open ones first; `sdg` narrows to one goal."""
        return [Problem.from_json(item, self) for item in self.page(sdg=sdg, page=page, size=size)["items"]]

    def page(self, *, sdg: int | None = None, page: int = 1, size: int = 20) -> JSON:
        """Like `search`, as the server's page: items, total, page and size."""
        params = {"page": page, "size": size} | ({"sdg": sdg} if sdg else {})
        result: JSON = self.client._call("GET", "/problems", params=params)
        return result

    def get(self, ref: str) -> Problem:
        """A problem by slug or id."""
        return Problem.from_json(self.client._call("GET", f"/problems/{ref}"), self)

    def submit(
        self,
        ref: str,
        predictions: Any,
        *,
        datasets: Iterable[int] = (),
        note: str = "",
        progress: Progress | None = None,
    ) -> Submission:
        """Stream predictions (a .csv file or a DataFrame) naming the dataset versions used."""
        with _predictions_file(predictions) as source:
            created = self.client._call(
                "POST",
                f"/problems/{ref}/submissions",
                content=chunks(source, progress),
                headers={"Content-Type": "text/csv"},
                params={"datasets": list(datasets), "note": note},
            )
        return Submission.from_json(created)

    def submissions(self, ref: str) -> list[Submission]:
        return [
            Submission.from_json(one) for one in self.client._call("GET", f"/problems/{ref}/submissions/mine")
        ]

    def wait_for_score(self, ref: str, submission: Submission, *, timeout: float = 60.0) -> Submission:
        """Poll the scoring job, then return the submission scored or failed; TimeoutError past `timeout`."""
        if submission.job_id is not None:
            self.client.wait_for_job(submission.job_id, timeout=timeout)
        return next(one for one in self.submissions(ref) if one.id == submission.id)

    def leaderboard(self, ref: str, *, private: bool = False) -> JSON:
        board = "private" if private else "public"
        result: JSON = self.client._call("GET", f"/problems/{ref}/leaderboard", params={"board": board})
        return result

    def select_finals(self, ref: str, submission_ids: list[int]) -> list[Submission]:
        chosen = self.client._call("PUT", f"/problems/{ref}/finals", json={"submission_ids": submission_ids})
        return [Submission.from_json(one) for one in chosen]

    def join_team(self, ref: str, name: str) -> JSON:
        result: JSON = self.client._call("POST", f"/problems/{ref}/teams/{quote(name, safe='')}")
        return result

    def team(self, ref: str) -> JSON:
        result: JSON = self.client._call("GET", f"/problems/{ref}/team")
        return result

    def invite(self, ref: str, team: str, handle: str) -> JSON:
        path = f"/problems/{ref}/teams/{quote(team, safe='')}/invitations"
        result: JSON = self.client._call("POST", path, json={"handle": handle})
        return result

    def ask_to_join(self, ref: str, name: str) -> JSON:
        result: JSON = self.client._call("POST", f"/problems/{ref}/teams/{quote(name, safe='')}/requests")
        return result

    def decide(self, ref: str, kind: str, number: int, decision: str) -> JSON:
        """`kind` invitations (accept or decline) or requests (approve or decline)."""
        result: JSON = self.client._call("POST", f"/problems/{ref}/{kind}/{number}/{decision}")
        return result


class Commons:
    """`Commons("http://127.0.0.1:8000", token="aic_…")`: a client with `.datasets`, `.problems`, `.runs`
    (federated training) and `.models`."""

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
        self.problems = Problems(self.client)
        self.runs = Runs(self.client)
        self.models = Models(self.client)

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


@contextmanager
def _predictions_file(predictions: Any) -> Iterator[Path]:
    """A .csv file of the predictions: the one given, or a DataFrame written to a temporary file."""
    if hasattr(predictions, "to_csv"):
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "predictions.csv"
            predictions.to_csv(path, index=False)
            yield path
        return
    source = Path(predictions)
    if source.suffix.lower() != ".csv":
        raise ValueError(f"{source.name}: submit predictions as a .csv file")
    if not source.is_file():
        raise FileNotFoundError(f"no such file: {source}")
    yield source


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
