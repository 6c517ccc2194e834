"""The SDK's datasets against a live commons: publish, search, load, and the access policies."""

import json
import shutil

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from aicommons.sdk import Commons, Dataset, RemoteError
from tests.sdk.conftest import CROISSANT, CSV


@pytest.fixture
def owner_commons(make_member, commons_of) -> Commons:
    return commons_of(make_member("owner"))


@pytest.fixture
def reader_commons(make_member, commons_of) -> Commons:
    return commons_of(make_member("reader"))


def publish(commons: Commons, path, **metadata) -> Dataset:
    fields = {"title": "Rainfall and floods", "license": "CC-BY-4.0", "sdgs": [11, 13]} | metadata
    return commons.datasets.publish(path, **fields)


def test_a_published_csv_loads_into_arrow_and_pandas(owner_commons, rainfall):
    seen: list[tuple[int, int | None]] = []
    dataset = publish(owner_commons, rainfall, summary="Floods by city.", progress=lambda *p: seen.append(p))
    assert seen[-1] == (len(CSV), len(CSV))
    found = owner_commons.datasets.get(dataset.slug)
    assert (found.title, found.policy, found.owner, found.version_count) == (
        "Rainfall and floods",
        "open",
        "member:owner",
        1,
    )
    assert [(v.number, v.row_count, v.source_format) for v in found.versions] == [(1, 3, "csv")]
    assert found.to_arrow().column("city").to_pylist() == ["Dhaka", "Lagos", "Lima"]
    assert found.to_pandas()["rainfall_mm"].tolist()[:2] == [2100.5, 1800.0]


def test_downloads_stream_to_a_file_or_folder_and_pick_a_version(owner_commons, rainfall, tmp_path):
    dataset = publish(owner_commons, rainfall)
    rainfall.write_text(CSV + "Quito,2022,900,false\n")
    assert owner_commons.datasets.upload(dataset.slug, rainfall)["number"] == 2
    assert (
        owner_commons.datasets.upload(dataset.slug, rainfall)["number"] == 2
    )  # the same bytes: no new version
    newest = dataset.download(tmp_path)
    assert newest == tmp_path / f"{dataset.slug}-v2.parquet"
    first = dataset.download(tmp_path / "first.parquet", version=1)
    assert (pq.read_table(newest).num_rows, pq.read_table(first).num_rows) == (4, 3)
    assert sorted(path.name for path in tmp_path.glob("*.parquet*")) == ["first.parquet", newest.name]


def test_a_large_parquet_file_is_uploaded_in_chunks(owner_commons, tmp_path):
    path = tmp_path / "readings.parquet"
    pq.write_table(pa.table({"reading": [float(n) for n in range(400_000)]}), path, compression="none")
    seen: list[int] = []
    dataset = publish(owner_commons, path, progress=lambda done, _: seen.append(done))
    assert len(seen) > 1 and seen[-1] == path.stat().st_size
    assert dataset.to_arrow().num_rows == 400_000


def test_search_narrows_the_catalog(owner_commons, rainfall):
    publish(owner_commons, rainfall)
    publish(owner_commons, rainfall, title="Clinic visits", sdgs=[3], policy="priced", price=5)
    assert [d.title for d in owner_commons.datasets.search(sdg=3)] == ["Clinic visits"]
    assert [d.slug for d in owner_commons.datasets.search(q="rainfall", policy="open")] == [
        "rainfall-and-floods"
    ]
    assert owner_commons.datasets.page(format="csv")["total"] == 2


def test_gated_data_needs_an_approved_request(owner_commons, reader_commons, rainfall):
    dataset = publish(owner_commons, rainfall, policy="gated", request_fields=["What for?"])
    with pytest.raises(RemoteError) as refused:
        reader_commons.datasets.get(dataset.slug).to_arrow()
    assert (refused.value.status, refused.value.code) == (403, "access_required")
    asked = reader_commons.datasets.request_access(
        dataset.slug, "flood early warning", {"What for?": "a model"}
    )
    assert (asked["status"], asked["answers"]) == ("pending", {"What for?": "a model"})


def test_a_bought_license_lets_the_buyer_download(
    owner_commons, reader_commons, commons_of, rainfall, make_member, fund
):
    dataset = publish(owner_commons, rainfall, policy="priced", price=5)
    with pytest.raises(RemoteError) as poor:
        reader_commons.datasets.buy(dataset.slug)
    assert (poor.value.status, poor.value.code) == (409, "insufficient_funds")
    buyer = make_member("buyer")
    fund(buyer, 10)
    datasets = commons_of(buyer).datasets
    license = datasets.buy(dataset.slug)
    assert (license["amount"], license["status"], license["version"]) == (5, "held", 1)
    assert datasets.get(dataset.slug).to_arrow().num_rows == 3


def test_bad_files_are_refused_before_anything_is_registered(owner_commons, rainfall, tmp_path):
    (tmp_path / "notes.txt").write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match=r"\.csv or \.parquet"):
        publish(owner_commons, tmp_path / "notes.txt")
    with pytest.raises(FileNotFoundError):
        publish(owner_commons, tmp_path / "missing.csv")
    with pytest.raises(RemoteError) as unknown:
        publish(owner_commons, rainfall, license="Not-A-License")
    assert unknown.value.code == "unknown_license"
    (tmp_path / "ragged.csv").write_text("a,b\n1,2\n3\n")
    with pytest.raises(RemoteError) as ragged:
        publish(owner_commons, tmp_path / "ragged.csv")
    assert ragged.value.code == "bad_data"
    assert owner_commons.datasets.search() == []  # the refused first upload took its registration along


def test_an_unknown_dataset_or_an_unreachable_server_raise_remote_errors(owner_commons, tmp_path):
    with pytest.raises(RemoteError) as missing:
        owner_commons.datasets.get("no-such-data")
    assert (missing.value.status, missing.value.code) == (404, "dataset_not_found")
    with pytest.raises(RemoteError) as cut, Commons("http://127.0.0.1:9") as nowhere:
        nowhere.datasets.download("anything", tmp_path / "anything.parquet")
    assert cut.value.code == "unreachable"
    assert list(tmp_path.glob("*.parquet*")) == []


def test_a_croissant_description_and_its_file_make_a_dataset(owner_commons, rainfall, tmp_path):
    description = tmp_path / "croissant.json"
    description.write_text(json.dumps(CROISSANT))
    dataset = owner_commons.datasets.import_croissant(description, rainfall)
    assert (dataset.title, dataset.license, dataset.version_count) == (
        "Rainfall from Croissant",
        "CC-BY-4.0",
        1,
    )
    assert dataset.to_arrow().num_rows == 3


@pytest.mark.skipif(shutil.which("java") is None, reason="Spark needs Java")
def test_a_dataset_loads_into_spark(owner_commons, rainfall, tmp_path):
    from pyspark.sql import SparkSession

    dataset = publish(owner_commons, rainfall)
    spark = (
        SparkSession.builder.master("local[1]")
        .appName("aicommons-test")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "1")
        .getOrCreate()
    )
    try:
        frame = dataset.to_spark(spark)
        assert frame.count() == 3
        assert sorted(row.city for row in frame.filter("flooded").collect()) == ["Dhaka"]
    finally:
        spark.stop()
