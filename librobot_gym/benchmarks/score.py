"""Scores of a run: success per task with Wilson intervals, an IQM of task success rates with a
stratified bootstrap interval, and task metrics averaged per policy.

A run of a card with variants (`lighting:dark`, `camera:shift_1`, ...) is also scored per
variant (`variant_scores`): success per (task, variant) with its Wilson interval; the drop from
`default` (default's success minus the variant's, positive = the variant hurts) over the seeds
both played, with Newcombe's paired interval; the same per factor, pooled over the factor's
levels and tasks; and SimplerEnv's variant aggregation (the plain mean over a task's variants,
then over tasks) with a stratified bootstrap interval. The headline IQM is unchanged: a task's
success there pools its episodes over every variant."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from librobot_gym.benchmarks.stats import (
    aggregate_metrics,
    aggregate_success_ci,
    mean_of_means_ci,
    paired_difference,
    wilson_interval,
)

DEFAULT = "default"


@dataclass
class TaskScore:
    env_id: str
    episodes: int
    successes: int
    rate: float
    low: float
    high: float
    mean_return: float
    mean_length: float
    metrics: dict[str, float]
    safety_events: int


@dataclass
class VariantScore:
    """One variant of one task (`env_id` "*" for a factor's row, pooled over its tasks):
    success with its Wilson interval, and the drop from `default` over `pairs` seeds played
    under both (nan without a default)."""

    env_id: str
    variant: str  # "default", "factor:level", or the factor's name on a factor row
    factor: str
    episodes: int
    successes: int
    rate: float
    low: float
    high: float
    pairs: int = 0
    drop: float = float("nan")  # success under default minus under this variant
    drop_low: float = float("nan")
    drop_high: float = float("nan")


@dataclass
class VariantReport:
    """Per-variant and per-factor success of a run with variants, and SimplerEnv's aggregate
    (plain mean over each task's variants, then over tasks) per task and overall."""

    variants: list[VariantScore]  # per (task, variant), in the card's order within a task
    factors: list[VariantScore]  # per factor over its levels and tasks, default first
    task_means: dict[str, tuple[float, float, float]]  # env_id -> (mean, low, high)
    mean: float
    mean_low: float
    mean_high: float


@dataclass
class RunScore:
    tasks: list[TaskScore]
    iqm: float
    iqm_low: float
    iqm_high: float
    episodes: int
    variants: VariantReport | None = None  # None when every episode is the default


def score_episodes(frame) -> RunScore:
    """Score one run's episodes (a DataFrame from `ResultsStore.episodes_frame`). Aborted
    episodes (hardware faults) are not scored as policy failures."""
    frame = frame[~frame["aborted"].astype(bool)] if len(frame) else frame
    tasks, per_task = [], {}
    for env_id, group in frame.groupby("env_id", sort=True):
        successes = group["success_once"].astype(bool).to_numpy()
        low, high = wilson_interval(int(successes.sum()), len(successes))
        metrics = aggregate_metrics(list(group["task_metrics"]))
        safety = sum(sum(events.values()) for events in group["safety_events"])
        tasks.append(TaskScore(
            env_id=str(env_id), episodes=len(successes), successes=int(successes.sum()),
            rate=float(successes.mean()), low=low, high=high,
            mean_return=float(group["episode_return"].mean()),
            mean_length=float(group["length"].mean()),
            metrics={name: stats["mean"] for name, stats in metrics.items()},
            safety_events=int(safety),
        ))
        per_task[str(env_id)] = successes.astype(float)
    if per_task:
        iqm, low, high = aggregate_success_ci(per_task)
    else:
        iqm = low = high = float("nan")
    return RunScore(tasks, float(iqm), float(low), float(high), int(len(frame)),
                    variant_scores(frame))


def factor_of(variant: str) -> str:
    """The factor a stored variant name belongs to: "lighting:dark" -> "lighting"; a
    combination's factors joined, "camera:shift_1+lighting:dark" -> "camera+lighting" (a row
    of its own: what the factors do together)."""
    return "+".join(part.partition(":")[0] for part in variant.split("+"))


def _row(env_id: str, variant: str, factor: str, outcomes, defaults) -> VariantScore:
    """A row from its outcomes ({seed: success}) and the default's on the same task(s)."""
    flags = list(outcomes.values())
    low, high = wilson_interval(sum(flags), len(flags))
    row = VariantScore(env_id, variant, factor, len(flags), sum(flags),
                       sum(flags) / len(flags), low, high)
    if variant != DEFAULT and defaults:
        seeds = sorted(set(outcomes) & set(defaults))
        if seeds:
            row.pairs = len(seeds)
            row.drop, row.drop_low, row.drop_high = paired_difference(
                [defaults[s] for s in seeds], [outcomes[s] for s in seeds])
    return row


def variant_scores(frame) -> VariantReport | None:
    """The per-variant report of a run's scored episodes (see the module docstring), or None
    when they are all `default`. Pairs are (task, seed): a factor's drop pools every pair of
    its levels and tasks, so each level of each task weighs by its episodes."""
    if not len(frame) or set(frame["variant"].fillna(DEFAULT)) <= {DEFAULT}:
        return None
    cells: dict[str, dict[str, dict[int, bool]]] = {}  # env -> variant -> seed -> success
    for env_id, variant, seed, success in zip(frame["env_id"], frame["variant"].fillna(DEFAULT),
                                              frame["seed"], frame["success_once"],
                                              strict=True):
        cells.setdefault(str(env_id), {}).setdefault(str(variant), {})[int(seed)] = bool(success)
    rows, pooled = [], {}  # pooled: factor -> (outcomes, defaults), keyed by (env, variant, seed)
    for env_id in sorted(cells):
        defaults = cells[env_id].get(DEFAULT, {})
        for variant, outcomes in cells[env_id].items():
            factor = factor_of(variant)
            rows.append(_row(env_id, variant, factor, outcomes, defaults))
            mine, base = pooled.setdefault(factor, ({}, {}))
            for seed, success in outcomes.items():
                mine[(env_id, variant, seed)] = success
                if seed in defaults:
                    base[(env_id, variant, seed)] = defaults[seed]
    factors = [_row("*", factor, factor, *pooled[factor])
               for factor in sorted(pooled, key=lambda f: (f != DEFAULT, f))]
    groups = {env_id: [np.array(list(o.values()), dtype=float) for o in cells[env_id].values()]
              for env_id in sorted(cells)}
    task_means = {env_id: mean_of_means_ci({env_id: groups[env_id]}) for env_id in groups}
    mean, low, high = mean_of_means_ci(groups)
    return VariantReport(rows, factors, task_means, mean, low, high)
