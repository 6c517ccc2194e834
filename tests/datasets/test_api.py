"""Datasets through the JSON API: registering, uploading, the four access policies, usage and refusals."""

import io

import pyarrow.parquet as pq
import pytest
from sqlalchemy import func, select

from aicommons.core.config import Settings
from aicommons.datasets.models import DatasetVersion
from aicommons.ledger import tokens
from aicommons.ledger.models import LogRecord
from tests.datasets.conftest import CSV, dataset_form, upload


def count(factory, model) -> int:
    with factory() as db:
        return db.scalar(select(func.count()).select_from(model)) or 0


def blobs(settings: Settings) -> list[str]:
    return sorted(path.name for path in settings.blob_dir.rglob("*") if path.is_file())


def test_an_uploaded_csv_becomes_an_immutable_parquet_version(client, new_dataset, settings):
    dataset = new_dataset()
    versions = client.get(f"/api/v1/datasets/{dataset['slug']}/versions").json()
    assert [(v["number"], v["row_count"], v["source_format"]) for v in versions] == [(1, 3, "csv")]
    assert [c["type"] for c in versions[0]["columns"]] == ["string", "integer", "float", "boolean"]
    assert blobs(settings) == [versions[0]["blob_sha256"]]
    body = client.get(f"/api/v1/datasets/{dataset['slug']}/download").content
    table = pq.read_table(io.BytesIO(body))
    assert table.column("city").to_pylist() == ["Dhaka", "Lagos", "Lima"]
    assert table.column("rainfall_mm").to_pylist() == [2100.5, 1800.0, None]


def test_uploading_the_same_bytes_again_makes_no_new_version(client, new_dataset, owner_headers, settings):
    dataset = new_dataset()
    again = upload(client, dataset["slug"], CSV, owner_headers)
    assert again.status_code == 200
    assert again.json()["number"] == 1
    assert client.get(f"/api/v1/datasets/{dataset['slug']}").json()["version_count"] == 1
    changed = upload(client, dataset["slug"], CSV + b"Quito,2022,900,false\n", owner_headers)
    assert (changed.status_code, changed.json()["number"], changed.json()["row_count"]) == (201, 2, 4)
    assert len(blobs(settings)) == 2


def test_a_parquet_upload_is_kept_as_it_is(client, new_dataset, owner_headers):
    dataset = new_dataset(csv=None)
    first = client.get  # keep flake quiet about unused names in parametrised helpers
    assert first
    buffer = io.BytesIO()
    pq.write_table(pq.read_table(io.BytesIO(_parquet_of(client, new_dataset))), buffer)
    sent = upload(client, dataset["slug"], buffer.getvalue(), owner_headers, "application/vnd.apache.parquet")
    assert sent.status_code == 201, sent.text
    assert (sent.json()["source_format"], sent.json()["row_count"]) == ("parquet", 3)


def _parquet_of(client, new_dataset) -> bytes:
    other = new_dataset("Another rainfall table")
    return client.get(f"/api/v1/datasets/{other['slug']}/download").content


@pytest.mark.parametrize(
    ("body", "content_type", "status", "code"),
    [
        (b"a,b\n1,2\n3\n", "text/csv", 422, "bad_data"),
        (b"a,b\n1,\xff\xfe\n", "text/csv", 422, "bad_data"),
        (b"", "text/csv", 422, "empty_data"),
        (b"a,b\n", "text/csv", 422, "empty_data"),
        (b"not parquet at all", "application/vnd.apache.parquet", 422, "bad_data"),
        (b"a,b\n1,2\n", "application/json", 415, "unsupported_format"),
        (b"a,b\n1,2\n", "", 415, "unsupported_format"),
    ],
)
def test_bad_files_are_refused_and_leave_nothing_behind(
    client, new_dataset, owner_headers, settings, factory, body, content_type, status, code
):
    dataset = new_dataset(csv=None)
    records = count(factory, LogRecord)
    refused = upload(client, dataset["slug"], body, owner_headers, content_type)
    assert (refused.status_code, refused.json()["code"]) == (status, code)
    assert count(factory, DatasetVersion) == 0
    assert count(factory, LogRecord) == records
    assert blobs(settings) == []


def test_an_upload_over_the_limit_is_refused(tmp_path, database_url, make_member, token_for):
    from fastapi.testclient import TestClient

    import aicommons.app

    settings = Settings(
        data_dir=tmp_path / "small", database_url=database_url, run_worker=False, max_upload_bytes=1024
    )
    with TestClient(aicommons.app.create_app(settings)) as small:
        headers = token_for(make_member("uploader"))
        slug = small.post("/api/v1/datasets", json=dataset_form(), headers=headers).json()["slug"]
        refused = upload(small, slug, b"a,b\n" + b"1,2\n" * 400, headers)
        assert (refused.status_code, refused.json()["code"]) == (413, "payload_too_large")
        assert blobs(settings) == []


@pytest.mark.parametrize(
    "change",
    [
        {"license": "WTFPL-or-whatever"},
        {"title": "ab"},
        {"policy": "secret"},
        {"policy": "priced", "price": 0},
        {"sdgs": [18]},
        {"sectors": ["astrology"]},
        {"datasheet": {"gossip": "x"}},
        {"slug": "Bad Slug!"},
    ],
)
def test_registering_with_bad_metadata_is_refused(client, owner_headers, factory, change):
    from aicommons.datasets.models import Dataset

    refused = client.post("/api/v1/datasets", json=dataset_form(**change), headers=owner_headers)
    assert refused.status_code == 422
    expected = "unknown_license" if "license" in change else "validation_failed"
    assert refused.json()["code"] == expected
    assert count(factory, Dataset) == 0


def test_only_owners_publish_and_anonymous_visitors_must_log_in(client, new_dataset, reader_headers):
    dataset = new_dataset(csv=None)
    assert upload(client, dataset["slug"], CSV, reader_headers).json()["code"] == "forbidden"
    assert upload(client, dataset["slug"], CSV, {}).json()["code"] == "not_authenticated"


def test_gated_data_needs_an_approved_request(client, new_dataset, reader_headers, owner_headers):
    dataset = new_dataset(policy="gated", request_fields=["Which project?"])
    slug = dataset["slug"]
    assert (
        client.get(f"/api/v1/datasets/{slug}/download", headers=reader_headers).json()["code"]
        == "access_required"
    )
    unanswered = client.post(
        f"/api/v1/datasets/{slug}/requests", json={"reason": "research"}, headers=reader_headers
    )
    assert unanswered.status_code == 422
    asked = client.post(
        f"/api/v1/datasets/{slug}/requests",
        json={"reason": "flood research", "answers": {"Which project?": "Early warning"}},
        headers=reader_headers,
    )
    assert asked.status_code == 201
    again = client.post(
        f"/api/v1/datasets/{slug}/requests",
        json={"reason": "again", "answers": {"Which project?": "x"}},
        headers=reader_headers,
    )
    assert again.json()["code"] == "already_requested"
    queue = client.get(f"/api/v1/datasets/{slug}/requests", headers=owner_headers).json()
    assert [(r["handle"], r["overdue"]) for r in queue["items"]] == [("reader", False)]
    assert (
        client.get(f"/api/v1/datasets/{slug}/requests", headers=reader_headers).json()["code"] == "forbidden"
    )
    request_id = asked.json()["id"]
    approved = client.post(
        f"/api/v1/datasets/{slug}/requests/{request_id}/approve",
        json={"reason": "welcome"},
        headers=owner_headers,
    )
    assert approved.json()["status"] == "approved"
    assert client.get(f"/api/v1/datasets/{slug}/download", headers=reader_headers).status_code == 200
    twice = client.post(
        f"/api/v1/datasets/{slug}/requests/{request_id}/deny", json={"reason": "no"}, headers=owner_headers
    )
    assert twice.json()["code"] == "already_decided"


def test_a_denial_needs_a_reason_and_keeps_the_data_closed(
    client, new_dataset, reader_headers, owner_headers
):
    slug = new_dataset(policy="gated")["slug"]
    request_id = client.post(
        f"/api/v1/datasets/{slug}/requests", json={"reason": "curious"}, headers=reader_headers
    ).json()["id"]
    bare = client.post(f"/api/v1/datasets/{slug}/requests/{request_id}/deny", json={}, headers=owner_headers)
    assert bare.status_code == 422
    denied = client.post(
        f"/api/v1/datasets/{slug}/requests/{request_id}/deny",
        json={"reason": "not for curiosity"},
        headers=owner_headers,
    )
    assert denied.json()["status"] == "denied"
    mine = client.get(f"/api/v1/datasets/{slug}/requests/mine", headers=reader_headers).json()
    assert [(r["status"], r["decision_reason"]) for r in mine] == [("denied", "not for curiosity")]
    assert client.get(f"/api/v1/datasets/{slug}/download", headers=reader_headers).status_code == 403


def test_a_license_pays_through_escrow_released_on_first_download(
    client, new_dataset, reader, owner, reader_headers, fund, factory
):
    slug = new_dataset(policy="priced", price=40, license_days=30)["slug"]
    assert (
        client.post(f"/api/v1/datasets/{slug}/licenses", headers=reader_headers).json()["code"]
        == "insufficient_funds"
    )
    fund(reader, 100)
    bought = client.post(f"/api/v1/datasets/{slug}/licenses", headers=reader_headers)
    assert (bought.status_code, bought.json()["status"]) == (201, "held")
    with factory() as db:
        assert tokens.balance(db, tokens.member_account(reader.id)) == 60
        assert tokens.balance(db, tokens.member_account(owner.id)) == 0
    assert client.get(f"/api/v1/datasets/{slug}/download", headers=reader_headers).status_code == 200
    with factory() as db:
        assert tokens.balance(db, tokens.member_account(owner.id)) == 40
    mine = client.get(f"/api/v1/datasets/{slug}/licenses/mine", headers=reader_headers).json()
    assert [held["status"] for held in mine] == ["active"]
    again = client.post(f"/api/v1/datasets/{slug}/licenses", headers=reader_headers)
    assert again.json()["code"] == "already_granted"


def test_withdrawing_a_version_refunds_licenses_still_in_escrow(
    client, new_dataset, reader, reader_headers, owner_headers, fund, factory
):
    slug = new_dataset(policy="priced", price=25)["slug"]
    fund(reader, 25)
    client.post(f"/api/v1/datasets/{slug}/licenses", headers=reader_headers)
    withdrawn = client.post(f"/api/v1/datasets/{slug}/versions/1/withdraw", headers=owner_headers)
    assert withdrawn.json()["withdrawn"] is True
    with factory() as db:
        assert tokens.balance(db, tokens.member_account(reader.id)) == 25
    mine = client.get(f"/api/v1/datasets/{slug}/licenses/mine", headers=reader_headers).json()
    assert [held["status"] for held in mine] == ["refunded"]
    assert client.get(f"/api/v1/datasets/{slug}/download?version=1", headers=owner_headers).status_code == 410


def test_federated_rows_never_reach_the_commons(client, new_dataset, owner_headers, reader_headers):
    slug = new_dataset(policy="federated", csv=None)["slug"]
    assert upload(client, slug, CSV, owner_headers).json()["code"] == "federated_only"
    described = {
        "columns": [{"name": "age", "type": "integer"}, {"name": "diagnosis", "type": "string"}],
        "row_count": 5200,
        "sample": [[41, "flu"], [63, "none"]],
    }
    published = client.post(
        f"/api/v1/datasets/{slug}/versions/federated", json=described, headers=owner_headers
    )
    assert (published.status_code, published.json()["blob_sha256"], published.json()["row_count"]) == (
        201,
        None,
        5200,
    )
    shown = client.get(f"/api/v1/datasets/{slug}/versions/1", headers=reader_headers).json()
    assert shown["preview"] == [[41, "flu"], [63, "none"]]
    assert (
        client.get(f"/api/v1/datasets/{slug}/download", headers=owner_headers).json()["code"]
        == "federated_only"
    )


def test_the_owner_sees_who_used_the_data_and_everyone_sees_counts(
    client, new_dataset, reader_headers, owner_headers
):
    slug = new_dataset()["slug"]
    client.get(f"/api/v1/datasets/{slug}/download", headers=reader_headers)
    client.get(f"/api/v1/datasets/{slug}/download")
    usage = client.get(f"/api/v1/datasets/{slug}/usage", headers=owner_headers).json()
    assert [(row["handle"], row["version"]) for row in usage["items"]] == [(None, 1), ("reader", 1)]
    assert client.get(f"/api/v1/datasets/{slug}/usage", headers=reader_headers).json()["code"] == "forbidden"
    assert client.get(f"/api/v1/datasets/{slug}/counts").json() == {
        "downloads": 2,
        "licenses": 0,
        "approved_requests": 0,
    }


def test_every_access_step_is_on_the_log(client, new_dataset, reader_headers, factory):
    slug = new_dataset()["slug"]
    client.get(f"/api/v1/datasets/{slug}/download", headers=reader_headers)
    with factory() as db:
        events = list(db.scalars(select(LogRecord.event).order_by(LogRecord.id)))
    assert [e for e in events if e.startswith("datasets:")] == [
        "datasets:dataset:create",
        "datasets:version:publish",
        "datasets:version:download",
    ]


def test_the_catalog_filters_by_facets(client, new_dataset):
    new_dataset("Rainfall and floods")
    new_dataset(
        "Clinic visits", policy="gated", sdgs=[3], sectors=["health"], keywords=["clinic"], license="CC0-1.0"
    )

    def titles(query: str) -> list[str]:
        return [d["title"] for d in client.get(f"/api/v1/datasets?{query}").json()["items"]]

    assert titles("") == ["Clinic visits", "Rainfall and floods"]
    assert titles("sdg=3") == ["Clinic visits"]
    assert titles("sector=climate") == ["Rainfall and floods"]
    assert titles("policy=gated") == ["Clinic visits"]
    assert titles("license=CC0-1.0") == ["Clinic visits"]
    assert titles("q=CLINIC") == ["Clinic visits"]
    assert titles("format=csv") == ["Clinic visits", "Rainfall and floods"]
    assert client.get("/api/v1/datasets?sdg=99").status_code == 422


def test_only_a_dataset_without_versions_can_be_removed(client, new_dataset, owner_headers, reader_headers):
    empty, published = new_dataset("Nothing yet", csv=None)["slug"], new_dataset()["slug"]
    assert client.delete(f"/api/v1/datasets/{empty}", headers=reader_headers).json()["code"] == "forbidden"
    assert (
        client.delete(f"/api/v1/datasets/{published}", headers=owner_headers).json()["code"]
        == "dataset_published"
    )
    assert client.delete(f"/api/v1/datasets/{empty}", headers=owner_headers).status_code == 204
    assert client.get(f"/api/v1/datasets/{empty}").json()["code"] == "dataset_not_found"
