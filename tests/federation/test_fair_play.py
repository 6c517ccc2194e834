"""Fair play in federated training (issue 15): rewards follow measured value, model cards tell the truth
about the data used, the hidden evaluation rows stay hidden, and privacy budgets mean something.

Runs go through the real training job, with Flower's engine stood in for by a script of rounds (what each
node's update was worth, and which were left out), so that no test waits for Ray."""

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import select, update

from aicommons.core.blobs import BlobStore
from aicommons.core.jobs import Worker
from aicommons.federation import learning, plans, privacy, service
from aicommons.federation.jobs import Engines, training_job
from aicommons.federation.models import Node, TrainingRun
from aicommons.federation.plans import Participant, RoundReport
from aicommons.federation.schemas import RunCreate
from aicommons.ledger import tokens
from aicommons.members.models import Member
from aicommons.problems.models import Problem
from aicommons.problems.scoring import Task
from tests.federation import conftest as setup
from tests.federation.conftest import FederatedProblem, register
from tests.problems import test_views as problem_pages

browser = problem_pages.browser  # the problems' page fixture: a logged-in browser per member
DOCS = Path(__file__).parents[2] / "docs"

Script = list[list[tuple[int, float, str | None]]]  # per round: (node index, value, why left out)


@dataclass(frozen=True)
class ScriptedEngines(Engines):
    """Flower's engine stood in for by a script: each round, the nodes' updates with their measured values
    (the model's weights are random ones, in the plan's standardised units, as training would leave them)."""

    rounds: tuple[tuple[Participant, ...], ...] = ()

    def train(self, evaluation: Any, settings: Any, nodes: Any, on_round: Any) -> Any:
        weights = trained_weights(evaluation.plan.architecture)
        for number, parts in enumerate(self.rounds, start=1):
            on_round(RoundReport(number, weights, parts, "exact_shapley", {"accuracy": 0.9}))
        return weights


def trained_weights(architecture: learning.Architecture) -> list[Any]:
    random = np.random.default_rng(1)
    return [random.normal(0.0, 0.5, shape) for shape in learning.weight_shapes(architecture)]


@dataclass(frozen=True)
class Clinics:
    """The federated problem's nodes as registered: their ids and row counts, in order."""

    ids: list[int]
    rows: list[int]


def clinics(client, federated: FederatedProblem, count: int, **policy: Any) -> Clinics:
    answers = [register(client, federated, number, **policy) for number in range(count)]
    assert all(answer.status_code in {200, 201} for answer in answers), [one.text for one in answers]
    return Clinics([one.json()["id"] for one in answers], [one.json()["rows"] for one in answers])


def run_script(client, factory, settings, federated, solver, nodes: Clinics, script: Script, **form) -> int:
    """Start a run on the nodes as the solver, and let the training job play the script."""
    body = {"rounds": len(script), "min_nodes": 1, "nodes": nodes.ids} | form
    started = client.post(f"/api/v1/problems/{federated.slug}/runs", json=body, headers=solver)
    assert started.status_code == 202, started.text
    rounds = tuple(
        tuple(
            Participant(nodes.ids[index], nodes.rows[index], f"{index:064x}", value, left_out)
            for index, value, left_out in parts
        )
        for parts in script
    )
    engines = ScriptedEngines(BlobStore(settings.blob_dir), rounds=rounds)
    worker = Worker(
        factory, {service.TRAIN_JOB: training_job(engines)}, heartbeat_seconds=5, timeout_seconds=60
    )
    while worker.run_once() is not None:
        pass
    run = client.get(f"/api/v1/runs/{started.json()['id']}").json()
    assert run["state"] == "succeeded", run
    return int(run["id"])


@pytest.fixture
def solver(make_member, token_for) -> dict[str, str]:
    """The headers of Liam, who starts the runs."""
    return token_for(make_member("liam"))


def owned_by_each(factory, make_member, nodes: Clinics) -> list[Member]:
    """Hand each node to an owner of its own (as if each clinic's organizer ran it)."""
    owners = [make_member(f"owner{number}") for number in range(len(nodes.ids))]
    with factory.begin() as db:
        for node_id, owner in zip(nodes.ids, owners, strict=True):
            db.execute(update(Node).where(Node.id == node_id).values(owner_member_id=owner.id))
    return owners


def model_of(client, federated: FederatedProblem) -> dict[str, Any]:
    return client.get(f"/api/v1/problems/{federated.slug}/models").json()[0]


# --- 2. rewards follow value exactly --------------------------------------------------------------------


def test_a_rounds_reward_gives_every_helpful_node_its_share_within_a_token(
    client, federated, solver, factory, settings
):
    nodes = clinics(client, federated, 4)
    equal = [[(0, 0.1, None), (1, 0.1, None), (2, 0.1, None), (3, 0.1, None)]]  # 2.5 tokens each
    run_id = run_script(client, factory, settings, federated, solver, nodes, equal)
    parts = client.get(f"/api/v1/runs/{run_id}").json()["completed_rounds"][0]["participants"]
    rewards = {part["node"]: part["reward"] for part in parts}
    assert sum(rewards.values()) == 10
    assert all(abs(reward - 2.5) < 1 for reward in rewards.values()), rewards  # not 4, 2, 2, 2
    assert rewards == {nodes.ids[0]: 3, nodes.ids[1]: 3, nodes.ids[2]: 2, nodes.ids[3]: 2}  # ties: lowest id


def test_the_model_cards_shares_and_the_tokens_agree_in_order(
    client, federated, solver, factory, settings, make_member
):
    """A big first round and two small ones: the tokens follow each round's values, and so does the card."""
    nodes = clinics(client, federated, 3)
    owners = owned_by_each(factory, make_member, nodes)
    small = [(0, 0.001, None), (1, 0.002, None), (2, 0.007, None)]
    script = [[(0, 0.5, None), (1, 0.3, None), (2, 0.2, None)], small, small]
    run_script(client, factory, settings, federated, solver, nodes, script)
    contributors = model_of(client, federated)["contributors"]
    with factory() as db:
        earned = {
            tokens.member_account(owner.id): tokens.balance(db, tokens.member_account(owner.id))
            for owner in owners
        }
    assert sum(earned.values()) == 30
    shares = {part["account"]: part["share"] for part in contributors}
    for one, share in shares.items():
        assert all(earned[one] >= earned[other] for other, less in shares.items() if share > less + 1e-9)
        assert abs(earned[one] - 30 * share) < len(script)  # within a token per round
    assert contributors[0]["account"] == tokens.member_account(owners[2].id)


def test_a_prediction_fee_is_split_by_share_within_a_token(
    client, federated, solver, factory, settings, make_member, token_for
):
    nodes = clinics(client, federated, 3)
    owners = owned_by_each(factory, make_member, nodes)
    run_script(
        client,
        factory,
        settings,
        federated,
        solver,
        nodes,
        [[(0, 0.1, None), (1, 0.1, None), (2, 0.1, None)]],
    )
    slug = model_of(client, federated)["slug"]
    priced = client.put(f"/api/v1/models/{slug}/price", json={"price": 2}, headers=solver)
    assert priced.status_code == 200, priced.text
    ana = make_member("ana")
    with factory.begin() as db:
        tokens.mint(db, key="test/ana", target=tokens.member_account(ana.id), amount=10, reason="test")
    row = {"rows": [dict.fromkeys(model_of(client, federated)["architecture"]["features"], 1.0)]}
    fees = client.post(f"/api/v1/models/{slug}/predictions", json=row, headers=token_for(ana)).json()["fees"]
    assert sum(fees.values()) == 2 and all(abs(fee - 2 / 3) < 1 for fee in fees.values()), fees  # not 2, 0, 0
    assert set(fees) <= {tokens.member_account(owner.id) for owner in owners}


# --- 5. cards tell the truth -----------------------------------------------------------------------------


def test_the_card_counts_only_the_rows_whose_updates_were_aggregated(
    client, federated, solver, factory, settings
):
    nodes = clinics(client, federated, 4)
    harmful = "negative contribution: -0.05"
    script = [
        [(0, 0.04, None), (1, 0.02, None), (2, -0.05, harmful)],  # node 3 never answers
        [(0, 0.03, None), (1, -0.04, harmful), (2, -0.05, harmful)],
    ]
    run_script(client, factory, settings, federated, solver, nodes, script)
    card = model_of(client, federated)["card"]
    assert [part["node"] for part in card["data"]] == ["clinic-0", "clinic-1"]  # not the left-out or silent
    used = {part["node"]: (part["rows"], part["rounds"]) for part in card["data"]}
    assert used == {"clinic-0": (nodes.rows[0], [1, 2]), "clinic-1": (nodes.rows[1], [1])}
    aggregated = [(row["round"], row["rows_aggregated"]) for row in card["rounds"]]
    assert aggregated == [(1, nodes.rows[0] + nodes.rows[1]), (2, nodes.rows[0])]


# --- 6. hidden rows stay hidden --------------------------------------------------------------------------


def evaluation_figures() -> list[str]:
    """How the evaluation rows' per-feature means and spreads would read in a JSON answer or a page."""
    held_out, _ = setup.evaluation_and_kept_rows()
    frame = held_out.drop(columns=["case", "diagnosis"])
    numbers = [*frame.mean(), *frame.std(ddof=0), *frame.std(ddof=1)]
    texts = {text for value in numbers for text in (repr(float(value)), repr(round(float(value), 3)))}
    return sorted(text for text in texts if len(text.strip("0.-")) >= 3)  # "0.1" could be anything


def shows(text: str, figure: str) -> bool:
    """Whether the text holds the number (not as a part of a longer one, such as a time's seconds)."""
    return re.search(rf"(?<![\d.]){re.escape(figure)}(?!\d)", text) is not None


def test_no_model_run_or_problem_route_serves_the_evaluation_rows_means_or_spreads(
    client, browser, federated, solver, factory, settings, make_member, token_for
):
    nodes = clinics(client, federated, 2)
    run_id = run_script(
        client, factory, settings, federated, solver, nodes, [[(0, 0.1, None), (1, 0.05, None)]]
    )
    slug, problem = model_of(client, federated)["slug"], federated.slug
    api = [
        f"/api/v1/models/{slug}",
        f"/api/v1/problems/{problem}/models",
        f"/api/v1/runs/{run_id}",
        f"/api/v1/problems/{problem}/runs",
        f"/api/v1/problems/{problem}",
        f"/api/v1/problems/{problem}/nodes",
        f"/api/v1/problems/{problem}/leaderboard",
        "/api/v1/problems",
    ]
    pages = [f"/models/{slug}", f"/runs/{run_id}", f"/problems/{problem}/federated", f"/problems/{problem}"]
    other = make_member("ana")
    viewers = {"anonymous": (None, {}), "another member": (other, token_for(other))}
    viewers["the problem's owner"] = (federated.owner, federated.owner_headers)
    figures = evaluation_figures()
    for who, (member, headers) in viewers.items():
        page = browser(member)
        answers = [(path, client.get(path, headers=headers)) for path in api]
        answers += [(path, page.get(path)) for path in pages]
        for path, answer in answers:
            assert answer.status_code == 200, (who, path, answer.text[:200])
            leaked = [figure for figure in figures if shows(answer.text, figure)]
            assert leaked == [], f"{path} shows {who} the evaluation rows' figures {leaked[:3]}"


def test_the_served_weights_take_raw_values_and_predict_as_the_commons_does(
    client, federated, solver, factory, settings
):
    nodes = clinics(client, federated, 2)
    run_script(client, factory, settings, federated, solver, nodes, [[(0, 0.1, None), (1, 0.05, None)]])
    model = model_of(client, federated)
    assert "means" not in model["architecture"] and "scales" not in model["architecture"]
    features = model["architecture"]["features"]
    held_out, _ = setup.evaluation_and_kept_rows()
    rows = held_out[features].head(5)
    served = client.post(
        f"/api/v1/models/{model['slug']}/predictions", json={"rows": rows.to_dict("records")}
    )
    path = settings.data_dir / "model.npz"
    path.write_bytes(client.get(f"/api/v1/models/{model['slug']}/weights").content)
    with np.load(path) as saved:
        weights = [saved[f"arr_{index}"] for index in range(len(saved.files))]
    architecture = learning.Architecture(learning.Family.LOGISTIC, features=len(features), outputs=2)
    mine = learning.predict(architecture, weights, rows.to_numpy(dtype=np.float64))  # no scaling needed
    with factory() as db:
        run = db.get(TrainingRun, model["run_id"])
        plan = service.evaluation(BlobStore(settings.blob_dir), db.get(Problem, run.problem_id), run).plan
    trained = learning.predict(architecture, trained_weights(architecture), plan.inputs(rows))
    probabilities = [one["probabilities"]["benign"] for one in served.json()["predictions"]]
    assert np.allclose(mine[:, 0], probabilities) and np.allclose(trained[:, 0], probabilities)
    assert not np.allclose(trained[:, 0], 0.5)  # a model that tells the rows apart


@pytest.fixture
def published(client, make_member, token_for) -> tuple[str, pd.DataFrame]:
    """A federated problem whose data owner published the kept rows' statistics (as the demo's nodes do)."""
    headers = token_for(make_member("ines"))
    held_out, kept = setup.evaluation_and_kept_rows()
    dataset = client.post("/api/v1/datasets", json=setup.dataset_form(), headers=headers).json()["slug"]
    numeric = kept.drop(columns=["case", "diagnosis"])
    columns = [
        {
            "name": name,
            "type": "float",
            "count": len(kept),
            "mean": numeric[name].mean(),
            "std": numeric[name].std(),
        }
        for name in numeric.columns
    ]
    schema = setup.published_schema(kept) | {"statistics": {"columns": columns}}
    version = client.post(f"/api/v1/datasets/{dataset}/versions/federated", json=schema, headers=headers)
    assert version.status_code == 201, version.text
    problem = client.post("/api/v1/problems", json=setup.problem_form(dataset), headers=headers).json()[
        "slug"
    ]
    rows = held_out.to_csv(index=False)
    sent = client.post(
        f"/api/v1/problems/{problem}/evaluation", content=rows, headers=headers | {"Content-Type": "text/csv"}
    )
    assert sent.status_code == 200, sent.text
    assert client.post(f"/api/v1/problems/{problem}/publish", headers=headers).status_code == 200
    return problem, kept


def test_the_plan_sent_to_the_nodes_scales_by_the_owners_published_statistics(published, factory, settings):
    slug, kept = published
    with factory() as db:
        problem = db.scalar(select(Problem).where(Problem.slug == slug))
        assert problem is not None
        run = TrainingRun(problem_id=problem.id, **RunCreate().model_dump(exclude={"nodes"}))
        plan = service.evaluation(BlobStore(settings.blob_dir), problem, run).plan
    numeric = kept[list(plan.features)]
    assert np.allclose(plan.means, numeric.mean()) and np.allclose(
        plan.scales, numeric.std(ddof=0), rtol=0.01
    )
    sent = repr(plan.config())
    assert [figure for figure in evaluation_figures() if shows(sent, figure)] == []


# --- 11. privacy budgets mean something ------------------------------------------------------------------

PRIVATE = {"clip_norm": 1.0, "noise_multiplier": 1.0}


def test_each_round_records_every_nodes_epsilon_and_the_node_that_spent_the_most(
    client, browser, federated, solver, factory, settings
):
    nodes = clinics(client, federated, 3)
    round_ = [(0, 0.1, None), (1, 0.05, None), (2, 0.02, None)]
    run_id = run_script(client, factory, settings, federated, solver, nodes, [round_, round_], **PRIVATE)
    run = client.get(f"/api/v1/runs/{run_id}").json()
    for number, completed in enumerate(run["completed_rounds"], start=1):
        spent = {part["node"]: part.get("epsilon") for part in completed["participants"]}
        expected = {
            node_id: spent_by(rows, rounds=number)
            for node_id, rows in zip(nodes.ids, nodes.rows, strict=True)
        }
        assert spent == pytest.approx(expected, rel=1e-5)
        most = max(expected, key=lambda node_id: (expected[node_id], -node_id))  # the fewest rows
        assert completed["epsilon"] == pytest.approx(expected[most], rel=1e-5)
        assert completed["epsilon_node"] == most
    assert run["delta"] == 1e-5
    shown = browser().get(f"/runs/{run_id}").text
    smallest = f"clinic-{nodes.ids.index(most)}"
    assert f"the most of any node, by {smallest} (δ = 1e-05)" in shown and "ε spent so far" in shown
    assert "ε ≤ 10 a common ceiling" in shown


def spent_by(rows: int, *, rounds: int, epochs: int = 1) -> float:
    batch = min(32, rows)
    steps = rounds * epochs * math.ceil(rows / batch)
    return privacy.epsilon(noise_multiplier=1.0, sample_rate=batch / rows, steps=steps, delta=1e-5)


def test_a_run_that_would_exceed_a_chosen_nodes_privacy_budget_is_refused_before_it_starts(
    client, federated, solver, factory
):
    nodes = clinics(client, federated, 2)
    tight = register(client, federated, 2, max_epsilon=1.0).json()
    chosen = {"rounds": 2, "min_nodes": 1, "nodes": [*nodes.ids, tight["id"]]} | PRIVATE
    refused = client.post(f"/api/v1/problems/{federated.slug}/runs", json=chosen, headers=solver)
    body = refused.json()
    assert (refused.status_code, body.get("code")) == (409, "privacy_budget_exceeded")
    spent = spent_by(tight["rows"], rounds=2)
    assert (
        f"ε = {spent:.3g}" in body["detail"]
        and "clinic-2" in body["detail"]
        and "budget ε = 1" in body["detail"]
    )
    facts = body["budgets"]["clinic-2"]
    assert facts["epsilon"] == pytest.approx(spent, abs=1e-3) and facts["max_epsilon"] == 1.0
    needed = facts["noise_multiplier_needed"]
    assert spent_by_noise(tight["rows"], needed) <= 1.0 < spent_by_noise(tight["rows"], needed - 0.01)
    assert client.get(f"/api/v1/problems/{federated.slug}/runs").json() == []  # nothing queued
    with factory() as db:
        assert db.scalars(select(TrainingRun)).all() == []


def spent_by_noise(rows: int, noise: float) -> float:
    batch = min(32, rows)
    steps = 2 * math.ceil(rows / batch)
    return privacy.epsilon(noise_multiplier=noise, sample_rate=batch / rows, steps=steps, delta=1e-5)


def test_nodes_not_chosen_whose_budget_the_run_would_exceed_are_left_out_with_why(
    client, browser, federated, solver
):
    nodes = clinics(client, federated, 2)
    tight = register(client, federated, 2, max_epsilon=1.0).json()
    started = client.post(
        f"/api/v1/problems/{federated.slug}/runs",
        json={"rounds": 2, "min_nodes": 2} | PRIVATE,
        headers=solver,
    )
    assert started.status_code == 202, started.text
    run = client.get(f"/api/v1/runs/{started.json()['id']}").json()
    assert run["node_ids"] == nodes.ids
    reason = run.get("declined", {}).get("clinic-2", "")
    assert f"ε = {spent_by(tight['rows'], rounds=2):.3g}" in reason and "budget ε = 1" in reason
    shown = browser().get(f"/runs/{run['id']}").text
    assert "Declined: <strong>clinic-2</strong>" in shown


def test_the_docs_noise_multipliers_for_the_demos_nodes_are_what_the_code_computes():
    """docs/federation.md's table: the noise multiplier that keeps each demo node within ε ≤ 10 and ε ≤ 1
    under the demo's run (5 rounds of 5 local epochs, batches of 32, δ = 1e-5)."""
    text = (DOCS / "federation.md").read_text()
    rows = re.findall(r"^\| (\S+) \| (\d+) \| ([\d.]+) \| ([\d.]+) \|$", text, flags=re.MULTILINE)
    assert len(rows) == 3, rows
    for _, count, ten, one in rows:
        assert plans.noise_for(demo_plan(), int(count), 10.0) == float(ten)
        assert plans.noise_for(demo_plan(), int(count), 1.0) == float(one)


def demo_plan() -> plans.Plan:
    """The plan of the demo's run, made private."""
    from aicommons.demo import DEMO_RUN

    form = RunCreate(**DEMO_RUN, clip_norm=1.0, noise_multiplier=1.0)
    training = learning.Training(
        epochs=form.local_epochs, learning_rate=form.learning_rate, clip_norm=1.0, noise_multiplier=1.0
    )
    architecture = learning.Architecture(learning.Family(form.family), features=1, outputs=1)
    return plans.Plan(
        architecture, Task.REGRESSION, ("age",), "progression", (), (0.0,), (1.0,), training, 1, form.rounds
    )
