"""Roll a policy out on an env for N seeded episodes; record results and, optionally, a video.

Each finished episode is appended to a JSON-lines file at once, and the video is written frame by
frame, so a run that is killed keeps every episode it finished.
"""

from __future__ import annotations

import json
import platform
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from importlib.metadata import version as package_version
from pathlib import Path

import gymnasium as gym
import numpy as np

from librobot_gym.errors import ConfigError
from librobot_gym.policies import Policy, make_policy


@dataclass
class EpisodeResult:
    """One episode's record, as stored in the results file."""

    env_id: str
    policy: str
    seed: int
    instruction: str
    success: bool
    success_once: bool
    episode_return: float
    length: int
    time_to_success: int | None  # control steps until the first success
    sim_unstable: bool
    safety_events: dict[str, int] = field(default_factory=dict)
    task_metrics: dict[str, float] = field(default_factory=dict)
    wall_time_s: float = 0.0
    aborted: bool = False  # a hardware fault or the operator stopped it: not scored
    abort_reason: str = ""


@dataclass
class RolloutSummary:
    env_id: str
    policy: str
    episodes: list[EpisodeResult]
    results_path: Path | None
    video_path: Path | None

    @property
    def scored(self) -> list[EpisodeResult]:
        """The episodes that count: aborted ones (a hardware fault, the operator) say nothing
        about the policy, as in a benchmark run's score."""
        return [e for e in self.episodes if not e.aborted]

    @property
    def aborted(self) -> list[EpisodeResult]:
        return [e for e in self.episodes if e.aborted]

    @property
    def success_rate(self) -> float:
        """Success over the scored episodes (NaN when every episode aborted)."""
        scored = self.scored
        return float(np.mean([e.success_once for e in scored])) if scored else float("nan")

    @property
    def mean_return(self) -> float:
        scored = self.scored
        return float(np.mean([e.episode_return for e in scored])) if scored else float("nan")


def run_episode(env: gym.Env, policy: Policy, seed: int, env_id: str,
                on_frame: Callable[[np.ndarray], None] | None = None) -> EpisodeResult:
    """One episode from `reset(seed=seed)` to termination or truncation.

    On real hardware a fault (a `DriverError`: disconnect, robot reflex, safety stop, camera)
    or the operator's refusal (`EpisodeAborted`) ends the episode early: the robot has been
    stopped by then, and the episode comes back marked `aborted` with the reason, so it is
    recorded rather than lost and not scored as a failure of the policy. The next
    `env.reset()` reconnects.
    """
    from librobot_gym.hardware.console import EpisodeAborted
    from librobot_gym.hardware.driver import DriverError

    start = time.perf_counter()
    total, steps, first_success = 0.0, 0, None
    safety_events: dict[str, int] = {}
    info: dict = {"is_success": False, "success_once": False, "sim_unstable": False,
                  "task_metrics": {}}
    try:
        obs, info = env.reset(seed=seed)
        policy.reset(seed=seed)
        if on_frame is not None:
            on_frame(env.render())
        while True:
            obs, reward, terminated, truncated, info = env.step(policy.act(obs))
            steps += 1
            total += float(reward)
            if info["is_success"] and first_success is None:
                first_success = steps
            for name, violated in info["safety"].items():
                safety_events[name] = safety_events.get(name, 0) + int(bool(violated))
            if on_frame is not None:
                on_frame(env.render())
            if terminated or truncated:
                break
        aborted, reason = False, ""
    except (DriverError, EpisodeAborted) as error:
        aborted, reason = True, f"{type(error).__name__}: {error}"
    return EpisodeResult(
        env_id=env_id, policy=policy.card.name, seed=seed,
        instruction=str(info.get("instruction", "")), success=bool(info["is_success"]),
        success_once=bool(info["success_once"]), episode_return=total, length=steps,
        time_to_success=first_success, sim_unstable=bool(info["sim_unstable"]),
        safety_events=safety_events, task_metrics=dict(info["task_metrics"]),
        wall_time_s=time.perf_counter() - start, aborted=aborted, abort_reason=reason[:500],
    )


def software_versions() -> dict[str, str]:
    import gymnasium
    import mujoco

    return {"librobot_gym": package_version("librobot-gym"), "mujoco": mujoco.__version__,
            "gymnasium": gymnasium.__version__, "numpy": np.__version__,
            "python": platform.python_version()}


def check_seed(seed: int, what: str) -> None:
    """A one-line ConfigError naming `what` unless `seed` is an integer >= 0 (numpy's and
    gymnasium's seeding refuse anything else, with a traceback)."""
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ConfigError(f"{what} is {seed!r}; seeds are integers >= 0")


def rollout(
    env_id: str,
    policy_name: str = "expert",
    episodes: int = 10,
    seed: int = 0,
    video_path: str | Path | None = None,
    results_path: str | Path | None = None,
    env_kwargs: dict | None = None,
    on_episode: Callable[[EpisodeResult], None] | None = None,
) -> RolloutSummary:
    """Run `episodes` episodes with seeds seed, seed+1, ...; see the module docstring."""
    check_seed(seed, "seed (--seed)")
    env_kwargs = dict(env_kwargs or {})
    if video_path is not None:
        env_kwargs.setdefault("render_mode", "rgb_array")
    env = gym.make(env_id, **env_kwargs)
    writer = None
    results_file = None
    try:
        policy = make_policy(policy_name, env, seed=seed)
        if video_path is not None:
            import imageio.v2 as imageio

            video_path = Path(video_path)
            video_path.parent.mkdir(parents=True, exist_ok=True)
            writer = imageio.get_writer(video_path, fps=env.metadata.get("render_fps", 20),
                                        macro_block_size=8)
        if results_path is not None:
            results_path = Path(results_path)
            results_path.parent.mkdir(parents=True, exist_ok=True)
            results_file = results_path.open("a", encoding="utf-8")
        versions = software_versions()
        records = []
        for i in range(episodes):
            result = run_episode(env, policy, seed + i, env_id,
                                 writer.append_data if writer is not None else None)
            records.append(result)
            if results_file is not None:
                results_file.write(json.dumps({**asdict(result), "versions": versions}) + "\n")
                results_file.flush()
            if on_episode is not None:
                on_episode(result)
        return RolloutSummary(env_id, policy_name, records, results_path, video_path)
    finally:
        if writer is not None:
            writer.close()
        if results_file is not None:
            results_file.close()
        env.close()
