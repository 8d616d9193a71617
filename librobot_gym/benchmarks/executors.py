"""Where episodes run: in this process, in local worker processes, or on a Ray cluster.

Every executor takes the same `EpisodeJob`s and hands each finished episode's record to a
callback as soon as it arrives, in completion order, so the caller can store it at once.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass
from multiprocessing import get_context

EXECUTORS = ("local", "ray")


@dataclass(frozen=True)
class EpisodeJob:
    """Everything a worker needs to run one seeded episode, and nothing it must share."""

    env_id: str
    seed: int
    variant: str
    max_steps: int
    obs_mode: str
    control_mode: str
    camera_size: int
    policy: str
    video_path: str | None = None
    make_id: str | None = None  # the env id to build, if not env_id (a -Real- counterpart)
    driver: str | None = None  # real hardware: the driver spec
    cameras: tuple[tuple[str, int | str], ...] = ()  # real hardware: (name, OpenCV source)


_WORKER_CACHE: dict = {}


def run_job(job: EpisodeJob) -> dict:
    """Run one episode (reusing this process's env and policy when the settings repeat)."""
    import gymnasium as gym

    from librobot_gym.benchmarks.rollout import run_episode
    from librobot_gym.policies import make_policy

    video = job.video_path is not None
    key = (job.env_id, job.obs_mode, job.control_mode, job.camera_size, job.max_steps,
           job.policy, video, job.make_id, job.driver, job.cameras)
    if key not in _WORKER_CACHE:
        for env, _ in _WORKER_CACHE.values():
            env.close()
        _WORKER_CACHE.clear()
        hardware = {"driver": job.driver} if job.driver else {}
        if job.cameras:
            hardware["cameras"] = dict(job.cameras)
        env = gym.make(job.make_id or job.env_id, obs_mode=job.obs_mode,
                       control_mode=job.control_mode, camera_size=job.camera_size,
                       max_episode_steps=job.max_steps,
                       render_mode="rgb_array" if video else None, **hardware)
        # gym.make enforces its max_episode_steps with a TimeLimit wrapper the env cannot see;
        # the env must know its own limit (on hardware the operator labels the last step).
        env.unwrapped.max_episode_steps = job.max_steps
        _WORKER_CACHE[key] = (env, make_policy(job.policy, env, seed=job.seed))
    env, policy = _WORKER_CACHE[key]
    writer = None
    if video:
        import imageio.v2 as imageio

        os.makedirs(os.path.dirname(job.video_path) or ".", exist_ok=True)
        writer = imageio.get_writer(job.video_path, fps=env.metadata.get("render_fps", 20),
                                    macro_block_size=8)
    try:
        result = run_episode(env, policy, job.seed, job.env_id,
                             writer.append_data if writer is not None else None)
    finally:
        if writer is not None:
            writer.close()
    return {**asdict(result), "policy": job.policy, "variant": job.variant,
            "obs_mode": job.obs_mode, "video_path": job.video_path}


def run_jobs(jobs: Iterable[EpisodeJob], on_result: Callable[[dict], None],
             executor: str = "local", workers: int = 1) -> None:
    jobs = list(jobs)
    if not jobs:
        return
    if executor == "ray":
        _run_on_ray(jobs, on_result, workers)
    elif workers <= 1:
        for job in jobs:
            on_result(run_job(job))
    else:
        # Spawned (not forked) workers: each starts clean, with its own GL context and RNGs.
        with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
            futures = [pool.submit(run_job, job) for job in jobs]
            for future in as_completed(futures):
                on_result(future.result())


def _run_on_ray(jobs: list[EpisodeJob], on_result: Callable[[dict], None], workers: int) -> None:
    import ray

    started_here = not ray.is_initialized()
    if started_here:
        # A private local cluster on loopback only; short temp path (unix sockets are short).
        ray.init(num_cpus=max(workers, 1), _node_ip_address="127.0.0.1",
                 include_dashboard=False, log_to_driver=False,
                 _temp_dir=tempfile.mkdtemp(prefix="lrray", dir="/tmp"))
    try:
        remote = ray.remote(num_cpus=1)(run_job)
        pending = [remote.remote(job) for job in jobs]
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            on_result(ray.get(done[0]))
    finally:
        if started_here:
            ray.shutdown()
