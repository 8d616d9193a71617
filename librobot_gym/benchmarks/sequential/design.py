"""How many episodes a comparison needs: the fixed-size two-proportion test's sample size, and
the sequential test's (`pairtest`) episodes by simulation, for one task and for a whole card.

The fixed-size design is the textbook one (Fleiss, Levin & Paik, "Statistical Methods for Rates
and Proportions", 3rd ed. 2003, ch. 4, without continuity correction): n episodes per policy
for a two-sided z-test of p_a = p_b at level alpha to have the given power at the gap p_a - p_b.
It must be run to its n, whatever the episodes show; the sequential test stops at the first
episode its evidence suffices, and its expected and 90th-percentile episodes come from
Monte-Carlo runs of exactly the test `bench ab` runs (paired seeds, A and B independent given
the seed: the least a pairing can help).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from librobot_gym.benchmarks.sequential.betting import check_alpha
from librobot_gym.benchmarks.sequential.pairtest import run_paths
from librobot_gym.benchmarks.stats import _normal_quantile


def _check_rate(p: float, what: str) -> float:
    p = float(p)
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{what} is a success rate in [0, 1], got {p}")
    return p


def fixed_sample_size(p_a: float, p_b: float, alpha: float = 0.05, power: float = 0.8) -> int:
    """Episodes per policy the fixed-size two-sided two-proportion z-test needs (Fleiss et al.
    ch. 4); a ValueError when p_a == p_b (no gap: no finite size has power)."""
    p_a, p_b = _check_rate(p_a, "p_a"), _check_rate(p_b, "p_b")
    alpha = check_alpha(alpha)
    if not 0.0 < power < 1.0:
        raise ValueError(f"power must be in (0, 1), got {power}")
    if p_a == p_b:
        raise ValueError("p_a equals p_b: no fixed-size test has power against no gap")
    z_a, z_b = _normal_quantile(1.0 - alpha / 2.0), _normal_quantile(power)
    mean = (p_a + p_b) / 2.0
    root = (z_a * math.sqrt(2.0 * mean * (1.0 - mean))
            + z_b * math.sqrt(p_a * (1.0 - p_a) + p_b * (1.0 - p_b)))
    return math.ceil((root / (p_a - p_b)) ** 2)


def fixed_means_size(gap: float, var_a: float, var_b: float, alpha: float = 0.05,
                     power: float = 0.8) -> int | None:
    """Episodes per policy a fixed-size two-sided z-test of two means (progress scores) needs
    to detect `gap` with variances var_a, var_b; None without a gap."""
    if gap == 0 or not math.isfinite(gap):
        return None
    z = _normal_quantile(1.0 - check_alpha(alpha) / 2.0) + _normal_quantile(power)
    return max(1, math.ceil(z * z * (var_a + var_b) / (gap * gap)))


def fixed_test_power(p_a: float, p_b: float, n: int, alpha: float = 0.05, runs: int = 4000,
                     seed: int = 0) -> float:
    """Fraction of simulated fixed-size experiments (n episodes per policy, pooled two-sided
    z-test) that reject p_a == p_b: its power, or under p_a == p_b its type-I error."""
    rng = np.random.default_rng(seed)
    k_a, k_b = rng.binomial(n, p_a, runs), rng.binomial(n, p_b, runs)
    pooled = (k_a + k_b) / (2.0 * n)
    se = np.sqrt(pooled * (1.0 - pooled) * 2.0 / n)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 0, (k_a - k_b) / n / se, 0.0)
    return float(np.mean(np.abs(z) >= _normal_quantile(1.0 - check_alpha(alpha) / 2.0)))


@dataclass
class SequentialPlan:
    """The sequential test on simulated pairs: how often it decides each way and how many
    episodes (both policies, every cell of a round) it used."""

    runs: int
    a_better: float  # fraction of runs deciding "A better"
    b_better: float
    mean_episodes: float
    p90_episodes: float
    max_episodes: int  # the budget: every episode of every round, both policies

    @property
    def rejected(self) -> float:
        return self.a_better + self.b_better


def simulate_sequential(p_a: float, p_b: float, alpha: float = 0.05, max_rounds: int = 500,
                        cells: int = 1, runs: int = 2000, seed: int = 0) -> SequentialPlan:
    """Monte-Carlo runs of the `bench ab` test: each round plays every one of `cells` (task,
    variant) cells once per policy and feeds the round's mean difference; stops on decision or
    after `max_rounds` rounds."""
    p_a, p_b = _check_rate(p_a, "p_a"), _check_rate(p_b, "p_b")
    if max_rounds < 1 or cells < 1 or runs < 1:
        raise ValueError("max_rounds, cells and runs must be at least 1")
    rng = np.random.default_rng(seed)
    shape = (runs, max_rounds, cells)
    d = (rng.random(shape) < p_a).astype(float) - (rng.random(shape) < p_b)
    rounds, decision = run_paths(d, alpha)
    episodes = 2 * cells * rounds
    return SequentialPlan(runs, float(np.mean(decision > 0)), float(np.mean(decision < 0)),
                          float(episodes.mean()), float(np.percentile(episodes, 90)),
                          2 * cells * max_rounds)
