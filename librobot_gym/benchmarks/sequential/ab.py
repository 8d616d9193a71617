"""`bench ab`: policy A against policy B on a card's paired seeds, interleaved, until the
anytime-valid test (`pairtest`) decides or the episode budget runs out.

A round plays the next seed of every (task, variant) cell of the card with A and with B (A then
B, cell by cell), and feeds the test the round's pairs, read at the round's end, so the decision
is about the card's plain mean over its cells (`pairtest.PairedTest.update_round`).

The episodes go to the runner's store under the same runs `bench run` makes for each policy
(`runner.open_run`): a killed comparison resumes where it stopped, and episodes either command
stored are shared. The test state is recomputed from the stored episodes at every round, from
the rounds in the order they were completed (a round whose episode aborted completes when a
rerun replays it), so nothing but the store carries it. The test also stops, undecided, once no
outcome of the rounds left in the budget could make it decide.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np

from librobot_gym.benchmarks.cards import SuiteCard
from librobot_gym.benchmarks.executors import run_jobs
from librobot_gym.benchmarks.runner import OpenRun, open_run
from librobot_gym.benchmarks.sequential.design import fixed_means_size, fixed_sample_size
from librobot_gym.benchmarks.sequential.outcomes import check_progress, check_score, observed
from librobot_gym.benchmarks.sequential.pairtest import (
    UNDECIDED,
    DifferenceCS,
    PairedTest,
    TestState,
)
from librobot_gym.benchmarks.sequential.record import save_decision
from librobot_gym.benchmarks.store import ResultsStore
from librobot_gym.errors import ConfigError

POWER = 0.8  # the fixed-size design reported next to the sequential one


@dataclass
class ABResult:
    """Where a comparison stands: the decision after `rounds` rounds (each: every cell once per
    policy), the means over those rounds, the anytime-valid interval of mean(A) - mean(B), and
    the episodes per policy a fixed-size test planned at the observed means would need."""

    card: str
    policy_a: str
    policy_b: str
    run_a: str
    run_b: str
    alpha: float
    score: str
    cells: int
    max_rounds: int
    rounds: int
    decision: str  # "A better", "B better", "no difference detectable" (so far, or within N)
    e_value: float
    mean_a: float
    mean_b: float
    diff_low: float
    diff_high: float
    fixed_per_policy: int | None
    finished: bool  # decided, or the budget is spent: rerunning adds nothing
    futile: bool = False  # undecided and stopped early: no outcome left could decide

    @property
    def episodes(self) -> int:
        """Episodes the test used, both policies together."""
        return 2 * self.cells * self.rounds

    @property
    def max_episodes(self) -> int:
        """The budget per policy (--max-episodes, rounded down to whole rounds)."""
        return self.cells * self.max_rounds

    @property
    def verdict(self) -> str:
        """The decision in words, naming the policies."""
        if self.decision == UNDECIDED:
            if self.finished:  # the budget is spent, or what is left of it could not decide
                return f"no difference detectable within {2 * self.max_episodes} episodes"
            return f"no difference detectable yet after {self.episodes} episodes"
        better, worse = ((self.policy_a, self.policy_b) if self.decision.startswith("A")
                         else (self.policy_b, self.policy_a))
        return f"{better} better than {worse}"

    def summary(self) -> dict:
        return {**asdict(self), "episodes": self.episodes, "max_episodes": self.max_episodes,
                "verdict": self.verdict}


def ab_key(run_a: str, run_b: str, alpha: float, score: str, max_rounds: int) -> str:
    text = f"ab|{run_a}|{run_b}|{alpha}|{score}|{max_rounds}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def card_cells(card: SuiteCard) -> list[tuple[str, str]]:
    """(env id, variant) of every cell of the card, in its order."""
    return [(task.env, variant) for task in card.tasks for variant in task.variants]


def _rounds(card: SuiteCard, seed_offset: int) -> list[list[tuple[str, str, int]]]:
    """Round i: the i-th seed of every cell (as many rounds as the shortest task has seeds)."""
    count = min(task.episodes for task in card.tasks)
    return [[(task.env, variant, task.seeds[i] + seed_offset) for task in card.tasks
             for variant in task.variants] for i in range(count)]


def evaluate(card: SuiteCard, store: ResultsStore, run_a: OpenRun, run_b: OpenRun,
             policies: tuple[str, str], alpha: float, score: str, max_rounds: int,
             seed_offset: int = 0) -> tuple[ABResult, set[int]]:
    """The test replayed over the stored rounds (see the module docstring); also the indices
    of the complete rounds."""
    frames = [store.episodes_frame(run.run_id) for run in (run_a, run_b)]
    for frame in frames:
        check_progress(frame, score)
    seen = [observed(frame, score, run.backend) for frame, run in zip(frames, (run_a, run_b),
                                                                       strict=True)]
    complete = []
    for index, cells in enumerate(_rounds(card, seed_offset)):
        if all(key in seen[0] and key in seen[1] for key in cells):
            finished = max(max(seen[0][k][1], seen[1][k][1]) for k in cells)
            diffs = [seen[0][k][0] - seen[1][k][0] for k in cells]
            values = ([seen[0][k][0] for k in cells], [seen[1][k][0] for k in cells])
            complete.append((finished, index, diffs, values))
    complete.sort(key=lambda item: (item[0], item[1]))
    cells = len(card_cells(card))
    test, cs = PairedTest(alpha, max_rounds, cells), DifferenceCS(alpha)
    state, used_a, used_b = TestState(0, 0.0, 0.0, UNDECIDED), [], []
    for _, _, diffs, (values_a, values_b) in complete[:max_rounds]:
        if state.finished:
            break
        state = test.update_round(diffs)
        cs.update_round(diffs)
        used_a += values_a
        used_b += values_b
    mean_a = float(np.mean(used_a)) if used_a else float("nan")
    mean_b = float(np.mean(used_b)) if used_b else float("nan")
    fixed = None
    if used_a and mean_a != mean_b:
        fixed = (fixed_sample_size(mean_a, mean_b, alpha, POWER) if score == "success" else
                 fixed_means_size(mean_a - mean_b, float(np.var(used_a)), float(np.var(used_b)),
                                  alpha, POWER))
    result = ABResult(
        card.name, policies[0], policies[1], run_a.run_id, run_b.run_id, alpha, score,
        cells, max_rounds, state.pairs, state.decision, state.e_value, mean_a, mean_b,
        float(cs.low), float(cs.high), fixed, state.finished or state.pairs >= max_rounds,
        state.futile)
    return result, {index for _, index, _, _ in complete}


def run_ab(card: SuiteCard, policy_a: str, policy_b: str, store: ResultsStore,
           alpha: float = 0.05, max_episodes: int | None = None, score: str = "success",
           backend: str = "sim", executor: str = "local", workers: int = 1,
           out_dir: str = "outputs/bench", seed_offset: int = 0, driver: str | None = None,
           cameras: dict | None = None, operator: str | None = None,
           on_round: Callable[[ABResult], None] | None = None,
           on_episode: Callable[[dict], None] | None = None,
           on_step: Callable[[int, int], None] | None = None) -> ABResult:
    """Compare `policy_a` with `policy_b` on `card` (module docstring); `max_episodes` per
    policy (default: every episode of the card). `on_round(result)` after each round,
    `on_episode(record)` after each stored episode."""
    check_score(score)
    if policy_a == policy_b:
        raise ConfigError(f"--policy {policy_a} is given twice; compare two different policies")
    if not 0.0 < alpha < 1.0:
        raise ConfigError(f"--alpha {alpha} must be between 0 and 1 (e.g. 0.05)")
    cells = len(card_cells(card))
    available = cells * min(task.episodes for task in card.tasks)
    max_episodes = available if max_episodes is None else max_episodes
    if max_episodes < cells or max_episodes > available:
        raise ConfigError(f"--max-episodes {max_episodes}: {card.name} holds {available} "
                          f"paired episodes per policy ({cells} cells x "
                          f"{available // cells} seeds); choose {cells} to {available}, or "
                          f"edit a copy of the card with more episodes per task")
    max_rounds = max_episodes // cells
    fresh = PairedTest(alpha)
    if not fresh.reachable(max_rounds * cells):  # even a clean sweep could not decide
        least = next(n for n in range(1, 10_000) if fresh.reachable(n))
        raise ConfigError(f"--max-episodes {max_episodes}: at --alpha {alpha:g} the test "
                          f"needs at least {least} pairs to decide even if one policy wins "
                          f"every one; give --max-episodes {-(-least // cells) * cells} or "
                          f"more")
    opened = [open_run(card, policy, store, backend, executor, workers, 0, out_dir,
                       seed_offset, driver, cameras, operator) for policy in (policy_a, policy_b)]
    pending = [{(j.env_id, j.seed, j.variant): j for j in run.pending} for run in opened]
    rounds = _rounds(card, seed_offset)
    key = ab_key(opened[0].run_id, opened[1].run_id, alpha, score, max_rounds)
    tried: set[int] = set()

    by_policy = dict(zip((policy_a, policy_b), opened, strict=True))

    def record(result: dict) -> None:
        by_policy[result["policy"]].record(result)
        if on_episode is not None:
            on_episode(result)

    while True:
        result, complete = evaluate(card, store, opened[0], opened[1], (policy_a, policy_b),
                                    alpha, score, max_rounds, seed_offset)
        save_decision(store, key, "ab", result.run_a, result.run_b, result.summary())
        if on_round is not None:
            on_round(result)
        todo = [i for i in range(len(rounds)) if i not in complete and i not in tried]
        if result.finished or not todo:
            return result
        # As many rounds at once as the workers can play (one at a time on one robot); in a
        # round A then B, cell by cell.
        batch = todo[:max(1, workers // (2 * cells))]
        tried.update(batch)
        jobs = [job for index in batch for env_id, variant, seed in rounds[index]
                for waiting in pending if (job := waiting.pop((env_id, seed, variant), None))]
        run_jobs(jobs, record, executor, workers, on_step)
