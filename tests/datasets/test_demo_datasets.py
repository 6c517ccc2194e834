"""The demo commons' datasets: real bundled data under every policy, with statistics from the real job.

Seeding the demo takes seconds (24 password hashes), so each test checks several things of one seed."""

import io

import pyarrow.parquet as pq
import pytest
from sqlalchemy import select

from aicommons.app import job_handlers
from aicommons.core.blobs import BlobStore
from aicommons.core.db import unit_of_work
from aicommons.core.jobs import Worker
from aicommons.datasets.models import DatasetVersion
from aicommons.demo import seed

USED = ("iris-flowers", "wine-recognition", "breast-cancer-wisconsin")


@pytest.fixture
def demo(factory, settings) -> None:
    with unit_of_work(factory) as session:
        seed(session, store=BlobStore(settings.blob_dir))


def test_the_demo_catalog_holds_each_policy_with_its_use_and_its_data(client, demo):
    catalog = client.get("/api/v1/datasets").json()["items"]
    assert {item["slug"]: (item["policy"], item["owner"], item["license"]) for item in catalog} == {
        "breast-cancer-wisconsin": ("gated", "community:nurses-on-ai", "CC-BY-4.0"),
        "diabetes-progression": ("federated", "community:nurses-on-ai", "BSD-3-Clause"),
        "iris-flowers": ("open", "member:liam", "CC-BY-4.0"),
        "wine-recognition": ("priced", "member:diego", "CC-BY-4.0"),
    }
    assert all(all(item["datasheet"].values()) and len(item["datasheet"]) == 7 for item in catalog)
    counts = [client.get(f"/api/v1/datasets/{slug}/counts").json() for slug in USED]
    assert [(used["downloads"], used["licenses"], used["approved_requests"]) for used in counts] == [
        (2, 0, 0),
        (1, 2, 0),
        (1, 0, 1),
    ]
    answer = client.get("/api/v1/datasets/iris-flowers/download")
    table = pq.read_table(io.BytesIO(answer.content))
    assert (answer.status_code, table.num_rows, table.column_names[-1]) == (200, 150, "species")


def test_the_federated_demo_dataset_shows_a_synthetic_sample_but_no_file(client, demo):
    (described,) = client.get("/api/v1/datasets/diabetes-progression/versions").json()
    assert (described["blob_sha256"], described["row_count"], len(described["columns"])) == (None, 442, 11)
    sample = client.get("/api/v1/datasets/diabetes-progression/versions/1").json()["preview"]
    assert len(sample) == 10 and all(len(row) == 11 for row in sample)
    assert any(isinstance(cell, float) and cell != round(cell) for row in sample for cell in row)
    statistics = {column["name"]: column for column in described["statistics"]["columns"]}
    assert statistics["progression"]["count"] == 442 and statistics["progression"]["min"] == 25.0
    refused = client.get("/api/v1/datasets/diabetes-progression/download")
    assert (refused.status_code, refused.json()["code"]) == (409, "federated_only")


def test_the_worker_computes_statistics_of_every_uploaded_demo_version(factory, settings, demo):
    worker = Worker(factory, job_handlers(settings), heartbeat_seconds=5, timeout_seconds=60)
    while worker.run_once() is not None:
        pass
    with factory() as session:
        uploaded = session.scalars(select(DatasetVersion).where(DatasetVersion.blob_sha256.is_not(None)))
        figures = {found.dataset.slug: found.statistics for found in uploaded}
    assert sorted(figures) == sorted(USED)
    species = next(column for column in figures["iris-flowers"]["columns"] if column["name"] == "species")
    assert species["distribution"]["counts"] == [50, 50, 50]
