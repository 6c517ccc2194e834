"""The server's screening of updates, a node's policy, and the privacy accountant."""

import math

import numpy as np
import pytest

from aicommons.federation import learning, privacy
from aicommons.federation.plans import NodePolicy, Plan, screen, spent_epsilon
from aicommons.problems.scoring import Task

ARCHITECTURE = learning.Architecture(family=learning.Family.LOGISTIC, features=3, outputs=2)


def updates(count: int, seed: int = 0) -> list[list[np.ndarray]]:
    start = learning.initial_weights(ARCHITECTURE, seed=0)
    rng = np.random.default_rng(seed)
    return [[array + rng.normal(0, 0.1, array.shape) for array in start] for _ in range(count)]


def test_screening_leaves_out_nan_malformed_and_exploding_updates_only():
    start = learning.initial_weights(ARCHITECTURE, seed=0)
    sound, nan, malformed, exploding = updates(4)
    nan[0][0, 0] = np.nan
    malformed = [malformed[0]]  # the bias is missing
    exploding = [array * 1e4 for array in exploding]
    reasons = screen(ARCHITECTURE, start, [sound, *updates(2, seed=1), nan, malformed, exploding])
    assert reasons[:3] == [None, None, None]
    assert "not finite" in reasons[3] and reasons[4].startswith("malformed")
    assert reasons[5].startswith("exploding")


def test_one_exploding_update_of_two_cannot_hide_behind_the_median():
    start = learning.initial_weights(ARCHITECTURE, seed=0)
    honest, wild = updates(2)
    reasons = screen(ARCHITECTURE, start, [honest, [array * 1e4 for array in wild]])
    assert reasons[0] is None and reasons[1].startswith("exploding")


def plan(**training: float) -> Plan:
    return Plan(
        architecture=ARCHITECTURE,
        task=Task.BINARY,
        features=("a", "b", "c"),
        target="y",
        classes=("no", "yes"),
        means=(0.0, 0.0, 0.0),
        scales=(1.0, 1.0, 1.0),
        training=learning.Training(epochs=1, **training),
        problem_id=7,
        rounds=10,
    )


def test_a_plan_travels_to_the_node_unchanged():
    sent = plan(clip_norm=1.0, noise_multiplier=1.2)
    assert Plan.from_config(sent.config()) == sent


def test_a_node_refuses_other_problems_and_runs_that_spend_more_privacy_than_allowed():
    private = plan(clip_norm=1.0, noise_multiplier=1.0)
    assert NodePolicy(accepted_problems=(8,)).refusal(private, 1000) == (
        "problem 7 is not among the problems this node accepts"
    )
    spent = spent_epsilon(private, 1000, private.rounds)
    assert NodePolicy(max_epsilon=spent + 0.01).refusal(private, 1000) is None
    assert "more privacy" in (NodePolicy(max_epsilon=spent - 0.01).refusal(private, 1000) or "")
    assert (
        NodePolicy(max_epsilon=100).refusal(plan(), 1000) == "the run would spend more privacy than ε = 100"
    )


def test_privacy_grows_with_steps_and_shrinks_with_noise():
    def spent(sigma: float, steps: int) -> float:
        return privacy.epsilon(noise_multiplier=sigma, sample_rate=0.01, steps=steps, delta=1e-5)

    assert spent(1.0, 100) < spent(1.0, 1000) < spent(1.0, 10_000)
    assert spent(2.0, 1000) < spent(1.0, 1000)
    # Abadi et al.'s MNIST setting (q = 256/60000, sigma = 1.1, 60 epochs): about 3 (TF Privacy: 3.01)
    mnist = privacy.epsilon(noise_multiplier=1.1, sample_rate=256 / 60000, steps=14_062, delta=1e-5)
    assert 2.8 < mnist < 3.2
    assert math.isinf(privacy.epsilon(noise_multiplier=0, sample_rate=0.1, steps=1, delta=1e-5))
    assert privacy.epsilon(noise_multiplier=1, sample_rate=0.1, steps=0, delta=1e-5) == 0
    with pytest.raises(ValueError, match="delta"):
        privacy.epsilon(noise_multiplier=1, sample_rate=0.1, steps=1, delta=2)
