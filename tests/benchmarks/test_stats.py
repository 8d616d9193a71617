"""Success statistics: known values from the original definitions, plus invariants by hypothesis."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from librobot_gym.benchmarks.stats import (
    SuccessSummary,
    _normal_quantile,
    aggregate_metrics,
    bradley_terry,
    iqm,
    mmrv,
    pearson_r,
    stratified_bootstrap_ci,
    success_summary,
    wilson_interval,
)

# SimplerEnv (Li et al. 2024), Google robot "pick coke can": per-policy success, real vs SIMPLER.
SIMPLER_PICK_COKE_CAN = {
    "policies": ["rt-2-x", "rt-1-converged", "rt-1-15pct", "rt-1-x", "rt-1-begin", "octo-base"],
    "real": [0.907, 0.853, 0.920, 0.760, 0.133, 0.293],
    "sim": [0.787, 0.857, 0.710, 0.567, 0.027, 0.170],
    "mmrv": 0.0313,
    "pearson": 0.9754,
}

rates = st.floats(0.0, 1.0, allow_nan=False)


# --- Wilson interval ---------------------------------------------------------------------------


def test_normal_quantile_matches_known_value():
    assert _normal_quantile(0.975) == pytest.approx(1.959963985, abs=1e-9)
    assert _normal_quantile(0.5) == pytest.approx(0.0, abs=1e-12)
    assert _normal_quantile(0.995) == pytest.approx(2.575829304, abs=1e-9)


@pytest.mark.parametrize(
    ("k", "n", "low", "high"),
    [(0, 10, 0.0, 0.2775), (10, 10, 0.7225, 1.0), (5, 10, 0.2366, 0.7634)],
)
def test_wilson_known_values(k, n, low, high):
    lo, hi = wilson_interval(k, n)
    assert lo == pytest.approx(low, abs=1e-4) and hi == pytest.approx(high, abs=1e-4)


def test_wilson_edge_cases():
    assert wilson_interval(0, 0) == (0.0, 1.0)
    assert wilson_interval(0, 10)[0] == 0.0 and wilson_interval(10, 10)[1] == 1.0
    for bad in [(11, 10), (-1, 10)]:
        with pytest.raises(ValueError, match="successes"):
            wilson_interval(*bad)
    with pytest.raises(ValueError, match="confidence"):
        wilson_interval(5, 10, confidence=1.0)


@given(st.integers(1, 500).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_wilson_contains_rate_and_narrows_with_more_trials(kn):
    k, n = kn
    lo, hi = wilson_interval(k, n)
    assert 0.0 <= lo <= k / n <= hi <= 1.0
    lo2, hi2 = wilson_interval(2 * k, 2 * n)  # same success rate, twice the evidence
    assert hi2 - lo2 < hi - lo
    lo99, hi99 = wilson_interval(k, n, confidence=0.99)
    assert lo99 <= lo and hi <= hi99


# --- IQM ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (range(1, 9), 4.5),  # n=8 drops 2 each side: mean(3, 4, 5, 6)
        (range(1, 11), 5.5),  # n=10 drops 2 each side: mean(3..8)
        ([10, 1, 7, 3, 100, 2, 5], 5.4),  # n=7 drops 1 each side: mean(2, 3, 5, 7, 10)
        ([4, 1, 9], 14 / 3),  # n=3 drops nothing
        ([[1, 2], [3, 4], [5, 1000]], 3.5),  # flattened: n=6 drops 1 each side
    ],
)
def test_iqm_matches_trim_mean(values, expected):
    assert iqm(values) == pytest.approx(expected)


def test_iqm_rejects_empty():
    with pytest.raises(ValueError, match="empty"):
        iqm([])


# --- Stratified bootstrap ----------------------------------------------------------------------


def _scores():
    rng = np.random.default_rng(3)
    return {"pick": rng.random(12), "place": rng.random(8), "stack": rng.random(5)}


def test_bootstrap_is_deterministic_for_a_seed_and_contains_estimate():
    a = stratified_bootstrap_ci(_scores(), reps=500, seed=7)
    assert a == stratified_bootstrap_ci(_scores(), reps=500, seed=7)
    assert a != stratified_bootstrap_ci(_scores(), reps=500, seed=8)
    est, lo, hi = a
    assert est == pytest.approx(iqm(np.concatenate(list(_scores().values()))))
    assert lo <= est <= hi and lo < hi


def test_bootstrap_collapses_on_equal_scores():
    assert stratified_bootstrap_ci({"a": np.full(5, 0.4), "b": np.full(3, 0.4)}) == (0.4, 0.4, 0.4)


def test_bootstrap_resamples_within_tasks():
    scores = {"solo": np.array([7.0]), "many": np.arange(10.0)}
    # The single-run task sits first in every replicate and is always its only run.
    assert stratified_bootstrap_ci(scores, statistic=lambda x: x[0]) == (7.0, 7.0, 7.0)
    # Replicates keep each task's size, so each task's share of the pool is fixed.
    est, lo, hi = stratified_bootstrap_ci(scores, statistic=lambda x: float(len(x)), reps=50)
    assert est == lo == hi == 11.0


def test_bootstrap_accepts_runs_by_tasks_array():
    runs_by_tasks = np.random.default_rng(0).random((6, 4))
    columns = {f"t{t}": runs_by_tasks[:, t] for t in range(4)}
    assert stratified_bootstrap_ci(runs_by_tasks, np.mean, reps=300) == stratified_bootstrap_ci(
        columns, np.mean, reps=300
    )


def test_bootstrap_rejects_empty_task():
    with pytest.raises(ValueError, match="at least one score"):
        stratified_bootstrap_ci({"a": np.array([1.0]), "b": np.array([])})


# --- SimplerEnv sim-vs-real metrics -------------------------------------------------------------


def test_simpler_fixture_mmrv_and_pearson():
    sim, real = SIMPLER_PICK_COKE_CAN["sim"], SIMPLER_PICK_COKE_CAN["real"]
    assert mmrv(sim, real) == pytest.approx(SIMPLER_PICK_COKE_CAN["mmrv"], abs=5e-4)
    assert pearson_r(sim, real) == pytest.approx(SIMPLER_PICK_COKE_CAN["pearson"], abs=5e-4)
    assert pearson_r(sim, real) == pytest.approx(np.corrcoef(sim, real)[0, 1])


def test_mmrv_tie_rule():
    # Tied in sim, not in real: only the policy with higher real success (0) is charged 0.6.
    assert mmrv([0.5, 0.5], [0.9, 0.3]) == pytest.approx(0.6 / 2)
    # Tied in real: the gap is zero, whatever sim says.
    assert mmrv([0.1, 0.9], [0.4, 0.4]) == 0.0
    # Policy 0: tie with 1 -> 0.6; policy 1: inversion with 2 -> 0.5; policy 2: with 1 -> 0.5.
    # (SimplerEnv's `>` rule; a `<` rule would give (0.6 + 0.5) / 3 here.)
    assert mmrv([0.5, 0.5, 0.2], [0.9, 0.3, 0.8]) == pytest.approx((0.6 + 0.5 + 0.5) / 3)


def test_mmrv_zero_when_orderings_agree():
    real = [0.1, 0.5, 0.3, 0.9]
    assert mmrv([0.2, 0.6, 0.35, 0.7], real) == 0.0
    assert mmrv(real, real) == 0.0
    assert mmrv([0.4], [0.8]) == 0.0


@given(st.lists(st.tuples(rates, rates), min_size=1, max_size=12))
def test_mmrv_bounded_by_largest_real_gap(pairs):
    sim, real = [p[0] for p in pairs], [p[1] for p in pairs]
    value = mmrv(sim, real)
    assert 0.0 <= value <= max(real) - min(real) + 1e-12
    dense_rank = np.unique(sim, return_inverse=True)[1]  # same order and ties, other values
    assert value == pytest.approx(mmrv(dense_rank, real))  # only the sim ordering counts


def test_mmrv_and_pearson_reject_bad_input():
    with pytest.raises(ValueError, match="length mismatch"):
        mmrv([0.1, 0.2], [0.1])
    with pytest.raises(ValueError, match="at least one"):
        mmrv([], [])
    with pytest.raises(ValueError, match="length mismatch"):
        pearson_r([0.1, 0.2], [0.1])
    with pytest.raises(ValueError, match="at least 2"):
        pearson_r([0.1], [0.2])
    with pytest.raises(ValueError, match="finite"):
        pearson_r([0.1, math.nan], [0.2, 0.3])


def test_pearson_constant_side_and_extremes():
    assert pearson_r([0.3, 0.3, 0.3], [0.1, 0.5, 0.9]) == 0.0
    assert pearson_r([0.1, 0.1], [0.2, 0.2]) == 0.0
    assert pearson_r([1, 2, 3], [2, 4, 6]) == pytest.approx(1.0)
    assert pearson_r([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)


# --- Bradley-Terry -----------------------------------------------------------------------------


THREE_PLAYERS = {("A", "B"): (8, 2), ("B", "C"): (8, 2), ("A", "C"): (9, 1)}


def test_bradley_terry_orders_players():
    strengths = bradley_terry(THREE_PLAYERS)
    assert list(strengths) == ["A", "B", "C"]
    assert math.prod(strengths.values()) == pytest.approx(1.0)  # geometric mean 1


def test_bradley_terry_two_players_closed_form():
    # With the 0.01 prior the MLE is s_A / s_B = (8 + 0.01) / (2 + 0.01).
    s = bradley_terry({("A", "B"): (8, 2)})
    assert s["A"] / s["B"] == pytest.approx(8.01 / 2.01, rel=1e-8)
    undefeated = bradley_terry({("A", "B"): (10, 0)})
    assert all(math.isfinite(v) and v > 0 for v in undefeated.values())


def test_bradley_terry_symmetric_results_give_equal_strengths():
    w = np.array([[0, 5, 3], [5, 0, 3], [3, 3, 0]])
    assert list(bradley_terry(w).values()) == pytest.approx([1.0, 1.0, 1.0])


def test_bradley_terry_dict_and_matrix_agree():
    w = np.array([[0, 8, 9], [2, 0, 8], [1, 2, 0]])
    from_matrix = bradley_terry(w, names=["A", "B", "C"])
    from_dict = bradley_terry(THREE_PLAYERS)
    assert list(from_matrix) == list(from_dict)
    assert list(from_matrix.values()) == pytest.approx(list(from_dict.values()))
    assert list(bradley_terry(w)) == ["p0", "p1", "p2"]


def test_bradley_terry_rejects_bad_input():
    with pytest.raises(ValueError, match="square"):
        bradley_terry(np.ones((2, 3)))
    with pytest.raises(ValueError, match="names"):
        bradley_terry(np.ones((2, 2)), names=["only-one"])
    with pytest.raises(ValueError, match="itself"):
        bradley_terry({("A", "A"): (1, 1)})


# --- Summaries ---------------------------------------------------------------------------------


def test_success_summary():
    s = success_summary([True, False, True, True, False, False, True, False, True, False])
    assert isinstance(s, SuccessSummary)
    assert (s.rate, s.n, s.successes) == (0.5, 10, 5)
    assert (s.low, s.high) == pytest.approx((0.2366, 0.7634), abs=1e-4)
    assert success_summary([]) == SuccessSummary(0.0, 0.0, 1.0, 0, 0)


def test_aggregate_metrics_ignores_non_finite():
    rows = [
        {"fill_factor": 0.8, "tonnes_per_hour": math.nan},
        {"fill_factor": math.inf, "tonnes_per_hour": 120.0},
        {"fill_factor": 0.6, "tonnes_per_hour": 80.0},
        {"fill_factor": -math.inf, "idle_s": math.nan},
    ]
    out = aggregate_metrics(rows)
    assert out["fill_factor"] == pytest.approx(
        {"mean": 0.7, "std": 0.1, "min": 0.6, "max": 0.8, "n": 2.0}
    )
    assert out["tonnes_per_hour"] == pytest.approx(
        {"mean": 100.0, "std": 20.0, "min": 80.0, "max": 120.0, "n": 2.0}
    )
    assert out["idle_s"]["n"] == 0.0 and math.isnan(out["idle_s"]["mean"])
    assert aggregate_metrics([]) == {}


def test_aggregate_success_uses_task_rates_not_binary_episodes():
    from librobot_gym.benchmarks.stats import aggregate_success_ci

    ninety = np.array([1.0] * 18 + [0.0] * 2)
    point, low, high = aggregate_success_ci({"a": ninety}, seed=1)
    assert point == pytest.approx(0.9) and low < 0.9 < high and high <= 1.0
    assert iqm(ninety) == 1.0  # what an IQM over binary episodes would have claimed
    point, *_ = aggregate_success_ci({"a": ninety, "b": np.zeros(10), "c": np.ones(5),
                                      "d": np.array([1.0, 0.0])})
    assert point == pytest.approx(np.mean([0.5, 0.9]))  # IQM of rates 0, 0.5, 0.9, 1
    assert aggregate_success_ci({"a": ninety}, seed=3) == aggregate_success_ci({"a": ninety},
                                                                                seed=3)
