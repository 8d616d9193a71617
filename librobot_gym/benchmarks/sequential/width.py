"""`bench run --until-width W`: play each (task, variant) cell of a card one episode at a time
until its anytime-valid interval (`betting.BettingCS`) is narrower than W, or its seeds run
out. An interval read after every episode and stopped on when it is narrow enough is still
valid: that is what a confidence sequence is for; a Wilson interval read that way would cover
less than it says.

The episodes go to the run `bench run` makes (`runner.open_run`), in the card's seed order;
each cell's interval is recomputed from its stored episodes in the order they finished, so a
killed run resumes where it was, and aborted episodes (replayed by a rerun) join when they
finish. Cells play one after another: a cell's env and policy are built once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from librobot_gym.benchmarks.cards import SuiteCard
from librobot_gym.benchmarks.executors import run_jobs
from librobot_gym.benchmarks.runner import open_run
from librobot_gym.benchmarks.sequential.betting import BettingCS, check_alpha
from librobot_gym.benchmarks.sequential.outcomes import check_progress, check_score, observed
from librobot_gym.benchmarks.sequential.record import save_decision
from librobot_gym.benchmarks.store import ResultsStore
from librobot_gym.errors import ConfigError


@dataclass
class CellWidth:
    """One cell: the episodes its interval used and where that interval stands."""

    env_id: str
    variant: str
    episodes: int
    available: int  # the card's seeds for the cell
    mean: float
    low: float
    high: float
    reached: bool  # narrower than the target

    @property
    def width(self) -> float:
        return self.high - self.low


@dataclass
class WidthResult:
    card: str
    policy: str
    run_id: str
    target: float
    alpha: float
    score: str
    cells: list[CellWidth] = field(default_factory=list)

    @property
    def episodes(self) -> int:
        return sum(cell.episodes for cell in self.cells)

    @property
    def card_episodes(self) -> int:
        return sum(cell.available for cell in self.cells)

    def summary(self) -> dict:
        return {**asdict(self), "episodes": self.episodes, "card_episodes": self.card_episodes,
                "verdict": f"{sum(c.reached for c in self.cells)} of {len(self.cells)} cells "
                           f"narrower than {self.target:g} after {self.episodes} episodes"}


def cell_interval(values: list[float], target: float, alpha: float) -> tuple[int, object]:
    """(episodes used, interval): the confidence sequence fed `values` in order until it is
    narrower than `target` (all of them if it never is)."""
    cs = BettingCS(alpha)
    interval = cs.interval
    for value in values:
        interval = cs.update(value)
        if interval.width < target:
            break
    return interval.n, interval


def check_width(width: float) -> float:
    if not 0.0 < width <= 1.0:
        raise ConfigError(f"--until-width {width}: give the interval width to reach, between "
                          f"0 and 1 (e.g. 0.3)")
    return float(width)


def run_until_width(card: SuiteCard, policy: str, store: ResultsStore, width: float,
                    alpha: float = 0.05, score: str = "success", backend: str = "sim",
                    executor: str = "local", workers: int = 1, videos: int = 0,
                    out_dir: str = "outputs/bench", seed_offset: int = 0,
                    driver: str | None = None, cameras: dict | None = None,
                    operator: str | None = None,
                    on_cell: Callable[[CellWidth], None] | None = None,
                    on_episode: Callable[[dict], None] | None = None,
                    on_step: Callable[[int, int], None] | None = None) -> WidthResult:
    """See the module docstring; `workers` episodes of a cell play at a time (a batch may
    run past the target: those episodes are stored, the interval stops where it was narrow).
    `on_cell(cell)` after each cell is done, `on_episode(record)` after each stored one."""
    width, score = check_width(width), check_score(score)
    try:
        alpha = check_alpha(alpha)
    except ValueError:
        raise ConfigError(f"--alpha {alpha} must be between 0 and 1 (e.g. 0.05)") from None
    run = open_run(card, policy, store, backend, executor, workers, videos, out_dir,
                   seed_offset, driver, cameras, operator)
    result = WidthResult(card.name, policy, run.run_id, width, alpha, score)
    key = hashlib.sha256(f"width|{run.run_id}|{width}|{alpha}|{score}".encode()).hexdigest()[:16]

    def record(episode: dict) -> None:
        run.record(episode)
        if on_episode is not None:
            on_episode(episode)

    for task in card.tasks:
        for variant in task.variants:
            seeds = [seed + seed_offset for seed in task.seeds]
            waiting = [j for j in run.pending if j.env_id == task.env and j.variant == variant]
            while True:
                frame = store.episodes_frame(run.run_id)
                check_progress(frame, score)
                seen = observed(frame, score, run.backend)
                values = [value for (env, var, seed), (value, _) in
                          sorted(seen.items(), key=lambda item: (item[1][1], item[0][2]))
                          if env == task.env and var == variant and seed in seeds]
                used, interval = cell_interval(values, width, alpha)
                cell = CellWidth(task.env, variant, used, len(seeds), interval.mean,
                                 interval.low, interval.high, interval.width < width)
                if cell.reached or not waiting:
                    break
                batch, waiting = waiting[:workers], waiting[workers:]
                run_jobs(batch, record, executor, workers, on_step)
            result.cells.append(cell)
            save_decision(store, key, "width", run.run_id, "", result.summary())
            if on_cell is not None:
                on_cell(cell)
    return result
