"""Scores of a run: success per task with Wilson intervals, an IQM of task success rates with a
stratified bootstrap interval, and task metrics averaged per policy."""

from __future__ import annotations

from dataclasses import dataclass

from librobot_gym.benchmarks.stats import (
    aggregate_metrics,
    aggregate_success_ci,
    wilson_interval,
)


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
class RunScore:
    tasks: list[TaskScore]
    iqm: float
    iqm_low: float
    iqm_high: float
    episodes: int


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
    return RunScore(tasks, float(iqm), float(low), float(high), int(len(frame)))
