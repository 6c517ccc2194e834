"""A federated problem as data owners and a problem owner set it up through the API: a federated dataset
whose rows are split over the owners' machines (files under the test's directory), and a problem on it
whose evaluation rows the commons holds."""

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer

from aicommons.core.db import utcnow
from aicommons.federation import partitions
from aicommons.members.models import Member

FEATURES = 8  # the first features of the breast cancer data, to keep runs quick
EVALUATION_ROWS = 150


@dataclass(frozen=True)
class FederatedProblem:
    slug: str
    dataset: str
    owner: Member
    owner_headers: dict[str, str]
    files: list[Path]  # one per node, each a part of the rows
    columns: list[str]
    database: str


def breast_cancer() -> pd.DataFrame:
    data = load_breast_cancer()
    names = [name.replace(" ", "_") for name in data.feature_names[:FEATURES]]
    frame = pd.DataFrame(data.data[:, :FEATURES], columns=names)
    frame["diagnosis"] = np.where(data.target == 1, "benign", "malignant")
    frame.insert(0, "case", [f"c{n:04d}" for n in range(len(frame))])
    return frame


def node_files(frame: pd.DataFrame, folder: Path, nodes: int, *, poisoned: int | None = None) -> list[Path]:
    """The rows split over `nodes` machines (iid); node `poisoned` has every label flipped."""
    files = []
    for number, rows in enumerate(partitions.iid(frame["diagnosis"].to_numpy(), nodes, seed=3)):
        part = frame.iloc[rows].copy()
        if number == poisoned:
            part["diagnosis"] = part["diagnosis"].map({"benign": "malignant", "malignant": "benign"})
        path = folder / f"node-{number}.parquet"
        part.to_parquet(path, index=False)
        files.append(path)
    return files


@pytest.fixture
def federated(client, make_member, token_for, tmp_path, settings) -> FederatedProblem:
    owner = make_member("ines")
    headers = token_for(owner)
    held_out, kept = evaluation_and_kept_rows()
    dataset = client.post("/api/v1/datasets", json=dataset_form(), headers=headers).json()["slug"]
    version = client.post(
        f"/api/v1/datasets/{dataset}/versions/federated", json=published_schema(kept), headers=headers
    )
    assert version.status_code == 201, version.text
    problem = client.post("/api/v1/problems", json=problem_form(dataset), headers=headers).json()["slug"]
    sent = client.post(
        f"/api/v1/problems/{problem}/evaluation",
        content=held_out.to_csv(index=False),
        headers=headers | {"Content-Type": "text/csv"},
    )
    assert sent.status_code == 200, sent.text
    assert client.post(f"/api/v1/problems/{problem}/publish", headers=headers).status_code == 200
    folder = tmp_path / "clinics"  # the data owners' own machines
    folder.mkdir()
    files = node_files(kept, folder, 4, poisoned=3)
    return FederatedProblem(
        problem, dataset, owner, headers, files, list(kept.columns), settings.resolved_database_url
    )


def evaluation_and_kept_rows() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The problem owner's evaluation rows, and the rows the clinics keep."""
    frame = breast_cancer().sample(frac=1.0, random_state=5)
    return frame.iloc[:EVALUATION_ROWS], frame.iloc[EVALUATION_ROWS:]


def published_schema(kept: pd.DataFrame) -> dict[str, object]:
    """What the data owner publishes of the kept rows: their columns and how many there are."""
    columns = [{"name": name, "type": "double"} for name in kept.columns if name not in {"case", "diagnosis"}]
    return {"columns": [*columns, {"name": "diagnosis", "type": "string"}], "row_count": len(kept)}


def dataset_form() -> dict[str, object]:
    return {
        "title": "Clinic biopsy records",
        "summary": "Fine-needle aspirate measurements kept at four clinics.",
        "license": "CC-BY-4.0",
        "policy": "federated",
        "keywords": ["biopsy"],
        "sdgs": [3],
        "sectors": ["health"],
        "datasheet": {"motivation": "Train without moving patient data."},
    }


def problem_form(dataset: str) -> dict[str, object]:
    now = utcnow()
    return {
        "title": "Malignant or benign, trained at the clinics",
        "task": "binary",
        "metric": "accuracy",
        "id_column": "case",
        "target_column": "diagnosis",
        "sdg_targets": ["3.4"],
        "opens_at": (now - timedelta(days=1)).isoformat(),
        "closes_at": (now + timedelta(days=30)).isoformat(),
        "input": {"dataset": dataset, "version": 1},
        "datasets": [{"dataset": dataset, "version": 1}],
    }


def register(client, federated: FederatedProblem, number: int, headers=None, **changes):
    """Register a node of the federated dataset and upload the `number`th node file as its rows (as the
    dataset's owner by default); the answer to the registration when it was refused, else to the upload."""
    headers = headers or federated.owner_headers
    form = {"name": f"clinic-{number}", "dataset": federated.dataset} | changes
    created = client.post("/api/v1/nodes", json=form, headers=headers)
    if created.status_code != 201:
        return created
    return upload_rows(client, created.json()["id"], federated.files[number], headers)


def upload_rows(client, node_id: int, path: Path, headers: dict[str, str]):
    kind = "application/vnd.apache.parquet" if path.suffix == ".parquet" else "text/csv"
    content = path.read_bytes()
    return client.put(
        f"/api/v1/nodes/{node_id}/rows", content=content, headers=headers | {"Content-Type": kind}
    )


def run_figures(run: dict) -> list:
    """Each round's model hash and metrics, and each node's update hash, value and reward: what a run
    repeated with the same seed must repeat."""
    return [
        (
            one["model_sha256"],
            one["metrics"],
            [(part["node"], part["update"], part["value"], part["reward"]) for part in one["participants"]],
        )
        for one in run["completed_rounds"]
    ]
