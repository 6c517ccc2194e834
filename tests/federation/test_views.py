"""The federated learning pages without a browser: a problem's nodes, runs and models with the form to start
a run, a run's rounds and live progress, and a model's card. Rounds are recorded through the service, as the
training job records them, so that no test waits for Flower."""

import html
import re
import shlex
from typing import Any

import pytest
from sqlalchemy import func, select

from aicommons.core.blobs import BlobStore
from aicommons.federation import learning, service
from aicommons.federation.learning import Architecture, Family
from aicommons.federation.models import Node
from aicommons.federation.plans import Participant, RoundReport
from tests.federation.conftest import FEATURES, FederatedProblem, register
from tests.problems import test_views as problem_pages

browser, with_csrf = problem_pages.browser, problem_pages.with_csrf  # the problems' page fixtures, shared
FORM = {
    "family": "logistic",
    "strategy": "fedavg",
    "rounds": "3",
    "local_epochs": "1",
    "learning_rate": "0.1",
    "fraction": "1.0",
    "min_nodes": "2",
    "proximal_mu": "",
    "clip_norm": "",
    "noise_multiplier": "",
    "license": "CC-BY-4.0",
}


@pytest.fixture
def nodes(client, federated: FederatedProblem) -> list[int]:
    """Four clinics' nodes; the last one trains only with differential privacy."""
    found = [register(client, federated, number).json()["id"] for number in range(3)]
    private = register(client, federated, 3, require_privacy=True, max_epsilon=5.0)
    assert private.status_code == 200, private.text
    return [*found, private.json()["id"]]


@pytest.fixture
def solver(make_member):
    return make_member("liam")


def start_by_api(client, token_for, solver, federated: FederatedProblem, **form: Any) -> int:
    started = client.post(
        f"/api/v1/problems/{federated.slug}/runs", json={"rounds": 2, **form}, headers=token_for(solver)
    )
    assert started.status_code == 202, started.text
    return int(started.json()["id"])


def record_round(factory, run_id: int, nodes: list[int]) -> list[Any]:
    """Round 1 as the training job records it: two helpful nodes and a harmful one left out."""
    weights = learning.initial_weights(Architecture(Family.LOGISTIC, features=FEATURES, outputs=2), seed=0)
    parts = (
        Participant(nodes[0], 120, "a" * 64, 0.04),
        Participant(nodes[1], 110, "b" * 64, 0.01),
        Participant(nodes[2], 100, "c" * 64, -0.03, left_out="negative contribution: -0.03"),
    )
    report = RoundReport(1, weights, parts, "exact_shapley", {"accuracy": 0.9})
    with factory.begin() as db:
        run = service.get_run(session=db, run_id=run_id)
        service.begin(session=db, run=run)
        service.record_round(session=db, run=run, report=report, epsilon=0.8)
    return weights


def finish(factory, settings, run_id: int, weights: list[Any]) -> str:
    with factory.begin() as db:
        run = service.get_run(session=db, run_id=run_id)
        return service.finish(session=db, store=BlobStore(settings.blob_dir), run=run, weights=weights).slug


# --- a problem's federated training ------------------------------------------------------------------------


def test_the_problem_page_links_to_federated_training(browser, federated):
    shown = browser().get(f"/problems/{federated.slug}").text
    assert f'href="/problems/{federated.slug}/federated">Federated training</a>' in shown


def test_visitors_see_the_nodes_and_runs_but_no_form(client, browser, federated, nodes, solver, token_for):
    run_id = start_by_api(client, token_for, solver, federated, min_nodes=3)
    shown = browser().get(f"/problems/{federated.slug}/federated")
    assert shown.status_code == 200
    page = shown.text
    assert all(f"clinic-{number}" in page for number in range(4)) and "Clinic biopsy records" in page
    assert "Simulated" in page and "Differential privacy required" in page
    assert '<td data-label="Max ε">5</td>' in page
    assert "50 rounds of 10 local epochs" in page
    assert f'href="/runs/{run_id}">Run {run_id}</a>' in page and "Queued" in page and "0 / 2" in page
    assert "No model yet" in page
    assert "/federated/runs" not in page and "Log in</a> to start a training run" in page


def test_members_start_a_run_through_the_form_and_land_on_its_page(browser, federated, nodes, solver):
    page = browser(solver)
    form = page.get(f"/problems/{federated.slug}/federated").text
    assert f'action="/problems/{federated.slug}/federated/runs"' in form
    assert '<option value="CC-BY-4.0" selected>' in form and '<option value="fedprox">' in form
    assert 'name="nodes[]"' in form and 'id="f-clip_norm"' in form

    sent = page.post(
        f"/problems/{federated.slug}/federated/runs", data=with_csrf(page, **FORM), follow_redirects=False
    )
    assert sent.status_code == 303, sent.text
    assert re.fullmatch(r"/runs/\d+", sent.headers["location"])
    shown = page.get(sent.headers["location"]).text
    assert "Training run" in shown and "<strong>Queued</strong>" in shown and "0 of 3 rounds done" in shown
    assert '<progress max="1" value="0.0"' in shown and 'hx-trigger="every 2s"' in shown
    assert re.search(r"invited:\s*clinic-0, clinic-1, clinic-2\s*<", shown)  # clinic-3 wants privacy:
    assert "Declined: <strong>clinic-3</strong>: this node trains only with differential privacy" in shown
    assert "No round has completed yet." in shown


def test_a_refused_run_comes_back_with_the_reasons_and_the_values_typed(
    client, browser, federated, nodes, solver
):
    page = browser(solver)
    typed = FORM | {"min_nodes": "4", "rounds": "7", "strategy": "krum"}
    sent = page.post(f"/problems/{federated.slug}/federated/runs", data=with_csrf(page, **typed))
    assert sent.status_code == 409
    shown = sent.text
    assert "3 of the problem&#39;s nodes accept this run, 4 are needed" in shown
    assert "<strong>clinic-3</strong>: this node trains only with differential privacy" in shown
    assert 'name="min_nodes" type="number" value="4"' in shown
    assert 'name="rounds" type="number" value="7"' in shown
    assert '<option value="krum" selected>' in shown
    assert client.get(f"/api/v1/problems/{federated.slug}/runs").json() == []


def test_bad_values_are_shown_next_to_their_fields(browser, federated, nodes, solver):
    page = browser(solver)
    path = f"/problems/{federated.slug}/federated/runs"
    sent = page.post(path, data=with_csrf(page, **FORM | {"learning_rate": "fast", "rounds": "0"}))
    assert sent.status_code == 422
    assert 'id="learning_rate-error"' in sent.text and 'id="rounds-error"' in sent.text
    assert 'name="learning_rate" type="number" value="fast"' in sent.text

    private = FORM | {"noise_multiplier": "1.1"}
    sent = page.post(path, data=with_csrf(page, **private))
    assert sent.status_code == 422
    assert "differential privacy (a noise_multiplier) needs a clip_norm" in sent.text


def test_starting_a_run_needs_a_login(browser, federated, nodes):
    page = browser()
    sent = page.post(
        f"/problems/{federated.slug}/federated/runs", data=with_csrf(page, **FORM), follow_redirects=False
    )
    assert sent.status_code == 303 and sent.headers["location"].startswith("/login")


# --- a run -------------------------------------------------------------------------------------------------


def test_the_run_page_shows_rounds_rewards_and_a_flagged_negative_contribution(
    client, browser, federated, nodes, solver, token_for, factory
):
    run_id = start_by_api(client, token_for, solver, federated, noise_multiplier=1.0, clip_norm=1.0)
    record_round(factory, run_id, nodes)
    shown = browser().get(f"/runs/{run_id}").text
    assert "<strong>Running</strong>" in shown and "1 of 2 rounds done" in shown
    assert "Round 1: accuracy 0.9000" in shown and "privacy spent ε = 0.8" in shown
    assert "contributions by exact shapley" in shown and '<svg class="rounds-chart"' in shown
    assert "Round 1: accuracy 0.9000</title>" in shown
    rows = re.findall(r"<tr(?: class=\"left-out\")?>.*?</tr>", shown, flags=re.S)
    by_node = {name: row for row in rows for name in ("clinic-0", "clinic-1", "clinic-2") if name in row}
    assert "+0.0400" in by_node["clinic-0"] and "8 tokens" in by_node["clinic-0"]
    assert "aaaaaaaaaaaa</code>" in by_node["clinic-0"] and "2 tokens" in by_node["clinic-1"]
    flagged = by_node["clinic-2"]
    assert 'class="left-out"' in flagged and "-0.0300" in flagged and "0 tokens" in flagged
    assert "Negative contribution — flagged to the node's owner" in flagged
    assert "Left out: negative contribution: -0.03" in flagged
    assert "flagged" not in by_node["clinic-0"] and "Left out" not in by_node["clinic-1"]


def test_the_htmx_poll_gets_only_the_live_part_until_the_run_ends(
    client, browser, federated, nodes, solver, token_for, factory, settings
):
    run_id = start_by_api(client, token_for, solver, federated)
    page = browser()
    poll = {"HX-Request": "true", "HX-Target": "run-live"}
    fragment = page.get(f"/runs/{run_id}", headers=poll)
    assert fragment.status_code == 200 and fragment.headers["Vary"] == "HX-Request, HX-Target"
    text = fragment.text
    assert text.lstrip().startswith('<section id="run-live"') and "<header" not in text
    assert "Configuration" not in text and 'hx-trigger="every 2s"' in text and "<progress" in text

    weights = record_round(factory, run_id, nodes)
    slug = finish(factory, settings, run_id, weights)
    text = page.get(f"/runs/{run_id}", headers=poll).text
    assert "<strong>Succeeded</strong>" in text and "hx-trigger" not in text
    assert f'<a href="/models/{slug}">{slug}</a>' in text


# --- a model -----------------------------------------------------------------------------------------------


def test_the_model_page_shows_its_card_contributors_license_and_a_working_example(
    client, browser, federated, nodes, solver, token_for, factory, settings
):
    run_id = start_by_api(client, token_for, solver, federated, license="CC-BY-SA-4.0")
    slug = finish(factory, settings, run_id, record_round(factory, run_id, nodes))
    shown = browser().get(f"/models/{slug}")
    assert shown.status_code == 200
    page = shown.text
    assert f'href="/problems/{federated.slug}"' in page and f'href="/runs/{run_id}">run {run_id}</a>' in page
    assert '<a href="https://spdx.org/licenses/CC-BY-SA-4.0.html">CC-BY-SA-4.0</a>' in page
    assert '<a href="/members/ines">Ines</a>' in page and "100.0%" in page
    assert "clinic-0" in page and "Clinic biopsy records</a>, version 1" in page
    assert "<code>mean_radius</code>" in page and "2 classes: benign, malignant" in page
    assert f"/api/v1/models/{slug}/weights" in page and '<svg class="rounds-chart"' in page

    command = re.search(r"curl -X POST (.*?)</pre>", page, flags=re.S)
    assert command is not None
    words = shlex.split(html.unescape(command.group(1)))
    assert words[0].endswith(f"/api/v1/models/{slug}/predictions")
    path = words[0].removeprefix("http://testserver")
    predicted = client.post(path, content=words[-1], headers={"Content-Type": "application/json"})
    assert predicted.status_code == 200, predicted.text
    assert predicted.json()["predictions"][0]["label"] in {"benign", "malignant"}


def test_the_runs_creator_prices_the_model_and_submits_it_through_the_page(
    client, browser, federated, nodes, solver, token_for, factory, settings, make_member
):
    run_id = start_by_api(client, token_for, solver, federated)
    slug = finish(factory, settings, run_id, record_round(factory, run_id, nodes))
    assert "Manage the model" not in browser(make_member("ana")).get(f"/models/{slug}").text
    page = browser(solver)
    assert "Manage the model" in page.get(f"/models/{slug}").text
    bad = page.post(f"/models/{slug}/price", data=with_csrf(page, price="-1"))
    assert bad.status_code == 422 and "Manage the model" in bad.text
    priced = page.post(f"/models/{slug}/price", data=with_csrf(page, price="5"), follow_redirects=False)
    assert (priced.status_code, priced.headers["location"]) == (303, f"/models/{slug}#manage")
    assert "costs <strong>5 tokens</strong>, split among the contributors" in page.get(f"/models/{slug}").text
    sent = page.post(f"/models/{slug}/submission", data=with_csrf(page), follow_redirects=False)
    assert sent.status_code == 303 and sent.headers["location"].endswith("/submissions")
    assert f"federated model {slug}" in page.get(sent.headers["location"]).text


def test_a_node_owner_sees_each_round_of_their_nodes_and_the_flagged_ones(
    client, browser, federated, nodes, solver, token_for, factory
):
    run_id = start_by_api(client, token_for, solver, federated)
    record_round(factory, run_id, nodes)
    mine = browser(federated.owner).get("/nodes/mine").text
    assert "clinic-0" in mine and "clinic-3" in mine and f'href="/runs/{run_id}"' in mine
    assert "Left out: negative contribution: -0.03" in mine and "Counted" in mine
    assert "You run no node" in browser(solver).get("/nodes/mine").text


def add_node(page, filename: str, body: bytes, form: dict[str, str]):
    files = {"file": (filename, body, "application/octet-stream")}
    return page.post("/nodes/mine", data=with_csrf(page, **form), files=files, follow_redirects=False)


def test_a_data_owner_adds_a_node_with_its_rows_from_the_page(browser, federated, factory):
    page = browser(federated.owner)
    shown = page.get("/nodes/mine").text
    assert "Add a node" in shown and f'<option value="{federated.dataset}"' in shown
    form = {
        "dataset": federated.dataset,
        "name": "clinic-east",
        "max_rounds": "20",
        "require_privacy": "true",
    }
    rows = federated.files[0].read_bytes()
    added = add_node(page, "east.parquet", rows, form)
    assert (added.status_code, added.headers["location"]) == (303, "/nodes/mine#nodes-heading")
    listed = page.get("/nodes/mine").text
    assert (
        "clinic-east" in listed
        and "at most 20 rounds" in listed
        and "differential privacy required" in listed
    )
    again = add_node(page, "copy.parquet", rows, form | {"name": "c2"})
    assert again.status_code == 409 and "already back another node" in html.unescape(again.text)
    with factory() as db:  # the refused form left no node behind
        assert db.scalar(select(func.count()).select_from(Node)) == 1
    empty = add_node(page, "none.csv", b"", form | {"name": "c3"})
    assert empty.status_code in {400, 422} and "clinic-east" in empty.text


# --- what is not there -------------------------------------------------------------------------------------


def test_unknown_runs_models_and_problems_are_404_pages(browser):
    page = browser()
    for path, title in [
        ("/runs/999", "No such training run"),
        ("/models/no-such-model", "No such model"),
        ("/problems/no-such-problem/federated", "No such problem"),
    ]:
        shown = page.get(path)
        assert shown.status_code == 404 and f"<h1>{title}</h1>" in shown.text, path
