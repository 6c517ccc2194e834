"""Problems in a real browser: the owner publishes through the form, a member submits a CSV, it is scored."""

import time
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.people import sign_up
from tests.problems.test_api import EVALUATION, predictions, problem_form

pytestmark = pytest.mark.browser


def state_problem(page: Any) -> str:
    """A draft with its evaluation data, through the JSON API with the browser's own login; its slug."""
    csrf = next(cookie["value"] for cookie in page.context.cookies() if cookie["name"] == "aic_csrf")
    headers = {"X-CSRF-Token": csrf}
    created = page.request.post("/api/v1/problems", data=problem_form(bounty=0), headers=headers)
    assert created.status == 201, created.text()
    slug = str(created.json()["slug"])
    sent = page.request.post(
        f"/api/v1/problems/{slug}/evaluation", data=EVALUATION, headers=headers | {"Content-Type": "text/csv"}
    )
    assert sent.status == 200, sent.text()
    return slug


def wait_until_scored(page: Any, seconds: float = 20) -> None:
    """The page does not poll: reload it until the worker has scored the submission."""
    deadline = time.monotonic() + seconds
    while "Scored" not in page.locator("table.records").first.inner_text():
        assert time.monotonic() < deadline, "the submission was not scored in time"
        time.sleep(0.3)
        page.reload()


def test_a_member_submits_a_csv_and_sees_it_scored_and_ranked(new_page, tmp_path: Path, shots):
    owner = new_page()
    sign_up(owner, "olga")
    slug = state_problem(owner)
    owner.goto(f"/problems/{slug}")
    owner.get_by_role("button", name="Publish").click()
    expect(owner.get_by_text("Open", exact=True).first).to_be_visible()

    ana = new_page()
    sign_up(ana, "ana")
    ana.get_by_role("navigation", name="Main").get_by_role("link", name="Problems").click()
    ana.get_by_label("Goal (SDG)").select_option("13")
    expect(ana.locator("#results").get_by_text("1 problem found")).to_be_visible()
    ana.locator("#results").get_by_role("link", name="Flood or not").click()
    expect(ana.get_by_role("heading", name="Rules")).to_be_visible()
    csv = tmp_path / "predictions.csv"
    csv.write_bytes(predictions(2))
    ana.get_by_label("Predictions (CSV)").set_input_files(csv)
    ana.get_by_label("Note (optional)").fill("every other row")
    ana.get_by_role("button", name="Submit predictions").click()
    expect(ana.get_by_role("heading", name="My submissions")).to_be_visible()
    wait_until_scored(ana)
    expect(ana.get_by_role("img", name="Public score of each scored submission over time")).to_be_visible()
    expect(ana.get_by_text("every other row")).to_be_visible()
    ana.screenshot(path=shots / "problem-submissions.png", full_page=True)

    ana.goto(f"/problems/{slug}/leaderboard")
    expect(ana.get_by_role("cell", name="ana", exact=True)).to_be_visible()
    ana.get_by_role("link", name="Private").click()
    expect(ana.get_by_text("revealed when the problem closes")).to_be_visible()
