"""Record demonstrations: roll a policy out in an env and write a LeRobot v3 dataset.

    librobot collect librobot/Franka-PickCup-v0 --policy expert --episodes 100 --out data/pickcup

Every step records each camera's image, the proprioceptive state, the action sent, the
instruction, and what the step returned (reward, done, success). Episode i is reset with seed
`seed + i`, like benchmark rollouts, so a dataset can be regenerated exactly. Each finished
episode is on disk before the next starts; running the same command again on a folder that a
killed run left behind continues it up to `episodes` in total (same seeds), and refuses a folder
recorded from another env, policy, seed or camera size.

`randomize` ("lighting,camera", or "all") records domain-randomised demonstrations: each
episode runs under one level per factor drawn from its seed, recorded in the episodes table's
`variant` column (`training/data/randomize.py`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import gymnasium as gym
import numpy as np

from librobot_gym.training.data.lerobot import (
    DEFAULT_VIDEO,
    IMAGE_PREFIX,
    LeRobotWriter,
    VideoSettings,
    make_features,
)


@dataclass
class CollectedEpisode:
    """What `on_episode` receives after each saved episode."""

    episode_index: int
    seed: int
    instruction: str
    length: int
    success: bool
    episode_return: float
    wall_time_s: float
    total_episodes: int  # the target: episodes in the dataset when collection ends
    variant: str = "default"  # the variant (combination) the episode ran under


@dataclass
class CollectSummary:
    path: Path
    episodes: list[CollectedEpisode] = field(default_factory=list)  # recorded by this call
    total_episodes: int = 0  # in the dataset, including episodes recorded before
    total_frames: int = 0
    wall_time_s: float = 0.0

    @property
    def success_rate(self) -> float:
        return float(np.mean([e.success for e in self.episodes])) if self.episodes else 0.0


def _names(fields, prefix: str = "") -> list[str]:
    names = []
    for f in fields:
        names += [f.name] if f.size == 1 else [f"{f.name}_{i}" for i in range(f.size)]
    return [prefix + n for n in names]


def writer_for_env(env: gym.Env, out: str | Path, identity: dict,
                   video: VideoSettings = DEFAULT_VIDEO) -> LeRobotWriter:
    """A writer whose features describe `env`'s rgb observations and actions."""
    base = env.unwrapped
    fps = env.metadata.get("render_fps", 20)
    features = make_features({c: base.camera_size for c in base.cameras},
                             _names(base.robot.proprio),
                             [d.name for d in base.action_spec.dims], fps, video)
    return LeRobotWriter(out, fps, features, robot_type=base.robot.name, identity=identity,
                         video=video)


def record_episode(env: gym.Env, policy, writer: LeRobotWriter, seed: int,
                   variant: str | None = None, **extra) -> CollectedEpisode:
    """Run one seeded episode (under `variant` when given, which its row records), adding every
    step to `writer`, then save it (`extra`: more columns of its row in the episodes table,
    e.g. the env id of a multi-task dataset)."""
    start = time.perf_counter()
    if variant is not None:
        extra["variant"] = variant
    obs, info = env.reset(seed=seed, options=None if variant is None else {"variant": variant})
    ran_under = info.get("variant", "default")
    policy.reset(seed=seed)
    total, steps = 0.0, 0
    try:
        while True:
            action = np.asarray(policy.act(obs), dtype=np.float32)
            next_obs, reward, terminated, truncated, info = env.step(action)
            frame = {IMAGE_PREFIX + c: image for c, image in obs["images"].items()}
            frame.update({"observation.state": obs["state"], "action": action,
                          "next.reward": float(reward), "next.done": terminated or truncated,
                          "next.success": bool(info["is_success"]),
                          "task": obs["instruction"]})
            writer.add_frame(frame)
            total += float(reward)
            steps += 1
            obs = next_obs
            if terminated or truncated:
                break
        success = bool(info["success_once"])
        index = writer.save_episode(success=success, seed=seed, episode_return=total, **extra)
    except BaseException:
        writer.discard_episode()
        raise
    return CollectedEpisode(index, seed, str(info.get("instruction", "")), steps, success,
                            total, time.perf_counter() - start, 0, ran_under)


def collect(env_id: str, policy_spec: str, episodes: int, out: str | Path, seed: int = 0,
            camera_size: int | tuple[int, int] = 128,
            on_episode: Callable[[CollectedEpisode], None] | None = None,
            video: VideoSettings = DEFAULT_VIDEO,
            on_start: Callable[[int, int], None] | None = None,
            randomize: str | Sequence[str] | None = None) -> CollectSummary:
    """Record until the dataset at `out` holds `episodes` episodes (see the module docstring);
    `on_start(episodes, already_there)` runs once the env, policy and folder are checked,
    `on_episode` after each episode is saved; `randomize`: factors to randomise per episode."""
    from librobot_gym.envs.registration import check_env_id
    from librobot_gym.policies import make_policy
    from librobot_gym.training.data.randomize import randomizer

    start = time.perf_counter()
    check_env_id(env_id)
    draws = randomizer(env_id, randomize) if randomize else None
    env = gym.make(env_id, obs_mode="rgb", camera_size=camera_size)
    try:
        policy = make_policy(policy_spec, env, seed=seed)
        identity = {"env_id": env_id, "policy": policy_spec, "seed": seed,
                    "camera_size": list(env.unwrapped.camera_size), "obs_mode": "rgb",
                    "control_mode": env.unwrapped.control_mode}
        if draws is not None:  # a folder randomised otherwise is another dataset
            identity["randomize"] = draws.spec
        writer = writer_for_env(env, out, identity, video)
        summary = CollectSummary(Path(out))
        if on_start is not None:
            on_start(episodes, writer.num_episodes)
        with writer:
            for index in range(writer.num_episodes, episodes):
                variant = None if draws is None else draws.draw(seed + index).name
                record = record_episode(env, policy, writer, seed + index, variant)
                record.total_episodes = episodes
                summary.episodes.append(record)
                if on_episode is not None:
                    on_episode(record)
            summary.total_episodes, summary.total_frames = writer.num_episodes, writer.num_frames
    finally:
        env.close()
    summary.wall_time_s = time.perf_counter() - start
    return summary
