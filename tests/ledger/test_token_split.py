"""Whole tokens split by weight (`tokens.split`, Hamilton's largest remainders): the one rule behind a
federated round's reward, a model's prediction fees and a bounty's shares. Properties over random weights."""

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aicommons.ledger import tokens

AMOUNTS = st.integers(min_value=0, max_value=10_000)
VALUES = st.one_of(
    st.just(0.0),
    st.floats(min_value=1e-9, max_value=1e6, allow_nan=False, allow_infinity=False),
)
WEIGHTS = st.dictionaries(st.integers(min_value=1, max_value=10_000), VALUES, min_size=1, max_size=40).filter(
    lambda weights: sum(weights.values()) > 0
)


def exact(amount: int, weights: dict[int, float]) -> dict[int, Fraction]:
    total = sum(Fraction(weight) for weight in weights.values())
    return {key: amount * Fraction(weight) / total for key, weight in weights.items()}


@given(AMOUNTS, WEIGHTS)
def test_the_split_sums_to_the_amount(amount, weights):
    assert sum(tokens.split(amount, weights).values()) == amount


@given(AMOUNTS, WEIGHTS)
def test_every_holder_is_less_than_one_token_from_its_exact_share(amount, weights):
    shares = exact(amount, weights)
    for key, got in tokens.split(amount, weights).items():
        assert abs(got - shares[key]) < 1


@given(AMOUNTS, WEIGHTS)
def test_a_zero_weight_gets_nothing(amount, weights):
    split = tokens.split(amount, weights)
    assert all(split[key] == 0 for key, weight in weights.items() if weight == 0)


@given(AMOUNTS, WEIGHTS)
def test_a_larger_weight_never_gets_fewer_tokens(amount, weights):
    split = tokens.split(amount, weights)
    for one, weight in weights.items():
        for other, other_weight in weights.items():
            if weight > other_weight:
                assert split[one] >= split[other]


@given(AMOUNTS, WEIGHTS)
def test_the_same_weights_give_the_same_split_whatever_their_order(amount, weights):
    reversed_order = dict(reversed(list(weights.items())))
    assert tokens.split(amount, weights) == tokens.split(amount, reversed_order)


@given(AMOUNTS, WEIGHTS)
def test_a_positive_weight_gets_at_least_the_whole_part_of_its_share(amount, weights):
    shares = exact(amount, weights)
    for key, got in tokens.split(amount, weights).items():
        assert got >= int(shares[key])


def test_equal_remainders_go_to_the_lowest_key_and_accounts_split_too():
    assert tokens.split(10, {3: 1.0, 1: 1.0, 2: 1.0}) == {3: 3, 1: 4, 2: 3}
    assert tokens.split(1, {"member:9": 1.0, "member:10": 1.0}) == {"member:9": 0, "member:10": 1}
    assert tokens.split(7, {}) == {}


def test_the_issues_round_gives_each_node_its_share_not_the_top_one_the_rest():
    """Issue 15: with the remainder to the top node, 34.1% of the value got 28% of the tokens."""
    split = tokens.split(100, {1: 0.341, 2: 0.310, 3: 0.200, 4: 0.149})
    assert split == {1: 34, 2: 31, 3: 20, 4: 15}
    thirty = tokens.split(10, dict.fromkeys(range(1, 31), 1.0))
    assert sorted(thirty.values()) == [0] * 20 + [1] * 10  # fewer tokens than nodes: some get none


@pytest.mark.parametrize("weights", [{1: -1.0}, {1: float("nan")}, {1: 0.0, 2: 0.0}])
def test_negative_missing_or_only_zero_weights_are_refused(weights):
    with pytest.raises(ValueError):
        tokens.split(10, weights)
