"""One episode's record (`EpisodeResult`) and the tally that makes it as the episode runs
(`EpisodeTally`): shared by the one-env loop (`rollout.run_episode`) and the batched one
(`batched.run_batched`)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field


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


class EpisodeTally:
    """What an episode's record counts as it runs (return, steps, first success, safety
    events) and the record it makes: shared by one env's loop and the batched one."""

    def __init__(self, env_id: str, policy: str, seed: int):
        self.env_id, self.policy, self.seed = env_id, policy, seed
        self.start = time.perf_counter()
        self.total, self.steps, self.first_success = 0.0, 0, None
        self.safety_events: dict[str, int] = {}
        self.info: dict = {"is_success": False, "success_once": False, "sim_unstable": False,
                           "task_metrics": {}}

    def reset(self, info: dict) -> None:
        self.info = info

    def step(self, reward: float, info: dict) -> None:
        self.steps += 1
        self.total += float(reward)
        self.info = info
        if info["is_success"] and self.first_success is None:
            self.first_success = self.steps
        for name, violated in info["safety"].items():
            self.safety_events[name] = self.safety_events.get(name, 0) + int(bool(violated))

    def result(self, aborted: bool = False, reason: str = "") -> EpisodeResult:
        info = self.info
        return EpisodeResult(
            env_id=self.env_id, policy=self.policy, seed=self.seed,
            instruction=str(info.get("instruction", "")), success=bool(info["is_success"]),
            success_once=bool(info["success_once"]), episode_return=self.total,
            length=self.steps, time_to_success=self.first_success,
            sim_unstable=bool(info["sim_unstable"]), safety_events=self.safety_events,
            task_metrics=dict(info["task_metrics"]),
            wall_time_s=time.perf_counter() - self.start, aborted=aborted,
            abort_reason=reason[:500])
