"""Datasets in a real browser: register one, upload a CSV through the form, and gated access approved."""

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.datasets.conftest import CSV
from tests.e2e.people import sign_up

pytestmark = pytest.mark.browser


OPEN = "Open: anyone may download"
GATED = "Gated: the owner approves requests"


def register_dataset(page: Any, title: str, *, policy: str = OPEN, question: str = "") -> None:
    """Fill in the registration form from the catalog and submit it; ends on the dataset's page."""
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Datasets").click()
    page.get_by_role("link", name="Register a dataset").click()
    page.get_by_label("Title", exact=True).fill(title)
    page.get_by_label("Summary").fill("Yearly rainfall and whether the city flooded.")
    page.get_by_label("License", exact=True).select_option("CC0-1.0")
    page.get_by_label("Access", exact=True).select_option(label=policy)
    if question:
        page.get_by_label("Questions for requesters").fill(question)
    page.get_by_label("Keywords").fill("rain, flood")
    page.get_by_label("Climate", exact=True).check()
    page.get_by_label("Motivation").fill("Early warning of floods.")
    page.get_by_role("button", name="Register dataset").click()
    expect(page.get_by_role("heading", level=1, name=title)).to_be_visible()


def upload_csv(page: Any, folder: Path) -> None:
    csv = folder / "rainfall.csv"
    csv.write_bytes(CSV)
    page.get_by_label("Upload a new version").set_input_files(csv)
    page.get_by_role("button", name="Upload version").click()
    expect(page.get_by_role("heading", name="Versions (1)")).to_be_visible()


def test_a_member_registers_a_dataset_uploads_a_csv_and_sees_it(new_page, tmp_path, shots):
    alice = new_page()
    sign_up(alice, "alice")
    register_dataset(alice, "Rainfall and floods")
    expect(alice.get_by_text("Early warning of floods.")).to_be_visible()
    upload_csv(alice, tmp_path)
    expect(alice.get_by_role("link", name="v1")).to_be_visible()
    expect(alice.get_by_role("cell", name="Dhaka")).to_be_visible()
    expect(alice.get_by_role("link", name="Download version 1 (Parquet)")).to_be_visible()
    stats = alice.locator("#statistics")
    expect(stats.get_by_role("img", name="Histogram of rainfall_mm")).to_be_visible(timeout=20_000)
    alice.screenshot(path=shots / "dataset.png", full_page=True)

    bob = new_page()
    bob.goto("/datasets")
    bob.get_by_label("Search").press_sequentially("flood", delay=40)
    expect(bob.locator("#results").get_by_text("1 dataset found")).to_be_visible()
    bob.locator("#results").get_by_role("link", name="Rainfall and floods").click()
    expect(bob.get_by_role("cell", name="Lagos")).to_be_visible()


def test_a_member_requests_a_gated_dataset_and_the_owner_approves(new_page, tmp_path):
    owner = new_page()
    sign_up(owner, "olga")
    register_dataset(owner, "Clinic floods", policy=GATED, question="Which project?")
    upload_csv(owner, tmp_path)

    bob = new_page()
    sign_up(bob, "bob")
    bob.goto("/datasets/clinic-floods")
    expect(bob.get_by_role("heading", name="Preview")).to_have_count(0)
    bob.get_by_label("Why do you need this data?").fill("Flood maps for clinics")
    bob.get_by_label("Which project?").fill("Clinic safety")
    bob.get_by_role("button", name="Request access").click()
    expect(bob.get_by_text("your request is pending")).to_be_visible()

    owner.get_by_role("link", name="Access requests").click()
    expect(owner.get_by_text("Flood maps for clinics")).to_be_visible()
    owner.get_by_role("button", name="Approve bob").click()
    expect(owner.get_by_role("button", name="Approve bob")).to_have_count(0)
    expect(owner.get_by_role("listitem").filter(has_text="@bob")).to_contain_text("Approved")

    bob.reload()
    expect(bob.get_by_text("Your request was approved")).to_be_visible()
    expect(bob.get_by_role("link", name="Download version 1 (Parquet)")).to_be_visible()
    expect(bob.get_by_role("heading", name="Preview")).to_be_visible()
