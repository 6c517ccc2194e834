"""What is valued is what was aggregated: a coalition of updates is worth the model the run's own strategy
makes of it, so the values of a round add up to what the round's real model gained."""

import numpy as np
import pytest

from aicommons.federation import learning
from aicommons.federation.plans import (
    Evaluation,
    Plan,
    StrategyName,
    aggregation,
    average,
    judge,
    krum,
    median,
    trimmed_mean,
    value_round,
)
from aicommons.problems.scoring import Metric, Task

ARCHITECTURE = learning.Architecture(family=learning.Family.LINEAR, features=2, outputs=1)
TRUE_WEIGHTS = np.array([[1.5], [-2.0]])


def evaluation() -> Evaluation:
    rng = np.random.default_rng(1)
    inputs = rng.normal(size=(200, 2))
    plan = Plan(
        architecture=ARCHITECTURE,
        task=Task.REGRESSION,
        features=("a", "b"),
        target="y",
        classes=(),
        means=(0.0, 0.0),
        scales=(1.0, 1.0),
        training=learning.Training(),
        problem_id=1,
        rounds=1,
    )
    return Evaluation(plan=plan, metric=Metric.RMSE, inputs=inputs, truth=(inputs @ TRUE_WEIGHTS)[:, 0])


def towards_truth(*steps: float) -> list[list[np.ndarray]]:
    """Updates that move the zero model `step` of the way to the true weights."""
    return [[TRUE_WEIGHTS * step, np.zeros(1)] for step in steps]


START = [np.zeros((2, 1)), np.zeros(1)]
ROWS = [100, 120, 90, 300, 60]


@pytest.mark.parametrize("strategy", list(StrategyName))
def test_a_rounds_values_add_up_to_what_the_strategys_own_model_gained(strategy):
    rule = aggregation(strategy)
    updates = towards_truth(0.9, 1.0, 1.1, 0.2, 2.5)
    found = value_round(evaluation(), START, updates, ROWS, aggregate=rule, seed=0)
    gained = evaluation().utility(rule(updates, ROWS)) - evaluation().utility(START)
    assert sum(found.values) == pytest.approx(gained, abs=1e-9)


def test_each_strategy_has_its_own_rule():
    assert aggregation(StrategyName.FEDAVG) is average
    assert aggregation(StrategyName.FEDPROX) is average  # FedProx changes the training, not the aggregate
    assert aggregation(StrategyName.FEDMEDIAN) is median
    assert aggregation(StrategyName.TRIMMED_MEAN) is trimmed_mean
    assert aggregation(StrategyName.KRUM) is krum


def test_krum_values_the_update_it_chose_above_the_ones_it_did_not():
    # four updates close together around the truth, and one far off that Krum never chooses
    updates = towards_truth(0.95, 1.0, 1.05, 0.9, 3.0)
    chosen = krum(updates, ROWS)
    assert np.array_equal(chosen[0], updates[1][0])
    values = value_round(evaluation(), START, updates, ROWS, aggregate=krum, seed=0).values
    assert max(values) == values[1] > 0
    assert values[4] < values[1] / 2


def test_krum_chooses_by_distance_and_breaks_ties_by_order():
    a, b = towards_truth(1.0, 2.0)
    assert np.array_equal(krum([a, b], [1, 1])[0], a[0])  # two equally close updates: the first
    assert np.array_equal(krum([b, a], [1, 1])[0], b[0])


def test_median_and_trimmed_mean_leave_out_the_extremes():
    updates = towards_truth(1.0, 1.1, 0.9, 1.05, 50.0)
    assert np.allclose(median(updates, ROWS)[0], TRUE_WEIGHTS * 1.05)
    assert np.allclose(trimmed_mean(updates, ROWS)[0], TRUE_WEIGHTS * (1.0 + 1.1 + 1.05) / 3)


def test_judging_a_round_under_krum_values_it_with_krum_not_with_the_average():
    updates = towards_truth(0.95, 1.0, 1.05, 0.9, 3.0)
    with_krum = judge(evaluation(), START, updates, ROWS, aggregate=krum, seed=0)
    with_average = judge(evaluation(), START, updates, ROWS, aggregate=average, seed=0)
    assert with_krum.values != with_average.values
    assert max(with_krum.values, key=with_krum.values.__getitem__) == 1
