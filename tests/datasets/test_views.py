"""The datasets' pages without a browser: the catalog, registering, a dataset's page for each policy, the
owners' upload form and queues, and every form sent back with its errors."""

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from aicommons.app import log_identity, make_worker
from aicommons.core.web import CSRF_COOKIE
from aicommons.datasets.views import chart
from aicommons.members.models import Member
from tests.conftest import PASSWORD
from tests.datasets.conftest import CSV

Browser = Callable[..., TestClient]


@pytest.fixture
def browser(app: FastAPI) -> Iterator[Browser]:
    """A browser of its own (cookies, CSRF token) for each person; logged in as `member` when given."""
    opened: list[TestClient] = []

    def open_as(member: Member | None = None) -> TestClient:
        page = TestClient(app, headers={"accept": "text/html"})
        opened.append(page)
        page.get("/login")
        if member is not None:
            login = page.post("/login", data=with_csrf(page, handle=member.handle, password=PASSWORD))
            assert login.status_code == 200, login.text
        return page

    yield open_as
    for page in opened:
        page.close()


def with_csrf(page: TestClient, **fields: Any) -> dict[str, Any]:
    return {"csrf_token": page.cookies[CSRF_COOKIE], **fields}


def register_form(**changes: Any) -> dict[str, Any]:
    return {
        "title": "Clinic visits",
        "summary": "Visits per clinic and week.",
        "license": "CC-BY-4.0",
        "policy": "open",
        "keywords": "health, clinics",
        "sdgs[]": ["3"],
        "sectors[]": ["health"],
        "datasheet_motivation": "Plan nurses' rotas.",
    } | changes


def run_jobs(settings, factory) -> None:
    worker = make_worker(settings, factory, log_identity(settings))
    while worker.run_once() is not None:
        pass


# --- the catalog ---------------------------------------------------------------------------------------


def test_the_catalog_searches_and_counts_facets(browser, new_dataset):
    new_dataset("Rainfall and floods", csv=None)
    new_dataset("School meals", csv=None, sdgs=[2], sectors=["education"], policy="gated")
    page = browser()
    listed = page.get("/datasets")
    assert listed.status_code == 200
    assert "2 datasets found" in listed.text
    assert "Gated (1)" in listed.text and "Education (1)" in listed.text
    found = page.get("/datasets?q=meals&sdg=&policy=")
    assert "1 dataset found" in found.text and "Rainfall and floods" not in found.text
    narrowed = page.get("/datasets?sdg=13")
    assert "Rainfall and floods" in narrowed.text and "School meals" not in narrowed.text


def test_an_htmx_search_gets_only_the_results(browser, new_dataset):
    new_dataset(csv=None)
    fragment = browser().get("/datasets?q=rain", headers={"HX-Request": "true", "HX-Target": "results"})
    assert "1 dataset found" in fragment.text
    assert "<header" not in fragment.text
    assert fragment.headers["Vary"] == "HX-Request, HX-Target"


def test_a_bad_filter_is_an_error_page(browser):
    assert browser().get("/datasets?format=zip").status_code == 422


# --- registering ---------------------------------------------------------------------------------------


def test_registering_needs_a_login(browser):
    response = browser().get("/datasets/new", follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (303, "/login?next=/datasets/new")


def test_a_member_registers_a_dataset_through_the_form(browser, owner):
    page = browser(owner)
    assert "Register a dataset" in page.get("/datasets/new").text
    created = page.post("/datasets/new", data=with_csrf(page, **register_form()), follow_redirects=False)
    assert (created.status_code, created.headers["location"]) == (303, "/datasets/clinic-visits")
    shown = page.get("/datasets/clinic-visits").text
    assert "Clinic visits" in shown and "Plan nurses&#39; rotas." in shown
    assert "SDG 3" in shown and "clinics" in shown
    assert "Upload a new version" in shown and "No version yet" in shown


def test_a_form_with_mistakes_comes_back_with_them_and_stores_nothing(browser, owner, client):
    page = browser(owner)
    form = register_form(title="x", license="WTFPL-9", policy="priced", price="")
    response = page.post("/datasets/new", data=with_csrf(page, **form))
    assert response.status_code == 422
    assert "not an SPDX identifier" in response.text
    assert 'value="x"' in response.text
    priced = page.post("/datasets/new", data=with_csrf(page, **register_form(policy="priced")))
    assert priced.status_code == 422
    assert "needs a price of at least one token" in priced.text
    assert client.get("/api/v1/datasets").json()["total"] == 0


def test_a_dataset_for_a_community_one_does_not_steward_is_refused_next_to_the_field(browser, owner):
    page = browser(owner)
    response = page.post("/datasets/new", data=with_csrf(page, **register_form(community="nowhere")))
    assert response.status_code == 404
    assert 'id="community-error"' in response.text


# --- a dataset's page ------------------------------------------------------------------------------------


def test_an_open_dataset_shows_versions_schema_preview_and_download(browser, new_dataset):
    slug = new_dataset()["slug"]
    shown = browser().get(f"/datasets/{slug}").text
    assert "Versions (1)" in shown and "rainfall_mm" in shown and "Dhaka" in shown
    assert f"/api/v1/datasets/{slug}/download?version=1" in shown
    assert "statistics are being computed" in shown and 'hx-trigger="every 2s"' in shown
    assert "Upload a new version" not in shown


def test_statistics_are_drawn_as_charts_once_computed(browser, new_dataset, settings, factory):
    slug = new_dataset()["slug"]
    run_jobs(settings, factory)
    page = browser()
    shown = page.get(f"/datasets/{slug}").text
    assert 'aria-label="Histogram of rainfall_mm"' in shown
    assert 'aria-label="Most frequent values of city"' in shown
    assert "every 2s" not in shown
    fragment = page.get(f"/datasets/{slug}/statistics?version=1").text
    assert fragment.strip().startswith('<section id="statistics"') and "<svg" in fragment


def test_a_chart_lays_out_histograms_and_top_values():
    histogram = chart({"kind": "histogram", "edges": [0.0, 1.0, 2.0], "counts": [1, 4]})
    assert histogram is not None
    assert [bar.height for bar in histogram.bars] == [25.0, 100.0]
    assert [label.text for label in histogram.labels] == ["0", "2"]
    top = chart({"kind": "top", "values": ["a" * 30, "b"], "counts": [2, 1]})
    assert top is not None and top.height == 36
    assert top.labels[0].text.endswith("…")
    assert chart({"kind": "top", "values": [], "counts": []}) is None


def test_a_missing_dataset_or_version_is_a_404_page(browser, new_dataset):
    slug = new_dataset()["slug"]
    page = browser()
    assert page.get("/datasets/nowhere").status_code == 404
    assert page.get(f"/datasets/{slug}?version=9").status_code == 404


# --- the owners' upload form and withdrawals ------------------------------------------------------------


def test_the_owner_uploads_a_version_through_the_form(browser, owner, new_dataset):
    slug = new_dataset(csv=None)["slug"]
    page = browser(owner)
    files = {"file": ("rain.csv", CSV, "text/csv")}
    response = page.post(
        f"/datasets/{slug}/versions", data=with_csrf(page), files=files, follow_redirects=False
    )
    assert (response.status_code, response.headers["location"]) == (303, f"/datasets/{slug}?version=1")
    shown = page.get(f"/datasets/{slug}").text
    assert "Versions (1)" in shown and "Lagos" in shown


def test_an_upload_of_the_wrong_kind_comes_back_with_why(browser, owner, reader, new_dataset):
    slug = new_dataset(csv=None)["slug"]
    page = browser(owner)
    wrong = page.post(f"/datasets/{slug}/versions", data=with_csrf(page), files={"file": ("a.txt", b"x")})
    assert wrong.status_code == 415 and "upload a .csv or a .parquet file" in wrong.text
    empty = page.post(f"/datasets/{slug}/versions", data=with_csrf(page), files={"file": ("a.csv", b"")})
    assert empty.status_code == 422 and "the file is empty" in empty.text
    other = browser(reader)
    refused = other.post(f"/datasets/{slug}/versions", data=with_csrf(other), files={"file": ("a.csv", CSV)})
    assert refused.status_code == 403
    assert "Versions (0)" in page.get(f"/datasets/{slug}").text


def test_an_upload_without_the_csrf_token_is_refused(browser, owner, new_dataset):
    slug = new_dataset(csv=None)["slug"]
    response = browser(owner).post(f"/datasets/{slug}/versions", files={"file": ("a.csv", CSV)})
    assert response.status_code == 403


def test_the_owner_withdraws_a_version(browser, owner, new_dataset):
    slug = new_dataset()["slug"]
    page = browser(owner)
    assert "Withdraw version 1" in page.get(f"/datasets/{slug}").text
    page.post(f"/datasets/{slug}/versions/1/withdraw", data=with_csrf(page))
    shown = page.get(f"/datasets/{slug}").text
    assert "Withdrawn" in shown and "no version to download" in shown


# --- access by policy -----------------------------------------------------------------------------------


def test_a_gated_dataset_is_requested_approved_and_downloaded(browser, owner, reader, new_dataset):
    slug = new_dataset(policy="gated", request_fields=["Which project?"])["slug"]
    asker = browser(reader)
    before = asker.get(f"/datasets/{slug}").text
    assert "Which project?" in before and "Dhaka" not in before and "/download" not in before
    asked = asker.post(
        f"/datasets/{slug}/requests", data=with_csrf(asker, reason="Flood maps", **{"answers[]": "Maps"})
    )
    assert "your request is <strong>pending</strong>" in asked.text

    keeper = browser(owner)
    queue = keeper.get(f"/datasets/{slug}/requests").text
    assert "Flood maps" in queue and "Maps" in queue and "Approve reader" in queue
    request_id = queue.split(f"/datasets/{slug}/requests/")[1].split("/")[0]
    keeper.post(f"/datasets/{slug}/requests/{request_id}/approve", data=with_csrf(keeper))
    assert "Nobody is waiting" in keeper.get(f"/datasets/{slug}/requests?state=pending").text

    after = asker.get(f"/datasets/{slug}").text
    assert "Your request was approved" in after and f"/api/v1/datasets/{slug}/download" in after
    assert "Dhaka" in after
    assert asker.get(f"/api/v1/datasets/{slug}/download").status_code == 200


def test_a_request_without_its_answers_or_a_denial_without_a_reason_comes_back(
    browser, owner, reader, new_dataset
):
    slug = new_dataset(policy="gated", request_fields=["Which project?"])["slug"]
    asker = browser(reader)
    unanswered = asker.post(f"/datasets/{slug}/requests", data=with_csrf(asker, reason="Flood maps"))
    assert unanswered.status_code == 422 and "answer the owner&#39;s question" in unanswered.text
    no_reason = asker.post(f"/datasets/{slug}/requests", data=with_csrf(asker, **{"answers[]": "Maps"}))
    assert no_reason.status_code == 422 and "Please fill this in." in no_reason.text
    asker.post(f"/datasets/{slug}/requests", data=with_csrf(asker, reason="Flood maps", **{"answers[]": "X"}))

    keeper = browser(owner)
    request_id = keeper.get(f"/datasets/{slug}/requests").text.split("/requests/")[1].split("/")[0]
    denied = keeper.post(f"/datasets/{slug}/requests/{request_id}/deny", data=with_csrf(keeper))
    assert denied.status_code == 422 and "say why the request is denied" in denied.text
    keeper.post(f"/datasets/{slug}/requests/{request_id}/deny", data=with_csrf(keeper, reason="Too vague"))
    shown = asker.get(f"/datasets/{slug}").text
    assert "<strong>denied</strong>: Too vague" in shown and "Request access" in shown


def test_a_priced_license_is_bought_then_downloaded(browser, reader, new_dataset, fund):
    slug = new_dataset(policy="priced", price=5, license_days=7)["slug"]
    buyer = browser(reader)
    assert "Buy a 7-day license for 5 tokens" in buyer.get(f"/datasets/{slug}").text
    poor = buyer.post(f"/datasets/{slug}/licenses", data=with_csrf(buyer))
    assert poor.status_code == 409 and "alert error" in poor.text
    fund(reader, 10)
    bought = buyer.post(f"/datasets/{slug}/licenses", data=with_csrf(buyer))
    assert "Your license to version 1 is held until" in bought.text
    assert f"/api/v1/datasets/{slug}/download?version=1" in bought.text


def test_a_federated_dataset_explains_itself_and_shows_its_sample(
    browser, client, owner_headers, new_dataset
):
    slug = new_dataset(policy="federated", csv=None)["slug"]
    described = {
        "columns": [{"name": "ward", "type": "string"}],
        "row_count": 900,
        "sample": [["W-synthetic"]],
    }
    client.post(f"/api/v1/datasets/{slug}/versions/federated", json=described, headers=owner_headers)
    shown = browser().get(f"/datasets/{slug}").text
    assert "rows stay on the owner&#39;s node" in shown
    assert "W-synthetic" in shown and "900 rows" in shown and "/download" not in shown
    assert "No statistics were published" in shown


def test_logged_out_visitors_are_asked_to_log_in_for_gated_and_priced_data(browser, new_dataset):
    gated = new_dataset("Gated data", policy="gated")["slug"]
    priced = new_dataset("Priced data", policy="priced", price=3)["slug"]
    page = browser()
    assert f"/login?next=/datasets/{gated}" in page.get(f"/datasets/{gated}").text
    assert "Log in</a> to buy one" in page.get(f"/datasets/{priced}").text


# --- the owners' pages -----------------------------------------------------------------------------------


def test_only_owners_see_requests_and_usage(browser, reader, new_dataset):
    slug = new_dataset(policy="gated")["slug"]
    other = browser(reader)
    assert other.get(f"/datasets/{slug}/requests").status_code == 403
    assert other.get(f"/datasets/{slug}/usage").status_code == 403
    assert other.post(f"/datasets/{slug}/requests/1/approve", data=with_csrf(other)).status_code == 403
    assert browser().get(f"/datasets/{slug}/usage", follow_redirects=False).status_code == 303


def test_the_usage_log_shows_who_downloaded_which_version(browser, owner, reader, new_dataset):
    slug = new_dataset()["slug"]
    browser(reader).get(f"/api/v1/datasets/{slug}/download")
    browser().get(f"/api/v1/datasets/{slug}/download")
    log = browser(owner).get(f"/datasets/{slug}/usage").text
    assert "2 downloads" in log and "@reader" in log and "Someone not logged in" in log and "v1" in log
