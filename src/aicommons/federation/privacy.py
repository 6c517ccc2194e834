"""The privacy a node spends when it trains with differential privacy (DP-SGD), as (epsilon, delta).

Each local step clips every example's gradient and adds Gaussian noise (`learning.Training`), on a batch
that is a fraction q of the node's rows: a sampled Gaussian mechanism with noise multiplier sigma. Its
Renyi differential privacy at integer orders a is (Mironov, Talwar and Zhang, 2019, "Renyi Differential
Privacy of the Sampled Gaussian Mechanism", section 3.3)

    RDP(a) = 1/(a-1) * log sum_{k=0..a} C(a,k) (1-q)^(a-k) q^k exp((k^2-k) / (2 sigma^2)),

steps compose by adding RDP, and epsilon(delta) = min over a of RDP_total(a) + log(1/delta)/(a-1). The
bound takes the batches as Poisson samples; shuffled fixed-size batches are the usual, slightly
optimistic, stand-in.
"""

import math
from functools import cache

ORDERS = tuple(range(2, 129))


def epsilon(*, noise_multiplier: float, sample_rate: float, steps: int, delta: float) -> float:
    """The ε spent after `steps` noisy steps at `sample_rate`, for `delta`; infinite without noise."""
    if noise_multiplier <= 0 or steps <= 0:
        return math.inf if steps > 0 else 0.0
    if not 0 < delta < 1 or not 0 < sample_rate <= 1:
        raise ValueError("delta must be in (0, 1) and the sample rate in (0, 1]")
    return min(
        steps * _rdp(order, sample_rate, noise_multiplier) + math.log(1 / delta) / (order - 1)
        for order in ORDERS
    )


def noise_multiplier_for(*, budget: float, sample_rate: float, steps: int, delta: float) -> float:
    """The smallest noise multiplier, in hundredths, whose ε after `steps` steps at `sample_rate` is at most
    `budget` (ε falls as the noise grows, so halving an interval that holds it finds it)."""

    def within(hundredths: int) -> bool:
        spent = epsilon(noise_multiplier=hundredths / 100, sample_rate=sample_rate, steps=steps, delta=delta)
        return spent <= budget

    low, high = 0, 1  # within(high) ends true, within(low) is false (0 is no noise: infinite ε)
    while not within(high):
        low, high = high, high * 2
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (low, middle) if within(middle) else (middle, high)
    return high / 100


@cache
def _rdp(order: int, q: float, sigma: float) -> float:
    """RDP of one sampled Gaussian step at an integer order, summed in log space to avoid overflow."""
    if q == 1:  # every row in every step: the plain Gaussian mechanism
        return order / (2 * sigma * sigma)
    terms = [
        math.lgamma(order + 1)
        - math.lgamma(k + 1)
        - math.lgamma(order - k + 1)
        + (order - k) * math.log1p(-q)
        + k * math.log(q)
        + (k * k - k) / (2 * sigma * sigma)
        for k in range(order + 1)
    ]
    top = max(terms)
    return (top + math.log(sum(math.exp(term - top) for term in terms))) / (order - 1)
