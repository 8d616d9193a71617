"""Where episodes run: in this process, in local worker processes, or on a Ray cluster.

Every executor takes the same `EpisodeJob`s and hands each finished episode's record to a
callback as soon as it arrives, in completion order, so the caller can store it at once.

Nothing outlives the run: local workers exit when the process that started them dies, even by
`kill -9` (the kernel's parent-death signal on Linux, and a watchdog thread everywhere), which
also lets multiprocessing's resource tracker exit; an interrupted or failed run cancels the
episodes not yet run, locally and on Ray.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, replace
from functools import partial
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
    operator: str | None = None  # real hardware: the operator's spec (terminal, scripted:, auto)


_WORKER_CACHE: dict = {}


def run_job(job: EpisodeJob, on_step: Callable[[int, int], None] | None = None) -> dict:
    """Run one episode under its variant (reusing this process's env and policy when the
    settings repeat: the variant is set at each reset, so episodes of every variant share
    them); `on_step(steps, max_steps)` after every step, in this process."""
    import gymnasium as gym

    from librobot_gym.benchmarks.rollout import run_episode
    from librobot_gym.policies import make_policy

    video = job.video_path is not None
    # The env is kept while its settings repeat, and each policy built on it is kept with it:
    # a sequential A/B run (`bench ab`) alternates two policies on one env (one connection
    # to a robot), without rebuilding either at every episode.
    key = (job.env_id, job.obs_mode, job.control_mode, job.camera_size, job.max_steps,
           video, job.make_id, job.driver, job.cameras, job.operator)
    if key not in _WORKER_CACHE:
        for env, _ in _WORKER_CACHE.values():
            env.close()
        _WORKER_CACHE.clear()
        hardware = {"driver": job.driver} if job.driver else {}
        if job.cameras:
            hardware["cameras"] = dict(job.cameras)
        if job.operator:
            hardware["operator"] = job.operator
        env = gym.make(job.make_id or job.env_id, obs_mode=job.obs_mode,
                       control_mode=job.control_mode, camera_size=job.camera_size,
                       max_episode_steps=job.max_steps,
                       render_mode="rgb_array" if video else None, **hardware)
        # gym.make enforces its max_episode_steps with a TimeLimit wrapper the env cannot see;
        # the env must know its own limit (on hardware the operator labels the last step).
        env.unwrapped.max_episode_steps = job.max_steps
        _WORKER_CACHE[key] = (env, {})
    env, policies = _WORKER_CACHE[key]
    if job.policy not in policies:
        policies[job.policy] = make_policy(job.policy, env, seed=job.seed)
    policy = policies[job.policy]
    writer = None
    if video:
        import imageio.v2 as imageio

        os.makedirs(os.path.dirname(job.video_path) or ".", exist_ok=True)
        writer = imageio.get_writer(job.video_path, fps=env.metadata.get("render_fps", 20),
                                    macro_block_size=8)
    try:
        result = run_episode(env, policy, job.seed, job.env_id,
                             writer.append_data if writer is not None else None,
                             None if on_step is None else
                             (lambda steps: on_step(steps, job.max_steps)), job.variant)
    finally:
        if writer is not None:
            writer.close()
    return {**asdict(result), "policy": job.policy, "variant": job.variant,
            "obs_mode": job.obs_mode, "video_path": job.video_path}


def _settings(job: EpisodeJob) -> EpisodeJob:
    """What jobs that may share K envs and one batched policy have in common."""
    return replace(job, seed=0, variant="")


def make_job_env(job: EpisodeJob):
    """The simulated env a batched job runs in, knowing its own step limit (module-level: an
    `EnvProcess` child may have to unpickle it)."""
    import gymnasium as gym

    env = gym.make(job.env_id, obs_mode=job.obs_mode, control_mode=job.control_mode,
                   camera_size=job.camera_size, max_episode_steps=job.max_steps)
    env.unwrapped.max_episode_steps = job.max_steps
    return env


def run_job_batch(jobs: list[EpisodeJob], num_envs: int,
                  on_result: Callable[[dict], None] | None = None,
                  async_envs: bool = False) -> list[dict]:
    """Jobs of one env, policy and settings (seeds and variants aside) over `num_envs` envs at
    once with one batched policy (`benchmarks/batched.py`); records as `run_job` makes them.
    `async_envs`: each env steps in its own process."""
    from librobot_gym.benchmarks.batched import batched_envs, run_batched

    job = jobs[0]
    records: list[dict] = []

    def finished(index: int, result) -> None:
        record = {**asdict(result), "policy": jobs[index].policy,
                  "variant": jobs[index].variant, "obs_mode": job.obs_mode, "video_path": None}
        records.append(record)
        if on_result is not None:
            on_result(record)

    with batched_envs(partial(make_job_env, _settings(job)), min(num_envs, len(jobs)),
                      job.policy, seed=job.seed, async_envs=async_envs) as (envs, slots):
        run_batched(envs, slots, job.env_id, [(j.seed, j.variant) for j in jobs], finished)
    return records


ROUNDS_PER_BATCH = 4  # a worker's batch: this many episodes per env at most


def _batches(jobs: list[EpisodeJob], parts: int, num_envs: int) -> list[list[EpisodeJob]]:
    """Jobs grouped by shared settings, each group cut into batches of at most
    `ROUNDS_PER_BATCH * num_envs` (a worker process hands its records back when its batch
    ends: small batches keep what a killed run loses small) and at most `parts` per group."""
    groups: dict[EpisodeJob, list[EpisodeJob]] = {}
    for job in jobs:
        groups.setdefault(_settings(job), []).append(job)
    batches = []
    for group in groups.values():
        size = min(-(-len(group) // max(parts, 1)), ROUNDS_PER_BATCH * num_envs)
        batches += [group[i:i + size] for i in range(0, len(group), size)]
    return batches


def run_jobs(jobs: Iterable[EpisodeJob], on_result: Callable[[dict], None],
             executor: str = "local", workers: int = 1,
             on_step: Callable[[int, int], None] | None = None, num_envs: int = 1,
             async_envs: bool = False) -> None:
    """Run `jobs`, handing each record to `on_result` as it arrives; `on_step(steps,
    max_steps)` follows each step where episodes run in this process (local, one worker).
    `num_envs` > 1: each worker steps that many envs with one batched policy (simulation;
    episodes with a video run alone), each env in its own process with `async_envs`."""
    jobs = list(jobs)
    if not jobs:
        return
    if num_envs > 1:
        alone = [j for j in jobs if j.video_path is not None or j.driver]
        batched = _batches([j for j in jobs if j not in alone], workers, num_envs)
        if alone:
            run_jobs(alone, on_result, executor, workers, on_step)
        _run_batches(batched, on_result, executor, workers, num_envs, async_envs)
        return
    if executor == "ray":
        _run_on_ray(jobs, on_result, workers)
    elif workers <= 1:
        for job in jobs:
            on_result(run_job(job, on_step))
    else:
        # Spawned (not forked) workers: each starts clean, with its own GL context and RNGs.
        pool = ProcessPoolExecutor(workers, mp_context=get_context("spawn"),
                                   initializer=die_with_parent, initargs=(os.getpid(),))
        try:
            futures = [pool.submit(run_job, job) for job in jobs]
            for future in as_completed(futures):
                on_result(future.result())
        finally:
            # Interrupted or failed: drop the queued episodes, wait only for the running ones.
            pool.shutdown(wait=True, cancel_futures=True)


def _run_batches(batches: list[list[EpisodeJob]], on_result: Callable[[dict], None],
                 executor: str, workers: int, num_envs: int, async_envs: bool) -> None:
    if executor == "ray":
        _ray_map(run_job_batch, [(batch, num_envs, None, async_envs) for batch in batches],
                 lambda records: [on_result(record) for record in records], workers)
    elif workers <= 1:
        for batch in batches:
            run_job_batch(batch, num_envs, on_result, async_envs)
    else:
        pool = ProcessPoolExecutor(workers, mp_context=get_context("spawn"),
                                   initializer=die_with_parent, initargs=(os.getpid(),))
        try:
            futures = [pool.submit(run_job_batch, batch, num_envs, None, async_envs)
                       for batch in batches]
            for future in as_completed(futures):
                for record in future.result():
                    on_result(record)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


PARENT_POLL_S = 0.25
_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def die_with_parent(parent_pid: int) -> None:
    """Pool worker initializer: exit as soon as `parent_pid`, the process that started this
    worker, is gone. A worker blocked on the pool's pipe would otherwise wait forever after its
    parent is killed (the pipe's other end stays open in the worker itself), and keep the
    resource tracker alive with it.

    On Linux the kernel sends SIGKILL when the parent dies (prctl PR_SET_PDEATHSIG: the pool
    spawns its workers from the thread that runs `run_jobs`, alive as long as the pool); a
    daemon thread watching `os.getppid()` covers other systems and a parent that died before
    this ran."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL),
                                                    0, 0, 0)
        except (OSError, AttributeError):
            pass  # the watchdog below still applies
    if os.getppid() != parent_pid:
        os._exit(1)
    threading.Thread(target=_watch_parent, args=(parent_pid,), name="die-with-parent",
                     daemon=True).start()


def _watch_parent(parent_pid: int) -> None:
    while os.getppid() == parent_pid:
        time.sleep(PARENT_POLL_S)
    os._exit(1)  # reparented: the parent is gone, and nobody will read this worker's results


def _run_on_ray(jobs: list[EpisodeJob], on_result: Callable[[dict], None], workers: int) -> None:
    _ray_map(run_job, [(job,) for job in jobs], on_result, workers)


def _ray_map(function: Callable, calls: list[tuple], on_reply: Callable, workers: int) -> None:
    """`function(*call)` for every call as Ray tasks, each reply to `on_reply` as it comes."""
    import ray

    started_here = not ray.is_initialized()
    if started_here:
        # A private local cluster on loopback only; short temp path (unix sockets are short).
        ray.init(num_cpus=max(workers, 1), _node_ip_address="127.0.0.1",
                 include_dashboard=False, log_to_driver=False,
                 _temp_dir=tempfile.mkdtemp(prefix="lrray", dir="/tmp"))
    pending: list = []
    try:
        remote = ray.remote(num_cpus=1)(function)
        pending = [remote.remote(*call) for call in calls]
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            on_reply(ray.get(done[0]))
    except BaseException:
        # Interrupted (Ctrl-C), or an episode or the callback failed: the cluster may be
        # shared and outlive this driver, so stop the episodes still queued or running.
        for ref in pending:
            with contextlib.suppress(Exception):  # never hide why the run stopped
                ray.cancel(ref, force=True)
        raise
    finally:
        if started_here:
            ray.shutdown()
