"""Validity, power and episodes of `librobot bench ab`'s sequential test, next to the fixed-size
two-proportion test's, by seeded Monte Carlo: the table the README's "Adaptive evaluation"
section shows.

Three tables (Markdown on stdout):
1. Nulls (p_a = p_b = 0.2 ... 0.8): how often each test declares a winner (its type-I error,
   which must stay at or below alpha within Monte-Carlo error), with the sequential test run to
   a budget of `--null-budget` pairs and the fixed test at `--null-n` episodes per policy.
2. Gaps of 0.1 to 0.4 around 0.5: the fixed test's episodes (power 0.8, Fleiss et al.) and its
   simulated power; the sequential test's power and its mean and 90th-percentile episodes at a
   budget of twice the fixed test's episodes.
3. The price of guessing the gap: both tests planned for a gap of 0.1, run on larger true gaps;
   the fixed test plays its episodes regardless, the sequential one stops when it knows.
4. Partial credit (`--score progress`): episodes whose progress q in [0, 1] is Beta-distributed
   around each policy's mean progress, and a success where q >= 0.8; the same test on the same
   episodes, reading q or reading success.

A and B are independent given the seed (the least pairing helps). Episodes count both
policies. Every run is seeded: the same command prints the same tables.

Usage: python scripts/sequential_validity.py [--runs 2000] [--alpha 0.05]
           [--null-budget 200] [--null-n 100]
"""

from __future__ import annotations

import argparse
import math

import numpy as np

from librobot_gym.benchmarks.sequential.design import (
    fixed_sample_size,
    fixed_test_power,
    simulate_sequential,
)
from librobot_gym.benchmarks.sequential.pairtest import run_paths

NULLS = (0.2, 0.35, 0.5, 0.65, 0.8)
GAPS = (0.1, 0.2, 0.3, 0.4)


def monte_carlo_error(rate: float, runs: int) -> float:
    return math.sqrt(max(rate * (1 - rate), 1e-12) / runs)


def null_table(args) -> list[str]:
    lines = [f"| p_a = p_b | sequential: declares a winner (budget {args.null_budget} pairs) | "
             f"mean episodes | fixed ({args.null_n} per policy): declares a winner |",
             "|---|---|---|---|"]
    for index, p in enumerate(NULLS):
        plan = simulate_sequential(p, p, args.alpha, args.null_budget, 1, args.runs, index)
        fixed = fixed_test_power(p, p, args.null_n, args.alpha, args.runs, index)
        error = monte_carlo_error(plan.rejected, args.runs)
        lines.append(f"| {p:.2f} | {plan.rejected:.3f} ± {error:.3f} | "
                     f"{plan.mean_episodes:.0f} | {fixed:.3f} ± "
                     f"{monte_carlo_error(fixed, args.runs):.3f} |")
    return lines


def gap_table(args) -> list[str]:
    lines = ["| p_a | p_b | fixed: episodes | fixed: power | sequential: power (wrong way) | "
             "mean episodes | 90th pct | mean / fixed |", "|---|---|---|---|---|---|---|---|"]
    for index, gap in enumerate(GAPS):
        p_a, p_b = 0.5 + gap / 2, 0.5 - gap / 2
        n = fixed_sample_size(p_a, p_b, args.alpha, 0.8)
        power = fixed_test_power(p_a, p_b, n, args.alpha, args.runs, 100 + index)
        plan = simulate_sequential(p_a, p_b, args.alpha, 2 * n, 1, args.runs, 100 + index)
        lines.append(f"| {p_a:.2f} | {p_b:.2f} | {2 * n} | {power:.2f} | {plan.a_better:.2f} "
                     f"({plan.b_better:.3f}) | {plan.mean_episodes:.0f} | "
                     f"{plan.p90_episodes:.0f} | {plan.mean_episodes / (2 * n):.2f} |")
    return lines


def misplanned_table(args) -> list[str]:
    n = fixed_sample_size(0.55, 0.45, args.alpha, 0.8)
    lines = [f"| true p_a | true p_b | fixed (planned for 0.55 vs 0.45): episodes | "
             f"sequential (same budget, {2 * n}): power | mean episodes | 90th pct |",
             "|---|---|---|---|---|---|"]
    for index, gap in enumerate(GAPS):
        p_a, p_b = 0.5 + gap / 2, 0.5 - gap / 2
        plan = simulate_sequential(p_a, p_b, args.alpha, n, 1, args.runs, 200 + index)
        lines.append(f"| {p_a:.2f} | {p_b:.2f} | {2 * n} | {plan.a_better:.2f} | "
                     f"{plan.mean_episodes:.0f} | {plan.p90_episodes:.0f} |")
    return lines


def partial_credit_table(args, budget: int = 300, spread: float = 4.0) -> list[str]:
    lines = ["| mean progress A | B | success A | B | reading success: power | mean episodes | "
             "reading progress: power | mean episodes |", "|---|---|---|---|---|---|---|---|"]
    for index, (m_a, m_b) in enumerate(((0.6, 0.5), (0.5, 0.4), (0.4, 0.3), (0.7, 0.5))):
        rng = np.random.default_rng(300 + index)
        q_a = rng.beta(spread * m_a, spread * (1 - m_a), (args.runs, budget))
        q_b = rng.beta(spread * m_b, spread * (1 - m_b), (args.runs, budget))
        row = [f"{m_a:.1f}", f"{m_b:.1f}", f"{np.mean(q_a >= 0.8):.2f}",
               f"{np.mean(q_b >= 0.8):.2f}"]
        for d in ((q_a >= 0.8).astype(float) - (q_b >= 0.8), q_a - q_b):
            pairs, decision = run_paths(d, args.alpha)
            row += [f"{np.mean(decision > 0):.2f}", f"{2 * pairs.mean():.0f}"]
        lines.append("| " + " | ".join(row) + " |")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=2000, help="simulated experiments per row")
    parser.add_argument("--alpha", type=float, default=0.05, help="two-sided level")
    parser.add_argument("--null-budget", type=int, default=200,
                        help="pairs the sequential test may use under the null")
    parser.add_argument("--null-n", type=int, default=100,
                        help="episodes per policy of the fixed test under the null")
    args = parser.parse_args(argv)
    print(f"alpha {args.alpha:g}, {args.runs} simulated experiments per row (± one "
          f"Monte-Carlo standard error)\n")
    for title, table in (("Equal policies: type-I error", null_table),
                         ("A gap of 0.1-0.4: power and episodes (budget: twice the fixed "
                          "test's)", gap_table),
                         ("Planned for a gap of 0.1, run on larger gaps", misplanned_table),
                         ("Partial credit: the same episodes read as progress or as success "
                          "(budget 300 pairs)", partial_credit_table)):
        print(f"**{title}**\n")
        print("\n".join(table(args)) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
