"""Success statistics for robot-policy evaluations: intervals, aggregates, rankings, sim-vs-real.

Everything here is plain numpy, deterministic for a given seed, and never prints. Each function
names the source of its definition so the numbers can be checked against the original tools.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

__all__ = [
    "aggregate_success_ci",
    "SuccessSummary",
    "aggregate_metrics",
    "bradley_terry",
    "iqm",
    "mean_of_means_ci",
    "mmrv",
    "paired_difference",
    "pearson_r",
    "stratified_bootstrap_ci",
    "success_summary",
    "wilson_interval",
]


def _check_confidence(confidence: float) -> None:
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")


@lru_cache(maxsize=64)
def _normal_quantile(p: float) -> float:
    """Inverse standard normal CDF by bisection on Phi(x) = erfc(-x / sqrt(2)) / 2."""
    lo, hi = -40.0, 40.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if mid in (lo, hi):  # interval can no longer shrink: full double precision
            break
        if 0.5 * math.erfc(-mid / math.sqrt(2.0)) < p:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def wilson_interval(successes: int, trials: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a binomial success rate (Wilson 1927, JASA 22:209).

    Unlike the normal (Wald) interval it stays inside [0, 1] and does not collapse to a point
    at 0/n or n/n, which matters for the small episode counts of robot evaluations.
    With no trials nothing is known, so the interval is (0.0, 1.0).
    """
    _check_confidence(confidence)
    if trials < 0 or not 0 <= successes <= trials:
        raise ValueError(f"need 0 <= successes <= trials, got {successes}/{trials}")
    if trials == 0:
        return 0.0, 1.0
    z = _normal_quantile(0.5 + confidence / 2.0)
    p_hat = successes / trials
    z2_n = z * z / trials
    center = (p_hat + z2_n / 2.0) / (1.0 + z2_n)
    half = z / (1.0 + z2_n) * math.sqrt(p_hat * (1.0 - p_hat) / trials + z2_n / (4.0 * trials))
    low = 0.0 if successes == 0 else max(0.0, center - half)
    high = 1.0 if successes == trials else min(1.0, center + half)
    return low, high


def iqm(values: Sequence[float] | np.ndarray) -> float:
    """Interquartile mean: mean of the middle 50% of all scores (rliable, Agarwal et al. 2021).

    Same as rliable's ``scipy.stats.trim_mean(scores, 0.25, axis=None)``: drop
    ``floor(0.25 * n)`` scores from each end of the sorted, flattened array. Less noisy than
    the median and less outlier-driven than the mean.
    """
    x = np.sort(np.asarray(values, dtype=float).ravel())
    if x.size == 0:
        raise ValueError("iqm of an empty array is undefined")
    cut = int(0.25 * x.size)
    return float(np.mean(x[cut : x.size - cut]))


def _strata(scores: dict[str, np.ndarray] | np.ndarray) -> list[np.ndarray]:
    """Per-task 1-D score arrays; a (num_runs, num_tasks) array has one task per column."""
    if isinstance(scores, dict):
        tasks = [np.asarray(v, dtype=float).ravel() for v in scores.values()]
    else:
        arr = np.asarray(scores, dtype=float)
        if arr.ndim > 2:
            raise ValueError(f"scores must be 1-D or (num_runs, num_tasks), got {arr.shape}")
        tasks = [arr] if arr.ndim == 1 else [arr[:, t] for t in range(arr.shape[1])]
    if not tasks or any(t.size == 0 for t in tasks):
        raise ValueError("every task needs at least one score")
    return tasks


def stratified_bootstrap_ci(
    scores: dict[str, np.ndarray] | np.ndarray,
    statistic: Callable[[np.ndarray], float] = iqm,
    reps: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
) -> tuple[float, float, float]:
    """Point estimate and percentile-bootstrap interval, resampling runs within each task.

    Follows rliable's ``StratifiedBootstrap`` (Agarwal et al. 2021, "Deep RL at the Edge of the
    Statistical Precipice"): each task is a stratum, so every replicate keeps each task's
    number of runs and no task can vanish from the aggregate. ``statistic`` receives the 1-D
    concatenation of all tasks' scores. Returns ``(estimate, low, high)``.
    """
    _check_confidence(confidence)
    if reps < 1:
        raise ValueError(f"reps must be >= 1, got {reps}")
    tasks = _strata(scores)
    flat = np.concatenate(tasks)
    sizes = np.array([t.size for t in tasks])
    starts = np.repeat(np.cumsum(sizes) - sizes, sizes)  # first index of each score's task
    highs = np.repeat(sizes, sizes)  # run count of each score's task
    rng = np.random.default_rng(seed)
    boot = np.empty(reps)
    for r in range(reps):
        boot[r] = statistic(flat[starts + rng.integers(0, highs)])
    alpha = 1.0 - confidence
    low, high = np.percentile(boot, [100.0 * alpha / 2.0, 100.0 * (1.0 - alpha / 2.0)])
    return float(statistic(flat)), float(low), float(high)


def aggregate_success_ci(
    per_task: dict[str, np.ndarray],
    reps: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
) -> tuple[float, float, float]:
    """IQM across tasks of per-task success rates, with a stratified bootstrap interval.

    The unit of a benchmark score is a task's success rate, not an episode: an IQM over binary
    episodes would collapse to 0 or 1. Each replicate resamples episodes within each task
    (the strata), recomputes every task's rate, then the IQM across tasks (rliable's
    aggregate with one run per task). With one task this is the bootstrap interval of its rate.
    """
    _check_confidence(confidence)
    tasks = _strata(per_task)
    rng = np.random.default_rng(seed)
    rates = np.column_stack([t[rng.integers(0, t.size, (reps, t.size))].mean(axis=1)
                             for t in tasks])  # (reps, num_tasks)
    rates.sort(axis=1)
    cut = rates.shape[1] // 4
    boot = rates[:, cut: rates.shape[1] - cut].mean(axis=1)
    alpha = 1.0 - confidence
    low, high = np.percentile(boot, [100.0 * alpha / 2.0, 100.0 * (1.0 - alpha / 2.0)])
    return iqm([t.mean() for t in tasks]), float(low), float(high)


def paired_difference(
    first: Sequence[bool], second: Sequence[bool], confidence: float = 0.95
) -> tuple[float, float, float]:
    """Difference of two success rates measured on the same episodes (first - second), with
    Newcombe's hybrid score interval for paired proportions (Newcombe 1998, Stat. Med.
    17:2635, method 10, with phi's continuity correction as in Altman et al. 2000,
    "Statistics with confidence", ch. 6, and R's MKinfer::binomDiffCI(paired=TRUE)).

    Pairs are what a variant card gives: the same seed played under `default` and under a
    variant, so the drop a variant causes is read from the seeds whose outcome changed. The
    interval combines the Wilson intervals of both rates, corrected by their correlation
    (phi of the 2x2 table, its numerator ad - bc lowered by n/2 when positive; 0 when a margin
    is empty), so it stays inside [-1, 1] and collapses neither at 0/n or n/n nor where
    every pair agrees (uncorrected, 2 of 4 both times would give [0, 0]). Returns
    ``(difference, low, high)``; with no pairs the uninformative (nan, -1.0, 1.0).
    """
    _check_confidence(confidence)
    x = np.asarray(first, dtype=bool).ravel()
    y = np.asarray(second, dtype=bool).ravel()
    if x.size != y.size:
        raise ValueError(f"paired_difference: length mismatch ({x.size} vs {y.size})")
    n = int(x.size)
    if n == 0:
        return float("nan"), -1.0, 1.0
    a, b = int(np.sum(x & y)), int(np.sum(x & ~y))  # both succeed; only the first
    c, d = int(np.sum(~x & y)), int(np.sum(~x & ~y))  # only the second; neither
    p1, p2 = (a + b) / n, (a + c) / n
    l1, u1 = wilson_interval(a + b, n, confidence)
    l2, u2 = wilson_interval(a + c, n, confidence)
    margins = (a + b) * (c + d) * (a + c) * (b + d)
    agreement = a * d - b * c  # phi's numerator, continuity-corrected when positive
    if agreement > 0:
        agreement = max(agreement - n / 2.0, 0.0)
    phi = agreement / math.sqrt(margins) if margins else 0.0
    low = (p1 - p2) - math.sqrt(max(0.0, (p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2)
                                    + (u2 - p2) ** 2))
    high = (p1 - p2) + math.sqrt(max(0.0, (p2 - l2) ** 2 - 2 * phi * (p2 - l2) * (u1 - p1)
                                     + (u1 - p1) ** 2))
    return p1 - p2, max(-1.0, low), min(1.0, high)


def mean_of_means_ci(
    groups: dict[str, list[np.ndarray]],
    reps: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
) -> tuple[float, float, float]:
    """Plain mean over groups of each group's plain mean over its cells' success rates, with
    a stratified percentile-bootstrap interval: SimplerEnv's variant aggregation (Li et al.
    2024: a task's success averaged over its variants, then over tasks).

    `groups` maps a task to its cells' episode outcomes (one 1-D array per variant). Each
    replicate resamples episodes within every cell (the strata, as in
    `aggregate_success_ci`), so no variant can vanish from a replicate and each keeps its
    weight. Returns ``(estimate, low, high)``.
    """
    _check_confidence(confidence)
    if not groups or any(not cells for cells in groups.values()):
        raise ValueError("every group needs at least one cell")
    rng = np.random.default_rng(seed)
    estimate, boot = [], np.zeros(reps)
    for cells in groups.values():
        arrays = _strata({str(i): cell for i, cell in enumerate(cells)})
        estimate.append(np.mean([cell.mean() for cell in arrays]))
        rates = np.column_stack([cell[rng.integers(0, cell.size, (reps, cell.size))]
                                 .mean(axis=1) for cell in arrays])
        boot += rates.mean(axis=1)
    boot /= len(groups)
    alpha = 1.0 - confidence
    low, high = np.percentile(boot, [100.0 * alpha / 2.0, 100.0 * (1.0 - alpha / 2.0)])
    return float(np.mean(estimate)), float(low), float(high)


def _paired(x: Sequence[float], y: Sequence[float], what: str) -> tuple[np.ndarray, np.ndarray]:
    a, b = np.asarray(x, dtype=float).ravel(), np.asarray(y, dtype=float).ravel()
    if a.size != b.size:
        raise ValueError(f"{what}: length mismatch ({a.size} vs {b.size})")
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        raise ValueError(f"{what}: values must be finite")
    return a, b


def pearson_r(x: Sequence[float], y: Sequence[float]) -> float:
    """Pearson correlation of paired values, e.g. per-policy sim vs real success (SimplerEnv).

    Never returns nan: a constant side carries no ranking information, so the result is 0.0
    (SimplerEnv's own helper returns 1 only when both centred sides are identical).
    """
    a, b = _paired(x, y, "pearson_r")
    if a.size < 2:
        raise ValueError(f"pearson_r needs at least 2 points, got {a.size}")
    if np.all(a == a[0]) or np.all(b == b[0]):
        return 0.0
    da, db = a - a.mean(), b - b.mean()
    r = float(np.sum(da * db) / math.sqrt(float(np.sum(da * da)) * float(np.sum(db * db))))
    return min(1.0, max(-1.0, r))


def mmrv(sim: Sequence[float], real: Sequence[float]) -> float:
    """Mean Maximum Rank Violation between sim and real success of N policies (lower is better).

    Li et al. 2024, "Evaluating Real-World Robot Manipulation Policies in Simulation" (SIMPLER):
    RankViolation(i, j) = |real_i - real_j| * 1[(sim_i > sim_j) != (real_i > real_j)] and
    MMRV = (1/N) sum_i max_j RankViolation(i, j). Ties are handled exactly as SimplerEnv's
    ``simpler_env/utils/metrics.py`` does, with the strict ``>`` on both sides: a pair tied in
    sim but not in real is charged to the policy with the higher real success (a pair tied in
    real has a zero gap).
    """
    s, r = _paired(sim, real, "mmrv")
    if s.size == 0:
        raise ValueError("mmrv needs at least one policy")
    flipped = (s[:, None] > s[None, :]) != (r[:, None] > r[None, :])
    violation = np.abs(r[:, None] - r[None, :]) * flipped
    return float(violation.max(axis=1).mean())


def _win_matrix(
    wins: np.ndarray | dict[tuple[str, str], tuple[float, float]], names: list[str] | None
) -> tuple[np.ndarray, list[str]]:
    if isinstance(wins, dict):
        seen = list(dict.fromkeys(n for pair in wins for n in pair))
        names = list(names) if names is not None else seen
        if set(seen) - set(names):
            raise ValueError(f"names is missing players {sorted(set(seen) - set(names))}")
        index = {n: i for i, n in enumerate(names)}
        w = np.zeros((len(names), len(names)))
        for (a, b), (a_wins, b_wins) in wins.items():
            if a == b:
                raise ValueError(f"a player cannot play itself: {a!r}")
            w[index[a], index[b]] += a_wins
            w[index[b], index[a]] += b_wins
    else:
        w = np.array(wins, dtype=float)
        if w.ndim != 2 or w.shape[0] != w.shape[1]:
            raise ValueError(f"win matrix must be square, got shape {w.shape}")
        names = list(names) if names is not None else [f"p{i}" for i in range(w.shape[0])]
        if len(names) != w.shape[0]:
            raise ValueError(f"{len(names)} names for a {w.shape[0]}-player win matrix")
        np.fill_diagonal(w, 0.0)
    if len(set(names)) != len(names):
        raise ValueError("names must be unique")
    if np.any(w < 0) or not np.all(np.isfinite(w)):
        raise ValueError("win counts must be finite and non-negative")
    return w, names


def bradley_terry(
    wins: np.ndarray | dict[tuple[str, str], tuple[float, float]],
    names: list[str] | None = None,
    iters: int = 1000,
    tol: float = 1e-10,
    prior: float = 0.01,
) -> dict[str, float]:
    """Bradley-Terry strengths from paired A/B outcomes, fitted by MM (Hunter 2004, Ann. Stat.).

    ``wins`` is a square matrix with ``W[i, j]`` = times i beat j (names default to "p0".."pn"),
    or ``{(a, b): (a_wins, b_wins)}``; pass ties as half-wins. ``prior`` pseudo-wins are added
    for every player against every other one so the MLE exists (Hunter's connectivity
    condition) and an undefeated policy gets a large but finite strength. P(i beats j) =
    s_i / (s_i + s_j); strengths are scaled to geometric mean 1 and returned strongest first.
    """
    w, names = _win_matrix(wins, names)
    n = len(names)
    if n == 0:
        return {}
    w = w + prior * (1.0 - np.eye(n))
    games = w + w.T
    total_wins = w.sum(axis=1)
    s = np.ones(n)
    for _ in range(iters):
        new = total_wins / (games / (s[:, None] + s[None, :])).sum(axis=1)
        new = new / np.exp(np.mean(np.log(new)))
        done = np.max(np.abs(np.log(new) - np.log(s))) < tol
        s = new
        if done:
            break
    order = sorted(range(n), key=lambda i: -s[i])
    return {names[i]: float(s[i]) for i in order}


@dataclass(frozen=True)
class SuccessSummary:
    """Success rate of a batch of episodes with its Wilson interval."""

    rate: float
    low: float
    high: float
    n: int
    successes: int


def success_summary(successes: Sequence[bool], confidence: float = 0.95) -> SuccessSummary:
    """Success rate with a Wilson interval, the headline number of a policy evaluation.

    With no episodes the rate is reported as 0.0 with the uninformative interval (0, 1).
    """
    flags = [bool(s) for s in successes]
    n, k = len(flags), sum(flags)
    low, high = wilson_interval(k, n, confidence)
    return SuccessSummary(rate=k / n if n else 0.0, low=low, high=high, n=n, successes=k)


def aggregate_metrics(rows: list[dict[str, float]]) -> dict[str, dict[str, float]]:
    """Mean / std (population, ddof=0) / min / max of each task metric over episodes.

    Non-finite values (nan, inf from a failed episode) are ignored; ``n`` counts the finite
    values used, and a metric with none gets nan statistics. Metric order is first appearance.
    """
    values: dict[str, list[float]] = {}
    for row in rows:
        for name, value in row.items():
            values.setdefault(name, [])
            if math.isfinite(float(value)):
                values[name].append(float(value))
    out: dict[str, dict[str, float]] = {}
    for name, vals in values.items():
        a = np.asarray(vals, dtype=float)
        if a.size == 0:
            nan = float("nan")
            out[name] = {"mean": nan, "std": nan, "min": nan, "max": nan, "n": 0.0}
        else:
            out[name] = {
                "mean": float(a.mean()),
                "std": float(a.std()),
                "min": float(a.min()),
                "max": float(a.max()),
                "n": float(a.size),
            }
    return out
