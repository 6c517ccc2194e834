"""Valuing nodes' updates in a federated round: known games, and a real round of logistic regressions."""

import math
from collections.abc import Callable

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from aicommons.federation.contribution import (
    Method,
    Utility,
    Valuation,
    exact_shapley,
    leave_one_out,
    monte_carlo_shapley,
    value,
)
from aicommons.problems.scoring import spearman


def additive(weights: list[float]) -> Utility:
    return lambda coalition: sum(weights[node] for node in coalition)


def saturating(weights: list[float]) -> Utility:
    """Diminishing returns: the model gains less from each update as it gets better."""
    return lambda coalition: 1 - math.exp(-sum(weights[node] for node in coalition))


def federated_round(label_noise: list[float], *, seed: int = 0) -> Utility:
    """One node per entry of `label_noise`, each fitting a logistic regression on its own share of the
    breast cancer data with that fraction of labels flipped; a coalition's model averages its nodes'
    weights by sample count, and its utility is the negative log loss on held-out data."""
    features, labels = load_breast_cancer(return_X_y=True)
    train_x, test_x, train_y, test_y = train_test_split(
        features, labels, test_size=0.3, random_state=seed, stratify=labels
    )
    scaler = StandardScaler().fit(train_x)
    train_x, test_x = scaler.transform(train_x), scaler.transform(test_x)
    rng = np.random.default_rng(seed)
    shares = np.array_split(rng.permutation(len(train_y)), len(label_noise))
    models = [
        _fit(train_x[rows], _flip(train_y[rows], noise, rng))
        for rows, noise in zip(shares, label_noise, strict=True)
    ]
    sizes = np.array([len(rows) for rows in shares], dtype=float)
    return _aggregate_utility(np.stack(models), sizes, test_x, test_y)


def _flip(labels: np.ndarray, noise: float, rng: np.random.Generator) -> np.ndarray:
    flipped = rng.random(len(labels)) < noise
    return np.where(flipped, 1 - labels, labels)


def _fit(features: np.ndarray, labels: np.ndarray) -> np.ndarray:
    model = LogisticRegression(C=0.1, max_iter=1000).fit(features, labels)
    return np.append(model.coef_[0], model.intercept_[0])


def _aggregate_utility(
    models: np.ndarray, sizes: np.ndarray, test_x: np.ndarray, test_y: np.ndarray
) -> Utility:
    start = np.zeros(models.shape[1])  # the round's starting global model

    def utility(coalition: frozenset[int]) -> float:
        nodes = sorted(coalition)
        weights = sizes[nodes] @ models[nodes] / sizes[nodes].sum() if nodes else start
        probability = 1 / (1 + np.exp(-(test_x @ weights[:-1] + weights[-1])))
        probability = np.clip(probability, 1e-12, 1 - 1e-12)
        return float(np.mean(test_y * np.log(probability) + (1 - test_y) * np.log(1 - probability)))

    return utility


def counted(utility: Utility) -> tuple[Utility, list[frozenset[int]]]:
    """The utility, and the list of coalitions it was asked about, in order."""
    asked: list[frozenset[int]] = []

    def asking(coalition: frozenset[int]) -> float:
        asked.append(coalition)
        return utility(coalition)

    return asking, asked


# Exact Shapley on games with known answers


def test_in_an_additive_game_each_node_is_worth_its_own_weight() -> None:
    weights = [0.5, -0.2, 1.25, 0.0, 3.0]
    valuation = exact_shapley(5, additive(weights))
    assert valuation.values == pytest.approx(weights)
    assert valuation.method is Method.EXACT_SHAPLEY
    assert valuation.evaluations == 2**5


def test_the_glove_game_gives_the_scarce_left_glove_two_thirds() -> None:
    def gloves(coalition: frozenset[int]) -> float:
        return float(min(len(coalition & {0}), len(coalition & {1, 2})))

    assert exact_shapley(3, gloves).values == pytest.approx((2 / 3, 1 / 6, 1 / 6))


def test_symmetric_nodes_are_worth_the_same_and_a_null_node_nothing() -> None:
    def both_needed(coalition: frozenset[int]) -> float:
        return 10.0 if {0, 1} <= coalition else 1.0

    assert exact_shapley(3, both_needed).values == pytest.approx((4.5, 4.5, 0.0))


def test_exact_values_sum_to_what_the_round_gained() -> None:
    utility = federated_round([0.0, 0.05, 0.1, 0.3, 0.45, 0.9])
    valuation = exact_shapley(6, utility)
    gained = utility(frozenset(range(6))) - utility(frozenset())
    assert sum(valuation.values) == pytest.approx(gained, abs=1e-12)


def test_each_coalition_is_evaluated_once() -> None:
    utility, asked = counted(saturating([0.3, 0.1, 0.7, 0.2]))
    valuation = exact_shapley(4, utility)
    assert len(asked) == len(set(asked)) == valuation.evaluations == 16


def test_exact_shapley_refuses_more_nodes_than_it_can_enumerate() -> None:
    utility, asked = counted(additive([1.0] * 21))
    with pytest.raises(ValueError, match="monte_carlo_shapley"):
        exact_shapley(21, utility)
    assert asked == []


# A real round: logistic regressions on the breast cancer data


def test_a_node_with_flipped_labels_is_worth_less_than_the_honest_ones() -> None:
    valuation = exact_shapley(4, federated_round([0.0, 0.0, 0.0, 1.0]))
    *honest, poisoned = valuation.values
    assert poisoned < 0 < min(honest)
    assert valuation.shares[3] == 0.0


def test_monte_carlo_ranks_eight_nodes_as_exact_shapley_does() -> None:
    utility = federated_round([0.0, 0.05, 0.1, 0.2, 0.3, 0.4, 0.7, 1.0])
    exact = exact_shapley(8, utility)
    estimate = monte_carlo_shapley(8, utility, seed=1)
    assert spearman(estimate.values, exact.values) >= 0.9
    assert estimate.evaluations <= exact.evaluations


def test_monte_carlo_values_sum_to_the_gain_within_the_tolerance() -> None:
    utility = federated_round([0.0, 0.1, 0.2, 0.4, 0.8])
    estimate = monte_carlo_shapley(5, utility, seed=3, tolerance=1e-3)
    gained = utility(frozenset(range(5))) - utility(frozenset())
    assert abs(sum(estimate.values) - gained) < 1e-3


def test_monte_carlo_is_deterministic_given_the_seed() -> None:
    utility = saturating([0.4, 0.1, 0.9, 0.3, 0.2, 0.6])
    first = monte_carlo_shapley(6, utility, seed=42)
    assert monte_carlo_shapley(6, utility, seed=42) == first


# Monte Carlo truncations and caps


def test_a_round_that_changed_nothing_is_worth_zero_after_two_evaluations() -> None:
    utility, asked = counted(lambda coalition: 0.8)
    valuation = monte_carlo_shapley(12, utility, seed=0)
    assert valuation.values == (0.0,) * 12
    assert valuation.evaluations == 2
    assert set(asked) == {frozenset(), frozenset(range(12))}


def test_a_permutation_stops_once_the_running_utility_reaches_the_full_round() -> None:
    def only_node_zero(coalition: frozenset[int]) -> float:
        return 1.0 if 0 in coalition else 0.0

    utility, asked = counted(only_node_zero)
    monte_carlo_shapley(10, utility, seed=5, max_permutations=1)
    assert asked == [frozenset(), frozenset(range(10)), frozenset({0})]  # node 0 leads, the rest add 0
    valuation = monte_carlo_shapley(10, only_node_zero, seed=5)
    assert valuation.values == (1.0,) + (0.0,) * 9
    assert valuation.evaluations < 2**10 // 4


def test_sampling_stops_once_the_values_settle() -> None:
    utility = saturating([0.05 * (node + 1) for node in range(10)])
    settled = monte_carlo_shapley(10, utility, seed=0, convergence=0.05)
    to_the_cap = monte_carlo_shapley(10, utility, seed=0, convergence=1e-9)
    assert settled.evaluations < to_the_cap.evaluations / 2


def test_max_permutations_caps_the_sampling() -> None:
    utility, asked = counted(additive([1.0, 2.0, 3.0, 4.0, 5.0, 6.0]))
    monte_carlo_shapley(6, utility, seed=0, max_permutations=1)
    assert len(asked) == 1 + 6  # the empty coalition, then one permutation's six prefixes (the last is all)


def test_monte_carlo_estimates_close_to_exact_values_on_a_saturating_game() -> None:
    utility = saturating([0.05, 0.1, 0.2, 0.3, 0.5, 0.8])
    exact = exact_shapley(6, utility)
    estimate = monte_carlo_shapley(6, utility, seed=7, max_permutations=2_000, convergence=0.01)
    assert estimate.values == pytest.approx(exact.values, abs=0.02)


# Leave-one-out, the dispatcher, shares and validation


def test_leave_one_out_is_what_the_round_loses_without_each_node() -> None:
    valuation = leave_one_out(4, additive([1.0, -2.0, 0.5, 0.0]))
    assert valuation.values == pytest.approx((1.0, -2.0, 0.5, 0.0))
    assert valuation.method is Method.LEAVE_ONE_OUT
    assert valuation.evaluations == 5


def test_leave_one_out_misses_two_nodes_with_the_same_data_where_shapley_splits_it() -> None:
    def either_copy(coalition: frozenset[int]) -> float:
        return 1.0 if coalition & {0, 1} else 0.0

    assert leave_one_out(3, either_copy).values == (0.0, 0.0, 0.0)
    assert exact_shapley(3, either_copy).values == pytest.approx((0.5, 0.5, 0.0))


@pytest.mark.parametrize(
    ("nodes", "method", "evaluations"),
    [(1, Method.EXACT_SHAPLEY, 2), (10, Method.EXACT_SHAPLEY, 1024), (11, Method.MONTE_CARLO_SHAPLEY, None)],
)
def test_value_is_exact_up_to_ten_nodes_and_estimated_beyond(
    nodes: int, method: Method, evaluations: int | None
) -> None:
    weights = [0.1 * (node + 1) for node in range(nodes)]
    valuation = value(nodes, additive(weights))
    assert valuation.method is method
    assert valuation.evaluations == (evaluations or valuation.evaluations)
    assert valuation.values == pytest.approx(weights)  # an additive game: every permutation agrees


def test_value_follows_the_exact_limit_it_is_given() -> None:
    assert value(4, additive([1.0] * 4), exact_limit=3).method is Method.MONTE_CARLO_SHAPLEY


@pytest.mark.parametrize(
    ("values", "shares"),
    [
        ((0.3, -0.1, 0.1), (0.75, 0.0, 0.25)),
        ((0.0, 0.0), (0.0, 0.0)),
        ((-0.2, -0.5), (0.0, 0.0)),
        ((2.0,), (1.0,)),
    ],
)
def test_shares_split_the_positive_contributions(
    values: tuple[float, ...], shares: tuple[float, ...]
) -> None:
    assert Valuation(values, Method.EXACT_SHAPLEY, 0).shares == pytest.approx(shares)


@pytest.mark.parametrize(
    "valuate",
    [
        exact_shapley,
        leave_one_out,
        value,
        lambda n, utility: monte_carlo_shapley(n, utility, seed=0),
    ],
)
@pytest.mark.parametrize("nodes", [0, -3])
def test_a_round_without_nodes_is_refused(valuate: Callable[[int, Utility], Valuation], nodes: int) -> None:
    with pytest.raises(ValueError, match="at least one node"):
        valuate(nodes, additive([]))
