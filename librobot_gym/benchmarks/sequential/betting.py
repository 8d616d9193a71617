"""An anytime-valid confidence sequence for the mean of outcomes in [0, 1], by betting.

Waudby-Smith & Ramdas, "Estimating means of bounded random variables by betting", JRSS-B 86(1),
2024 (arXiv:2010.09686), section 4: for every candidate mean m a gambler bets on x_t - m with a
predictable stake; where m is the true mean the wealth is a nonnegative martingale started at 1,
so by Ville's inequality it exceeds 1/alpha at ANY time with probability at most alpha. The
confidence set at time t is every m whose wealth is still below 1/alpha, and it holds
simultaneously over all t (Howard et al., "Time-uniform, nonparametric, nonasymptotic confidence
sequences", Ann. Stat. 49(2), 2021): an evaluation may look after every episode and stop when it
likes, which a Wilson interval read repeatedly does not allow.

This is the paper's hedged capital process (their Theorem 3) with the predictable plug-in stake
(their eq. 26): lambda_t = sqrt(2 log(2/alpha) / (sigma2_{t-1} t log(1 + t))), capped at c/m
(betting up) and c/(1-m) (betting down) so the wealth never reaches 0, c = 1/2, and the two
directions mixed with weights 1/2. Written from the paper's equations; the mean is searched on a
grid and every reported bound is a grid point outside the set, so rounding only widens it.
Valid for any distribution on [0, 1] (binary success, or a 0-100 score divided by 100) whose
conditional mean given the past is the same at every episode.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

GRID = 2001  # candidate means 0, 1/2000, ..., 1
STAKE_CAP = 0.5  # the paper's c: at most half the wealth at stake on one outcome


def check_alpha(alpha: float) -> float:
    """`alpha` as a float, or a ValueError unless 0 < alpha < 1."""
    alpha = float(alpha)
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    return alpha


@dataclass
class Interval:
    """The confidence sequence after `n` outcomes: the running mean and the set's bounds."""

    n: int
    mean: float
    low: float
    high: float

    @property
    def width(self) -> float:
        return self.high - self.low


class BettingCS:
    """The confidence sequence, updated one outcome at a time (`update(x)`, `interval`).

    Also the running intersection of every set so far (Howard et al. 2021, sec. 3): a
    confidence sequence intersected over time is still one, and its bounds never loosen."""

    def __init__(self, alpha: float = 0.05, grid: int = GRID):
        self.alpha = check_alpha(alpha)
        self.m = np.linspace(0.0, 1.0, grid)
        self.log_up = np.zeros(grid)  # log wealth betting that the mean is above m
        self.log_down = np.zeros(grid)
        self.n, self.total = 0, 0.0
        self.mu_hat, self.var_sum = 0.5, 0.25  # the paper's shrunk estimates (prior 1/2, 1/4)
        self.low, self.high = 0.0, 1.0

    def stake(self) -> float:
        """The predictable plug-in stake for the next outcome (before seeing it)."""
        t = self.n + 1
        sigma2 = self.var_sum / t  # sigma2_{t-1}: (1/4 + sum (x_i - mu_i)^2) / t
        return math.sqrt(2.0 * math.log(2.0 / self.alpha) / (sigma2 * t * math.log1p(t)))

    def update(self, x: float) -> Interval:
        x = float(x)
        if not 0.0 <= x <= 1.0 or math.isnan(x):
            raise ValueError(f"betting CS outcomes must lie in [0, 1], got {x}")
        lam = self.stake()
        with np.errstate(divide="ignore"):
            up = np.minimum(lam, STAKE_CAP / self.m)
            down = np.minimum(lam, STAKE_CAP / (1.0 - self.m))
        self.log_up += np.log1p(up * (x - self.m))
        self.log_down += np.log1p(-down * (x - self.m))
        self.n += 1
        self.total += x
        self.mu_hat = (0.5 + self.total) / (self.n + 1)  # mu_t includes x_t (eq. 26)
        self.var_sum += (x - self.mu_hat) ** 2
        self._narrow()
        return self.interval

    def _narrow(self) -> None:
        threshold = math.log(1.0 / self.alpha)
        hedged = np.maximum(self.log_up, self.log_down) + math.log(0.5)
        kept = np.flatnonzero(hedged < threshold)
        if kept.size == 0:  # every mean refuted (probability <= alpha): keep the last set
            return
        low = self.m[kept[0] - 1] if kept[0] > 0 else 0.0
        high = self.m[kept[-1] + 1] if kept[-1] < self.m.size - 1 else 1.0
        if max(self.low, low) <= min(self.high, high):  # else (a miss): keep the last set
            self.low, self.high = max(self.low, low), min(self.high, high)

    @property
    def interval(self) -> Interval:
        mean = self.total / self.n if self.n else float("nan")
        return Interval(self.n, mean, float(self.low), float(self.high))


def confidence_sequence(outcomes, alpha: float = 0.05) -> list[Interval]:
    """The interval after each of `outcomes` (values in [0, 1]) in order."""
    cs = BettingCS(alpha)
    return [cs.update(x) for x in outcomes]
