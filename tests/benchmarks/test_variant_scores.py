"""Scores per variant and factor on hand-made episode records: success with Wilson intervals,
the paired drop from default (Newcombe), SimplerEnv's variant aggregation, exact numbers."""

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from librobot_gym.benchmarks.score import factor_of, score_episodes, variant_scores
from librobot_gym.benchmarks.stats import mean_of_means_ci, paired_difference, wilson_interval


def frame(cells: dict[tuple[str, str], list[int]], aborted: tuple = ()) -> pd.DataFrame:
    """Episode records: cells[(env, variant)] lists the outcomes of seeds 0, 1, ...;
    `aborted` holds (env, variant, seed) played but aborted (not scored)."""
    rows = []
    for (env, variant), outcomes in cells.items():
        for seed, success in enumerate(outcomes):
            rows.append({"env_id": env, "variant": variant, "seed": seed,
                         "success_once": bool(success),
                         "aborted": (env, variant, seed) in aborted, "task_metrics": {},
                         "safety_events": {}, "episode_return": float(success), "length": 10})
    return pd.DataFrame(rows)


# --- the paired interval -------------------------------------------------------------------------


def test_paired_difference_on_altman_table_6_2():
    """Altman et al. (2000), "Statistics with confidence", Table 6.2: 14 pairs where both
    succeed, 5 only the first, none only the second, 22 neither."""
    first = [1] * 19 + [0] * 22
    second = [1] * 14 + [0] * 27
    diff, low, high = paired_difference(first, second)
    assert diff == pytest.approx(5 / 41)
    assert (low, high) == pytest.approx((0.011483, 0.226493), abs=1e-6)


def test_paired_difference_is_not_degenerate_where_every_pair_agrees():
    # Uncorrected phi would give [0, 0] here; the corrected one a real interval.
    assert paired_difference([1, 1, 0, 0], [1, 1, 0, 0]) == pytest.approx(
        (0.0, -0.34996, 0.34996), abs=1e-5)
    # 10/10 both times: no margin to correlate (phi 0): Wilson's half-widths added in square.
    low10 = wilson_interval(10, 10)[0]
    assert paired_difference([1] * 10, [1] * 10) == pytest.approx((0.0, -(1 - low10), 1 - low10))
    assert paired_difference([1] * 10, [0] * 10) == pytest.approx(
        (1.0, 1 - math.hypot(1 - low10, 1 - low10), 1.0))


def test_paired_difference_refuses_unpaired_input_and_says_nothing_without_pairs():
    with pytest.raises(ValueError, match="length mismatch"):
        paired_difference([1, 0], [1])
    diff, low, high = paired_difference([], [])
    assert math.isnan(diff) and (low, high) == (-1.0, 1.0)


pairs = st.lists(st.tuples(st.booleans(), st.booleans()), min_size=1, max_size=40)


@settings(max_examples=80, deadline=None)
@given(pairs)
def test_paired_interval_holds_the_difference_and_flips_with_the_order(data):
    first, second = [a for a, _ in data], [b for _, b in data]
    diff, low, high = paired_difference(first, second)
    assert -1.0 <= low <= diff <= high <= 1.0
    assert high - low > 0.0
    back = paired_difference(second, first)
    assert back == pytest.approx((-diff, -high, -low), abs=1e-12)


# --- SimplerEnv's aggregate ----------------------------------------------------------------------


def test_mean_of_means_weighs_each_variant_then_each_task_alike():
    groups = {"A": [np.ones(4), np.array([1, 0, 0, 0.0])],  # 1.0 and 0.25: A 0.625
              "B": [np.array([1, 1, 0, 0.0])]}  # B 0.5
    mean, low, high = mean_of_means_ci(groups)
    assert mean == pytest.approx((0.625 + 0.5) / 2)  # not the pooled 7/12
    assert low < mean < high
    assert mean_of_means_ci(groups) == (mean, low, high)  # seeded: the same every time
    with pytest.raises(ValueError):
        mean_of_means_ci({"A": []})


# --- a run's variant report ----------------------------------------------------------------------


CELLS = {("A", "default"): [1, 1, 1, 1], ("A", "lighting:dark"): [1, 0, 0, 1],
         ("A", "camera:shift_1"): [1, 1, 1, 0],
         ("B", "default"): [1, 1, 0, 0], ("B", "lighting:dark"): [0, 0, 0, 0],
         ("B", "lighting:bright"): [1, 1, 0, 0]}


def test_per_variant_rows_have_wilson_intervals_and_paired_drops():
    report = variant_scores(frame(CELLS))
    rows = {(r.env_id, r.variant): r for r in report.variants}
    assert list(rows) == [("A", "default"), ("A", "lighting:dark"), ("A", "camera:shift_1"),
                          ("B", "default"), ("B", "lighting:dark"), ("B", "lighting:bright")]
    dark = rows[("A", "lighting:dark")]
    assert (dark.factor, dark.episodes, dark.successes, dark.rate) == ("lighting", 4, 2, 0.5)
    assert (dark.low, dark.high) == pytest.approx(wilson_interval(2, 4))
    # default 1,1,1,1 vs dark 1,0,0,1: two seeds lost, none gained.
    assert dark.pairs == 4 and dark.drop == 0.5
    assert (dark.drop_low, dark.drop_high) == pytest.approx((-0.102051, 0.849961), abs=1e-6)
    assert rows[("B", "lighting:bright")].drop == 0.0
    default = rows[("A", "default")]
    assert default.pairs == 0 and math.isnan(default.drop)


def test_factor_rows_pool_levels_and_tasks_default_first():
    report = variant_scores(frame(CELLS))
    factors = {r.factor: r for r in report.factors}
    assert [r.factor for r in report.factors] == ["default", "camera", "lighting"]
    lighting = factors["lighting"]
    # A dark 2/4, B dark 0/4, B bright 2/4: 4 of 12; their defaults 4 + 2 + 2 = 8 of 12.
    assert (lighting.episodes, lighting.successes, lighting.pairs) == (12, 4, 12)
    assert lighting.rate == pytest.approx(4 / 12) and lighting.drop == pytest.approx(4 / 12)
    expected = paired_difference([1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 0, 0],
                                 [1, 0, 0, 1, 0, 0, 0, 0, 1, 1, 0, 0])
    assert (lighting.drop, lighting.drop_low, lighting.drop_high) == pytest.approx(expected)
    assert (factors["default"].episodes, factors["default"].successes) == (8, 6)
    assert factors["camera"].drop == 0.25


def test_simpler_env_aggregate_is_the_plain_mean_over_variants_then_tasks():
    report = variant_scores(frame(CELLS))
    assert report.task_means["A"][0] == pytest.approx((1 + 0.5 + 0.75) / 3)
    assert report.task_means["B"][0] == pytest.approx((0.5 + 0 + 0.5) / 3)
    assert report.mean == pytest.approx((0.75 + 1 / 3) / 2)
    assert report.mean_low < report.mean < report.mean_high


def test_a_run_of_defaults_has_no_variant_report_and_aborted_episodes_do_not_count():
    assert variant_scores(frame({("A", "default"): [1, 0]})) is None
    assert score_episodes(frame({("A", "default"): [1, 0]})).variants is None
    score = score_episodes(frame({("A", "default"): [1, 1], ("A", "lighting:dark"): [0, 1]},
                                 aborted={("A", "lighting:dark", 0)}))
    dark = score.variants.variants[1]
    assert (dark.episodes, dark.successes, dark.pairs, dark.drop) == (1, 1, 1, 0.0)
    assert factor_of("object_size:large") == "object_size" and factor_of("default") == "default"
