"""Record one multi-task dataset: expert demonstrations of several envs in one LeRobot folder.

    collect_multitask(["librobot/Franka-PickCup-v1", "librobot/Franka-StackBlocks-v0"],
                      episodes_per_task=200, out="data/tabletop-64", camera_size=64)

A multi-task VLA trains on one dataset whose episodes come from several tasks; the instruction
(stored per frame as the LeRobot "task") is what tells them apart, and the episodes table gets an
`env_id` column saying where each came from. One folder, not one per task, so the action and
proprio statistics (the normaliser) are computed over all tasks together and `librobot train`
reads it like any other dataset. Every env must share one robot (same cameras, proprio and action
layout): the tabletop tasks of one arm do.

Episodes are recorded task after task: task k's episode i is reset with seed `seed + i`, like
`collect`. The folder remembers the env list, episode count, policy, seed and camera size; running
again continues a killed run (same episodes, same seeds) and refuses a different recipe.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import gymnasium as gym

from librobot_gym.errors import ConfigError
from librobot_gym.training.data.base import DatasetError
from librobot_gym.training.data.collect import CollectedEpisode, record_episode, writer_for_env
from librobot_gym.training.data.lerobot import DEFAULT_VIDEO, VideoSettings


@dataclass
class MultitaskSummary:
    path: Path
    episodes: dict[str, list[CollectedEpisode]] = field(default_factory=dict)  # by env, this call
    total_episodes: int = 0
    total_frames: int = 0
    wall_time_s: float = 0.0

    def success_rate(self, env_id: str) -> float:
        """The expert's success over the episodes of `env_id` recorded by this call."""
        found = self.episodes.get(env_id, [])
        return sum(e.success for e in found) / len(found) if found else float("nan")


def _layout(env: gym.Env) -> tuple:
    """What must match for two envs to share a dataset: robot, cameras, proprio, actions."""
    base = env.unwrapped
    return (base.robot.name, tuple(base.cameras), tuple(f.name for f in base.robot.proprio),
            tuple(d.name for d in base.action_spec.dims))


def collect_multitask(env_ids: Sequence[str], episodes_per_task: int, out: str | Path,
                      policy_spec: str = "expert", seed: int = 0,
                      camera_size: int | tuple[int, int] = 128,
                      on_episode: Callable[[str, CollectedEpisode], None] | None = None,
                      video: VideoSettings = DEFAULT_VIDEO) -> MultitaskSummary:
    """Record `episodes_per_task` episodes of each env into one dataset at `out` (see the
    module docstring); `on_episode(env_id, record)` runs after each saved episode."""
    from librobot_gym.envs.registration import check_env_id
    from librobot_gym.policies import make_policy

    env_ids = list(env_ids)
    if not env_ids:
        raise ConfigError("no env ids given: name at least one task to record")
    if len(set(env_ids)) != len(env_ids):
        raise ConfigError(f"env ids repeat in {env_ids}: name each task once")
    if episodes_per_task < 1:
        raise ConfigError(f"episodes_per_task={episodes_per_task}: record at least 1 per task")
    for env_id in env_ids:
        check_env_id(env_id)
    start = time.perf_counter()
    envs = {e: gym.make(e, obs_mode="rgb", camera_size=camera_size) for e in env_ids}
    summary = MultitaskSummary(Path(out))
    try:
        first = envs[env_ids[0]]
        for env_id, env in envs.items():
            if _layout(env) != _layout(first):
                raise DatasetError(f"{env_id} records a different robot or layout than "
                                   f"{env_ids[0]}; a multi-task dataset takes one robot's tasks")
        identity = {"env_ids": env_ids, "episodes_per_task": episodes_per_task,
                    "policy": policy_spec, "seed": seed,
                    "camera_size": list(first.unwrapped.camera_size), "obs_mode": "rgb",
                    "control_mode": first.unwrapped.control_mode}
        writer = writer_for_env(first, out, identity, video)
        policies = {e: make_policy(policy_spec, env, seed=seed) for e, env in envs.items()}
        with writer:
            for index in range(writer.num_episodes, episodes_per_task * len(env_ids)):
                env_id = env_ids[index // episodes_per_task]
                env, episode = envs[env_id], index % episodes_per_task
                record = record_episode(env, policies[env_id], writer, seed + episode,
                                        env_id=env_id)
                record.total_episodes = episodes_per_task * len(env_ids)
                summary.episodes.setdefault(env_id, []).append(record)
                if on_episode is not None:
                    on_episode(env_id, record)
            summary.total_episodes, summary.total_frames = writer.num_episodes, writer.num_frames
    finally:
        for env in envs.values():
            env.close()
    summary.wall_time_s = time.perf_counter() - start
    return summary



def _record_shard(job: tuple[str, int, str, str, int, int | tuple[int, int]]) -> tuple[str, int,
                                                                                      int, float]:
    """One worker process's share: episodes of one env on consecutive seeds, its own folder."""
    env_id, episodes, out, policy_spec, seed, camera_size = job
    # A spawned worker imports this module to unpickle the job, and with it the package,
    # whose import registers every env id.
    summary = collect_multitask([env_id], episodes, out, policy_spec, seed, camera_size)
    return out, summary.total_frames, sum(r.success for r in summary.episodes.get(env_id, [])), \
        summary.wall_time_s


def shard_jobs(env_ids: Sequence[str], episodes_per_task: int, shards_per_task: int,
               out: str | Path, seed: int = 0) -> list[tuple[str, int, str, int]]:
    """(env id, episodes, folder, first seed) of every shard: task k's episodes split into
    `shards_per_task` runs of consecutive seeds, the seeds `collect_multitask` would give them
    (task episode i has seed `seed + i` whichever shard records it)."""
    if not 1 <= shards_per_task <= episodes_per_task:
        raise ConfigError(f"shards_per_task={shards_per_task} must be between 1 and the "
                          f"episodes per task ({episodes_per_task})")
    jobs = []
    for env_id in env_ids:
        name = env_id.split("/")[-1]
        bounds = [round(j * episodes_per_task / shards_per_task)
                  for j in range(shards_per_task + 1)]
        for j, (first, last) in enumerate(zip(bounds, bounds[1:], strict=False)):
            jobs.append((env_id, last - first, str(Path(out) / f"{name}-{j:02d}"), seed + first))
    return jobs


def collect_multitask_parallel(env_ids: Sequence[str], episodes_per_task: int, out: str | Path,
                               shards_per_task: int = 1, workers: int | None = None,
                               policy_spec: str = "expert", seed: int = 0,
                               camera_size: int | tuple[int, int] = 128,
                               log: Callable[[str], None] | None = None) -> list[str]:
    """The episodes `collect_multitask` records, recorded by `workers` processes at once into
    one folder per shard under `out` (train on them together: a training config's `dataset`
    takes the list, read as one `ConcatenatedDataset`). Each shard resumes like any recording.
    Returns the shard folders in task order."""
    import multiprocessing
    import os
    from concurrent.futures import ProcessPoolExecutor

    jobs = shard_jobs(env_ids, episodes_per_task, shards_per_task, out, seed)
    workers = max(1, min(workers or os.cpu_count() or 1, len(jobs)))
    context = multiprocessing.get_context("spawn")  # a forked MuJoCo / GL context is unsafe
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        done = pool.map(_record_shard, [(env_id, n, folder, policy_spec, first, camera_size)
                                        for env_id, n, folder, first in jobs])
        for folder, frames, successes, seconds in done:
            if log is not None:
                log(f"{folder}: {frames} frames, expert successes {successes}, {seconds:.0f} s")
    return [folder for _, _, folder, _ in jobs]
