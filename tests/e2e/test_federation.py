"""Federated learning in a real browser: a solver starts a run from the problem's page, watches it train
on three clinics' nodes (Flower's simulation engine, in the server's own worker), and opens the model."""

import time
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.people import sign_up
from tests.federation.conftest import (
    dataset_form,
    evaluation_and_kept_rows,
    node_files,
    problem_form,
    published_schema,
)

pytestmark = pytest.mark.browser


def set_up_clinics(page: Any, folder: Path) -> str:
    """The data owner's side through the JSON API with the browser's login: a federated dataset, a
    problem on it with its evaluation rows, and three nodes; the problem's slug."""
    headers = {"X-CSRF-Token": next(c["value"] for c in page.context.cookies() if c["name"] == "aic_csrf")}
    held_out, kept = evaluation_and_kept_rows()
    dataset = page.request.post("/api/v1/datasets", data=dataset_form(), headers=headers).json()["slug"]
    schema = published_schema(kept)
    page.request.post(f"/api/v1/datasets/{dataset}/versions/federated", data=schema, headers=headers)
    slug = page.request.post("/api/v1/problems", data=problem_form(dataset), headers=headers).json()["slug"]
    rows, csv = held_out.to_csv(index=False), {"Content-Type": "text/csv"}
    page.request.post(f"/api/v1/problems/{slug}/evaluation", data=rows, headers=headers | csv)
    assert page.request.post(f"/api/v1/problems/{slug}/publish", headers=headers).status == 200
    parquet = {"Content-Type": "application/vnd.apache.parquet"}
    for number, path in enumerate(node_files(kept, folder, 3)):
        form = {"name": f"clinic-{number}", "dataset": dataset}
        node = page.request.post("/api/v1/nodes", data=form, headers=headers).json()["id"]
        sent = page.request.put(
            f"/api/v1/nodes/{node}/rows", data=path.read_bytes(), headers=headers | parquet
        )
        assert sent.status == 200, sent.text()
    return slug


def test_a_solver_starts_a_run_watches_it_train_and_opens_its_model(new_page, tmp_path: Path, shots):
    owner = new_page()
    sign_up(owner, "ines")
    folder = tmp_path / "clinics"  # the clinics' own machines
    folder.mkdir(parents=True)
    slug = set_up_clinics(owner, folder)

    solver = new_page()
    sign_up(solver, "jonas")
    solver.goto(f"/problems/{slug}")
    solver.get_by_role("link", name="Federated training").click()
    expect(solver.get_by_role("cell", name="clinic-2")).to_be_visible()
    solver.get_by_label("Rounds").fill("3")
    solver.get_by_label("Fewest nodes").fill("3")
    solver.get_by_role("button", name="Start the run").click()
    expect(solver.get_by_role("heading", name="Progress")).to_be_visible()
    solver.screenshot(path=shots / "federation-run-started.png", full_page=True)
    deadline = time.monotonic() + 180  # the page polls by itself while Ray starts and the rounds run
    while "Succeeded" not in solver.get_by_role("status").first.inner_text():
        assert time.monotonic() < deadline, "the run did not finish in time"
        time.sleep(1)
    expect(solver.get_by_text("3 of 3 rounds")).to_be_visible()
    solver.screenshot(path=shots / "federation-run-done.png", full_page=True)
    solver.get_by_role("link", name=f"{slug}-run-1").click()
    expect(solver.get_by_role("heading", name="Contributors")).to_be_visible()
    solver.screenshot(path=shots / "federation-model-card.png", full_page=True)


def test_a_data_owner_adds_a_node_with_its_rows_and_a_copy_is_refused(new_page, tmp_path: Path, shots):
    owner = new_page()
    sign_up(owner, "ines")
    folder = tmp_path / "clinics"
    folder.mkdir()
    set_up_clinics(owner, folder)
    east = folder / "east.parquet"  # a fourth clinic's rows: none of the three nodes holds them
    evaluation_and_kept_rows()[0].iloc[:60].to_parquet(east, index=False)
    owner.goto("/nodes/mine")
    owner.get_by_label("Node name").fill("clinic-east")
    owner.get_by_label("Rows").set_input_files(str(east))
    owner.get_by_label("Train only with differential privacy").check()
    owner.get_by_role("button", name="Add the node").click()
    expect(owner.get_by_role("cell", name="clinic-east")).to_be_visible()
    owner.screenshot(path=shots / "federation-node-added.png", full_page=True)
    owner.get_by_label("Node name").fill("clinic-copy")
    owner.get_by_label("Rows").set_input_files(str(east))
    owner.get_by_role("button", name="Add the node").click()
    expect(owner.get_by_text("100% of these rows already back another node")).to_be_visible()
    expect(owner.get_by_role("cell", name="clinic-copy")).to_have_count(0)
    owner.screenshot(path=shots / "federation-node-copy-refused.png", full_page=True)
