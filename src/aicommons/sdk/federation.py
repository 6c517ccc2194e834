"""Federated learning from Python: start a training run for a problem, follow it, and use its model."""

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aicommons.sdk.client import JSON, Client
from aicommons.sdk.files import CONTENT_TYPES, Progress, chunks, readable


@dataclass
class Run:
    """A training run as the server last described it; `rounds` are the completed ones."""

    id: int
    problem_id: int
    state: str
    job_id: int | None
    completed_rounds: list[JSON]
    json: JSON = field(repr=False)
    api: "Runs" = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: JSON, api: "Runs") -> "Run":
        known = {name: data[name] for name in ("id", "problem_id", "state", "job_id", "completed_rounds")}
        return cls(**known, json=data, api=api)

    def wait(self, *, timeout: float = 900.0) -> "Run":
        """The run once its job finished (succeeded or failed); TimeoutError past `timeout` seconds."""
        if self.job_id is not None:
            self.api.client.wait_for_job(self.job_id, timeout=timeout, interval=1.0)
        return self.api.get(self.id)


class Runs:
    """Training runs: `Runs(client)`, or `Commons(url).runs`."""

    def __init__(self, client: Client) -> None:
        self.client = client

    def start(self, problem: str, **settings: Any) -> Run:
        """Queue a run for a problem (slug or id) with the settings of docs/federation.md."""
        return Run.from_json(self.client._call("POST", f"/problems/{problem}/runs", json=settings), self)

    def get(self, run_id: int) -> Run:
        return Run.from_json(self.client._call("GET", f"/runs/{run_id}"), self)

    def nodes(self, problem: str) -> list[JSON]:
        """The nodes that can train for a problem, with their owners' policies."""
        found: list[JSON] = self.client._call("GET", f"/problems/{problem}/nodes")
        return found

    def register_node(self, **form: Any) -> JSON:
        """Register a node of a federated dataset you own (`name`, `dataset`, its policy, and for a deployed
        node `public_key` and `rows`); registering the same deployed node again returns it. A simulated
        node trains once you upload its rows (`upload_rows`)."""
        node: JSON = self.client._call("POST", "/nodes", json=form)
        return node

    def upload_rows(self, node_id: int, path: str | Path, *, progress: Progress | None = None) -> JSON:
        """Upload a simulated node's rows, a .csv or .parquet file with the dataset's published columns
        (again: they replace the earlier ones); the node. Rows that already back another node are refused
        with `node_rows_taken`."""
        source = readable(path)
        headers = {"Content-Type": CONTENT_TYPES[source.suffix.lower()]}
        node: JSON = self.client._call(
            "PUT", f"/nodes/{node_id}/rows", content=chunks(source, progress), headers=headers
        )
        return node

    def superlink(self) -> str | None:
        """The Flower SuperLink (host:port) the commons' deployed nodes connect to, if it has one."""
        address: str | None = self.client._call("GET", "/federation")["superlink"]
        return address


@dataclass
class Model:
    """A trained model with its card; it belongs to its contributors by their shares."""

    slug: str
    license: str
    card: JSON
    contributors: list[JSON]
    architecture: JSON
    json: JSON = field(repr=False)
    api: "Models" = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: JSON, api: "Models") -> "Model":
        known = {name: data[name] for name in ("slug", "license", "card", "contributors", "architecture")}
        return cls(**known, json=data, api=api)

    def predict(self, rows: Any) -> list[Any]:
        """Predictions for rows (a pandas DataFrame or a list of dicts) of the model's feature columns."""
        return self.api.predict(self.slug, rows)

    def download(self, path: str | Path) -> Path:
        """Save the weights (a NumPy .npz file) to `path`."""
        return self.api.download(self.slug, path)


class Models:
    """Trained models: `Models(client)`, or `Commons(url).models`."""

    def __init__(self, client: Client) -> None:
        self.client = client

    def get(self, slug: str) -> Model:
        return Model.from_json(self.client._call("GET", f"/models/{slug}"), self)

    def of_problem(self, problem: str) -> list[Model]:
        """The models a problem's runs registered, newest first."""
        return [Model.from_json(one, self) for one in self.client._call("GET", f"/problems/{problem}/models")]

    def predict(self, slug: str, rows: Any) -> list[Any]:
        records = rows.to_dict(orient="records") if hasattr(rows, "to_dict") else list(rows)
        answer = self.client._call("POST", f"/models/{slug}/predictions", json={"rows": records})
        predictions: list[Any] = answer["predictions"]
        return predictions

    def download(self, slug: str, path: str | Path) -> Path:
        target = Path(path)
        with self.client._stream("GET", f"/models/{slug}/weights") as response:
            target.write_bytes(response.read())
        return target
