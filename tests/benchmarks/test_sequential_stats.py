"""The sequential statistics by seeded Monte Carlo: the A/B test's type-I error stays within
alpha under equal policies (binary and bounded scores, one cell and a card's rounds), it finds
real gaps, the confidence sequences cover, and the fixed-size design matches its textbook."""

import math

import numpy as np
import pytest

from librobot_gym.benchmarks.sequential.betting import BettingCS, confidence_sequence
from librobot_gym.benchmarks.sequential.design import (
    fixed_sample_size,
    fixed_test_power,
    simulate_sequential,
)
from librobot_gym.benchmarks.sequential.outcomes import outcome
from librobot_gym.benchmarks.sequential.pairtest import (
    A_BETTER,
    UNDECIDED,
    DifferenceCS,
    PairedTest,
    run_paths,
)

ALPHA = 0.05
RUNS = 1500


def ceiling(runs: int = RUNS) -> float:
    """alpha plus three Monte-Carlo standard errors."""
    return ALPHA + 3 * math.sqrt(ALPHA * (1 - ALPHA) / runs)


@pytest.mark.parametrize("p", [0.2, 0.5, 0.8])
@pytest.mark.parametrize("cells", [1, 3])
def test_type_one_error_is_within_alpha_under_equal_success(p, cells):
    plan = simulate_sequential(p, p, ALPHA, max_rounds=200 // cells, cells=cells, runs=RUNS,
                               seed=int(p * 10) + cells)
    assert plan.rejected <= ceiling()


def test_type_one_error_under_equal_means_of_different_bounded_scores():
    """The null is equal means, not equal distributions: A's score is Beta(2, 2), B's a coin."""
    rng = np.random.default_rng(7)
    d = rng.beta(2, 2, (RUNS, 200)) - (rng.random((RUNS, 200)) < 0.5)
    _, decision = run_paths(d, ALPHA)
    assert np.mean(decision != 0) <= ceiling()


def test_a_card_whose_cells_differ_but_whose_mean_is_equal_is_not_called():
    """Round validity: A is better on one cell, worse on the other, equal on the mean."""
    rng = np.random.default_rng(11)
    shape = (RUNS, 150)
    first = (rng.random(shape) < 0.8).astype(float) - (rng.random(shape) < 0.5)
    second = (rng.random(shape) < 0.5).astype(float) - (rng.random(shape) < 0.8)
    _, decision = run_paths(np.stack([first, second], axis=2), ALPHA)
    assert np.mean(decision != 0) <= ceiling()


def test_a_real_gap_is_found_and_in_the_right_direction():
    plan = simulate_sequential(0.8, 0.5, ALPHA, max_rounds=200, runs=1000, seed=3)
    assert plan.a_better > 0.95 and plan.b_better < 0.01
    assert plan.mean_episodes < 2 * 200 / 2  # stops long before the budget on average
    flipped = simulate_sequential(0.5, 0.8, ALPHA, max_rounds=200, runs=1000, seed=3)
    assert flipped.b_better > 0.95


def test_the_online_test_is_the_simulated_one():
    rng = np.random.default_rng(5)
    d = rng.integers(-1, 2, (20, 120)).astype(float) * (rng.random((20, 120)) < 0.7)
    d += 0.3 * (rng.random((20, 120)) < 0.2) * (d == 0)  # some partial-credit differences
    rounds, decision = run_paths(d, ALPHA)
    for row in range(20):
        test = PairedTest(ALPHA, budget=120)  # run_paths' budget: the row's length
        for x in d[row]:
            state = test.update(x)
        assert state.pairs == rounds[row]
        assert {A_BETTER: 1, UNDECIDED: 0}.get(state.decision, -1) == decision[row]
    budget_rows = [row for row in range(20) if decision[row] == 0 and rounds[row] < 120]
    assert budget_rows  # some stopped early, undecided: the rest could not have decided


def test_curtailment_stops_only_where_no_outcome_left_could_decide():
    test = PairedTest(ALPHA, budget=30)
    assert test.reachable(8) and not test.reachable(7)  # a clean sweep of 8 reaches 1/alpha
    for _ in range(23):
        state = test.update(0.0)  # ties: the wealth stays at 1
        assert state.futile == (not test.reachable(30 - state.pairs))
    assert state.futile and state.pairs == 23 and state.decision == UNDECIDED
    assert test.update(1.0) is state  # finished: later pairs change nothing


def test_the_difference_interval_excludes_zero_exactly_when_the_test_decides():
    rng = np.random.default_rng(2)
    for _ in range(5):
        d = (rng.random(150) < 0.75).astype(float) - (rng.random(150) < 0.5)
        test, cs = PairedTest(ALPHA), DifferenceCS(ALPHA)
        for x in d:
            decided = test.state.decision != UNDECIDED
            low, high = cs.update(x)
            state = test.update(x)
            if not decided:
                assert (state.decision == A_BETTER) == (low >= 0.0)
                assert high > 0.0


def test_the_betting_confidence_sequence_covers_at_every_time():
    rng = np.random.default_rng(1)
    misses = 0
    runs = 150
    for _ in range(runs):
        outcomes = rng.random(100) < 0.3
        if any(not iv.low <= 0.3 <= iv.high for iv in confidence_sequence(outcomes, ALPHA)):
            misses += 1
    assert misses / runs <= ALPHA + 3 * math.sqrt(ALPHA * (1 - ALPHA) / runs)


def test_the_confidence_sequence_narrows_and_refuses_bad_outcomes():
    cs = BettingCS(ALPHA)
    widths = [cs.update(x).width for x in [1, 0, 1, 1] * 50]
    assert widths[-1] < 0.3 and all(b <= a for a, b in zip(widths, widths[1:], strict=False))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        cs.update(1.5)
    with pytest.raises(ValueError, match=r"\[-1, 1\]"):
        PairedTest().update(2.0)


def test_fixed_sample_size_matches_the_textbook_and_its_power():
    # Fleiss et al. ch. 4 (no continuity correction): 0.6 vs 0.8 at 5% / 80% -> 82 each.
    assert fixed_sample_size(0.6, 0.8) == fixed_sample_size(0.8, 0.6) == 82
    assert fixed_sample_size(0.6, 0.8, power=0.9) > 82
    assert abs(fixed_test_power(0.8, 0.6, 82) - 0.8) < 0.04
    assert fixed_test_power(0.6, 0.6, 82) < ceiling(4000)
    with pytest.raises(ValueError, match="no gap"):
        fixed_sample_size(0.5, 0.5)


def test_progress_outcomes_are_scaled_into_zero_one():
    assert outcome(True, {"progress": 0.2}, "progress", "sim") == 1.0
    assert outcome(False, {"progress": 0.4}, "progress", "sim") == 0.4
    assert outcome(False, {"progress": 40.0}, "progress", "real") == 0.4
    assert outcome(False, {"progress": float("nan")}, "progress", "real") == 0.0
    assert outcome(False, {"progress": 0.4}, "success", "sim") == 0.0
