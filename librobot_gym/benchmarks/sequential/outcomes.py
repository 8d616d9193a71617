"""What a sequential run reads from each stored episode: a number in [0, 1], in the order the
episodes were observed.

`success`: 1 for a success (success_once), else 0. `progress` (partial credit): the task's
`progress` metric, 0-1 in simulation (drawers, hauling) and the operator's 0-100 label on
hardware (divided by 100); a success counts 1 whatever the metric says, and an episode nobody
scored (NaN: `--operator auto`) counts as its success. A bounded score separates policies that
both fail often but get different distances towards the goal, where success alone sees ties.

Aborted episodes (a hardware fault, the operator stopped it) say nothing about the policy and
are never read, as in every score; a rerun replays them and they join at the time they finish.
"""

from __future__ import annotations

import math

from librobot_gym.errors import ConfigError

SCORES = ("success", "progress")


def check_score(score: str) -> str:
    if score not in SCORES:
        raise ConfigError(f"--score {score!r} is not one of {', '.join(SCORES)}")
    return score


def outcome(success: bool, metrics: dict, score: str, backend: str) -> float:
    """One episode's value in [0, 1] under `score` (see the module docstring)."""
    if score == "success" or success:
        return 1.0 if success else 0.0
    value = metrics.get("progress") if isinstance(metrics, dict) else None
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return 0.0
    value = float(value) / (100.0 if backend == "real" else 1.0)
    return min(max(value, 0.0), 1.0)


def check_progress(frame, score: str) -> None:
    """With `score` "progress", a ConfigError naming the tasks whose scored episodes report no
    `progress` metric (their partial credit would silently be their success)."""
    if score != "progress" or not len(frame):
        return
    scored = frame[~frame["aborted"].astype(bool)]
    missing = sorted({str(env) for env, metrics in zip(scored["env_id"], scored["task_metrics"],
                                                      strict=True)
                      if not isinstance(metrics, dict) or "progress" not in metrics})
    if missing:
        raise ConfigError(f"--score progress: {', '.join(missing)} report no progress metric "
                          f"(drawer and hauling tasks do, and the operator's label on "
                          f"hardware); use --score success for them")


def observed(frame, score: str, backend: str) -> dict[tuple[str, str, int], tuple[float, object]]:
    """{(env_id, variant, seed): (value, stored_at)} of a run's scored episodes."""
    if not len(frame):
        return {}
    scored = frame[~frame["aborted"].astype(bool)]
    return {(str(env), str(variant or "default"), int(seed)):
            (outcome(bool(ok), metrics, score, backend), when)
            for env, variant, seed, ok, metrics, when in zip(
                scored["env_id"], scored["variant"], scored["seed"], scored["success_once"],
                scored["task_metrics"], scored["created_at"], strict=True)}
