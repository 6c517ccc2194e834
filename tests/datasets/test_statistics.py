"""Column statistics: computed by the job worker with DuckDB after an upload, shown with the version."""

import pyarrow as pa
import pyarrow.parquet as pq

from aicommons.app import log_identity, make_worker
from aicommons.datasets import ingest, statistics


def run_jobs(settings, factory) -> None:
    worker = make_worker(settings, factory, log_identity(settings))
    while worker.run_once() is not None:
        pass


def test_the_worker_computes_statistics_of_a_new_version(client, new_dataset, settings, factory):
    slug = new_dataset()["slug"]
    before = client.get(f"/api/v1/datasets/{slug}/versions").json()[0]
    assert before["statistics"] is None
    run_jobs(settings, factory)
    figures = client.get(f"/api/v1/datasets/{slug}/versions").json()[0]["statistics"]
    by_name = {column["name"]: column for column in figures["columns"]}
    rain = by_name["rainfall_mm"]
    assert (rain["count"], rain["nulls"], rain["min"], rain["max"]) == (3, 1, 1800.0, 2100.5)
    assert sum(rain["distribution"]["counts"]) == 2
    city = by_name["city"]
    assert city["distribution"] == {"kind": "top", "values": ["Dhaka", "Lagos", "Lima"], "counts": [1, 1, 1]}
    assert by_name["flooded"]["distinct"] == 2


def test_statistics_of_numbers_dates_and_text(tmp_path):
    table = pa.table(
        {
            "n": [1, 2, 2, 3, None, 10],
            "x": [0.5, 1.5, None, None, 2.5, 3.5],
            "day": pa.array([None, "2024-01-01", "2024-01-01", "2024-03-01", "2024-02-01", None]).cast(
                pa.date32()
            ),
            "word": ["a", "b", "b", None, "c", "b"],
        }
    )
    path = tmp_path / "t.parquet"
    pq.write_table(table, path)
    found = statistics.compute(path, ingest.columns(table.schema))
    n, x, day, word = found["columns"]
    assert (n["nulls"], n["min"], n["max"], n["mean"]) == (1, 1, 10, 3.6)
    assert n["distribution"]["counts"][0] == 1 and sum(n["distribution"]["counts"]) == 5
    assert (x["nulls"], x["std"] > 0) == (2, True)
    assert (day["type"], day["min"], day["max"]) == ("date", "2024-01-01", "2024-03-01")
    assert word["distribution"] == {"kind": "top", "values": ["b", "a", "c"], "counts": [3, 1, 1]}


def test_a_csv_whose_later_rows_widen_a_column_is_still_read(tmp_path):
    rows = "\n".join(f"{n},{n}" for n in range(200_000))  # more than one 1 MiB block
    source = tmp_path / "late.csv"
    source.write_text(f"id,value\n{rows}\n5,1.5\n6,text\n")
    found = ingest.to_parquet(source, "csv", tmp_path / "late.parquet")
    assert found.row_count == 200_002
    assert found.columns == [{"name": "id", "type": "integer"}, {"name": "value", "type": "string"}]


def test_text_values_in_the_statistics_are_shown_only_to_those_who_may_download(
    client, new_dataset, settings, factory, reader_headers, owner_headers
):
    slug = new_dataset(policy="gated")["slug"]
    run_jobs(settings, factory)

    def city(headers) -> dict:
        figures = client.get(f"/api/v1/datasets/{slug}/versions/1", headers=headers).json()["statistics"]
        return {column["name"]: column for column in figures["columns"]}

    outsider, owner = city(reader_headers), city(owner_headers)
    assert (outsider["city"]["min"], outsider["city"]["distribution"], outsider["city"]["nulls"]) == (
        None,
        None,
        0,
    )
    assert outsider["rainfall_mm"]["max"] == 2100.5
    assert owner["city"]["distribution"]["values"] == ["Dhaka", "Lagos", "Lima"]
    page = client.get(f"/datasets/{slug}", headers=reader_headers).text
    assert "Dhaka" not in page
