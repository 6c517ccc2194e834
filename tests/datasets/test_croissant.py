"""Croissant and schema.org metadata: exports that mlcroissant validates, and registering from Croissant."""

import copy
import json
import re
import socket
from pathlib import Path
from typing import Any
from unittest.mock import patch

import mlcroissant
import pytest
from sqlalchemy import func, select

from aicommons.datasets.models import Dataset
from tests.datasets.conftest import upload

FEDERATED = {
    "columns": [{"name": "age", "type": "integer"}, {"name": "diagnosis", "type": "string"}],
    "row_count": 5200,
    "sample": [[41, "flu"], [63, "none"]],
}
UNVERSIONED = 'Property "https://schema.org/version" is recommended, but does not exist.'


def validated(document: dict[str, Any], warnings: frozenset[str] = frozenset()) -> mlcroissant.Dataset:
    """mlcroissant's static analysis (it raises ValidationError on errors); it fetches nothing to do it."""
    with patch.object(socket.socket, "connect", side_effect=OSError("validation must not use the network")):
        checked = mlcroissant.Dataset(jsonld=copy.deepcopy(document))
    issues = checked.metadata.ctx.issues
    assert (issues.errors, {warning.split("] ", 1)[1] for warning in issues.warnings}) == (set(), warnings)
    return checked


def croissant_of(client, slug: str) -> dict[str, Any]:
    response = client.get(f"/api/v1/datasets/{slug}/croissant")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/ld+json"
    return response.json()


def test_an_open_dataset_exports_croissant_that_validates(client, new_dataset):
    slug = new_dataset()["slug"]
    document = croissant_of(client, slug)
    metadata = validated(document).metadata
    version = client.get(f"/api/v1/datasets/{slug}/versions").json()[0]
    (parquet,) = metadata.file_objects
    assert parquet.content_url == f"http://testserver/api/v1/datasets/{slug}/download?version=1"
    assert (parquet.encoding_formats, parquet.sha256) == (["application/x-parquet"], version["blob_sha256"])
    (records,) = metadata.record_sets
    assert [(field.name, field.data_types[0].split("/")[-1]) for field in records.fields] == [
        ("city", "Text"),
        ("year", "Integer"),
        ("rainfall_mm", "Float"),
        ("flooded", "Boolean"),
    ]
    assert (metadata.name, metadata.version, metadata.license) == (
        "Rainfall and floods",
        "1.0.0",
        ["https://spdx.org/licenses/CC-BY-4.0.html"],
    )
    assert document["creator"]["url"] == "http://testserver/members/owner"


def test_the_exported_file_is_the_one_the_download_route_serves(client, new_dataset, owner_headers):
    slug = new_dataset()["slug"]
    assert upload(client, slug, b"city,year\nQuito,2022\n", owner_headers).status_code == 201
    client.post(f"/api/v1/datasets/{slug}/versions/2/withdraw", json={}, headers=owner_headers)
    (parquet,) = croissant_of(client, slug)["distribution"]
    assert parquet["contentUrl"].endswith("download?version=1")
    assert client.get(parquet["contentUrl"]).status_code == 200


def test_a_federated_dataset_exports_its_schema_without_a_file(client, new_dataset, owner_headers):
    slug = new_dataset(policy="federated", csv=None)["slug"]
    published = client.post(
        f"/api/v1/datasets/{slug}/versions/federated", json=FEDERATED, headers=owner_headers
    )
    assert published.status_code == 201, published.text
    document = croissant_of(client, slug)
    metadata = validated(document).metadata
    assert "distribution" not in document
    columns, sample = metadata.record_sets
    assert columns.data == [
        {"columns/name": "age", "columns/dataType": "sc:Integer"},
        {"columns/name": "diagnosis", "columns/dataType": "sc:Text"},
    ]
    assert sample.data == [
        {"sample/age": 41, "sample/diagnosis": "flu"},
        {"sample/age": 63, "sample/diagnosis": "none"},
    ]


def test_a_federated_dataset_without_a_sample_or_any_version_still_validates(
    client, new_dataset, owner_headers
):
    slug = new_dataset(policy="federated", csv=None)["slug"]
    validated(croissant_of(client, slug), warnings=frozenset({UNVERSIONED}))
    described = FEDERATED | {"sample": []}
    client.post(f"/api/v1/datasets/{slug}/versions/federated", json=described, headers=owner_headers)
    assert [record_set["@id"] for record_set in croissant_of(client, slug)["recordSet"]] == ["columns"]


def test_the_datasheet_travels_in_rai_properties_and_the_description(client, new_dataset):
    sheet = {"motivation": "Flood warning.", "collection_process": "City archives.", "uses": "Planning."}
    document = croissant_of(client, new_dataset(datasheet=sheet)["slug"])
    metadata = validated(document).metadata
    assert (metadata.data_collection, metadata.data_use_cases) == ("City archives.", ["Planning."])
    assert (
        document["description"]
        == "Yearly rainfall and whether the city flooded.\n\n## Motivation\n\nFlood warning."
    )


def test_schema_org_describes_the_dataset_for_search_engines(client, new_dataset):
    slug = new_dataset()["slug"]
    response = client.get(f"/api/v1/datasets/{slug}/schema-org")
    document = response.json()
    assert response.headers["content-type"] == "application/ld+json"
    assert (document["@context"], document["@type"], document["name"]) == (
        "https://schema.org/",
        "Dataset",
        "Rainfall and floods",
    )
    assert document["distribution"][0]["contentUrl"].endswith(f"/{slug}/download?version=1")
    assert [variable["name"] for variable in document["variableMeasured"]] == [
        "city",
        "year",
        "rainfall_mm",
        "flooded",
    ]


def test_a_croissant_export_registers_an_equivalent_dataset(client, new_dataset, owner_headers):
    original = new_dataset(
        datasheet={"motivation": "Flood warning.", "uses": "Planning.", "maintenance": "Yearly."}
    )
    document = croissant_of(client, original["slug"])
    created = client.post("/api/v1/datasets/croissant", json=document, headers=owner_headers)
    assert created.status_code == 201, created.text
    copied = created.json()
    same = ("title", "summary", "license", "keywords", "datasheet", "policy", "owner")
    assert {key: copied[key] for key in same} == {key: original[key] for key in same}
    assert (copied["slug"], copied["version_count"]) == (f"{original['slug']}-2", 0)


def test_a_foreign_croissant_document_maps_what_it_can(client, owner_headers):
    document = {
        "@context": {"@vocab": "https://schema.org/", "sc": "https://schema.org/"},
        "@type": "sc:Dataset",
        "name": "Fashion MNIST",
        "description": "Zalando's article images.",
        "license": ["https://creativecommons.org/licenses/by-sa/4.0/"],
        "keywords": "Images, Fashion, images",
    }
    created = client.post(
        "/api/v1/datasets/croissant?policy=gated",
        json=document,
        headers=owner_headers | {"Content-Type": "application/ld+json"},
    )
    assert created.status_code == 201, created.text
    shown = created.json()
    assert (shown["license"], shown["keywords"], shown["policy"]) == (
        "CC-BY-SA-4.0",
        ["fashion", "images"],
        "gated",
    )


@pytest.mark.parametrize(
    ("document", "code", "detail"),
    [
        ({"@type": "sc:Dataset", "name": "No context"}, "validation_failed", "not a JSON-LD document"),
        ({"@context": {}, "@type": "sc:Person", "name": "Ada"}, "validation_failed", "not sc:Dataset"),
        ({"@context": {}, "@type": "sc:Dataset", "license": "MIT"}, "validation_failed", "has no name"),
        ({"@context": {}, "@type": "sc:Dataset", "name": "Rain"}, "unknown_license", "among: none"),
        (
            {"@context": {}, "@type": "sc:Dataset", "name": "Rain", "license": "https://example.org/mine"},
            "unknown_license",
            "https://example.org/mine",
        ),
        (
            {"@context": {}, "@type": "sc:Dataset", "name": "ab", "license": "MIT"},
            "validation_failed",
            "title",
        ),
        ([1, 2], "validation_failed", ""),
    ],
)
def test_bad_documents_are_refused_and_nothing_is_stored(
    client, owner_headers, factory, document, code, detail
):
    refused = client.post("/api/v1/datasets/croissant", json=document, headers=owner_headers)
    assert (refused.status_code, refused.json()["code"]) == (422, code)
    assert detail in refused.json()["detail"]
    with factory() as db:
        assert db.scalar(select(func.count()).select_from(Dataset)) == 0


def test_registering_from_croissant_needs_a_login(client):
    document = {"@context": {}, "@type": "sc:Dataset", "name": "Rain", "license": "MIT"}
    assert client.post("/api/v1/datasets/croissant", json=document).status_code == 401


def test_the_documented_example_registers_a_gated_dataset(client, owner_headers):
    text = (Path(__file__).parents[2] / "docs" / "croissant.md").read_text()
    (example,) = re.findall(r"```json\n(.*?)```", text, re.DOTALL)
    created = client.post(
        "/api/v1/datasets/croissant?policy=gated", json=json.loads(example), headers=owner_headers
    )
    shown = created.json()
    assert (created.status_code, shown["slug"], shown["license"], shown["policy"]) == (
        201,
        "clinic-visits",
        "CC-BY-4.0",
        "gated",
    )
    assert (shown["summary"], shown["keywords"]) == ("Weekly visits per rural clinic.", ["clinics", "health"])
    assert {name: text for name, text in shown["datasheet"].items() if text} == {
        "motivation": "Staffing plans.",
        "collection_process": "Exported from the clinics' registers.",
    }


def test_mlcroissant_reads_the_rows_from_the_exported_file(client, new_dataset, tmp_path):
    slug = new_dataset()["slug"]
    document = croissant_of(client, slug)
    (parquet,) = document["distribution"]
    local = tmp_path / parquet["name"]
    local.write_bytes(client.get(parquet["contentUrl"]).content)
    read = mlcroissant.Dataset(jsonld=document, mapping={parquet["name"]: str(local)})
    rows = list(read.records("records"))
    assert [(row["records/city"], row["records/year"], row["records/flooded"]) for row in rows] == [
        (b"Dhaka", 2020, True),
        (b"Lagos", 2020, False),
        (b"Lima", 2021, False),
    ]
