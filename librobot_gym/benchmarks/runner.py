"""The benchmark runner: roll out every episode a suite card asks for and store each one as it
finishes. (Scoring a run is `score.py`'s; training first, `librobot bench run --train`, the
CLI's.)

A run's identity is (card hash, policy, backend, seed offset): running the same command again
resumes the same run and runs only the episodes it does not have yet, so a killed run finishes
with exactly the card's episodes, none lost and none counted twice.
"""

from __future__ import annotations

import contextlib
import hashlib
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from librobot_gym.benchmarks.cards import SuiteCard
from librobot_gym.benchmarks.executors import EXECUTORS, EpisodeJob, run_jobs
from librobot_gym.benchmarks.rollout import check_seed, software_versions
from librobot_gym.benchmarks.store import ResultsStore, Run
from librobot_gym.errors import ConfigError, PolicyMismatchError
from librobot_gym.policies.registry import required_obs_mode

BACKENDS = ("sim", "real")


def real_env_id(env_id: str) -> str:
    """The hardware counterpart of a sim env id: librobot/X-Task-vN -> librobot/X-Task-Real-vN."""
    import gymnasium as gym

    name, _, version = env_id.rpartition("-")
    real = f"{name}-Real-{version}"
    if real not in gym.registry:
        raise ConfigError(f"{env_id} has no real-hardware counterpart ({real} is not "
                          f"registered); run it with --backend sim")
    return real


def check_real_variants(card: SuiteCard) -> None:
    """On hardware, each task's variants must be ones its -Real- counterpart offers: those a
    real cell can apply in software (a paraphrased instruction, noise on what the policy
    observes); relighting a lab or moving its camera is not something a run can do, so a
    variant that needs the simulator is refused before anything is recorded, not silently
    played as the default (which would score the default twice under another name)."""
    from librobot_gym.envs.variants import supported_variants, unsupported_parts

    for task in card.tasks:
        real = real_env_id(task.env)
        offered = supported_variants(real)
        refused = sorted({p for v in task.variants for p in unsupported_parts(v, offered)})
        if refused:
            raise ConfigError(f"{card.path or card.name}: {task.env} lists variants "
                              f"{', '.join(refused)}, which need the simulator; a real cell "
                              f"({real}) can apply only {', '.join(offered)}: run this card "
                              f"with --backend sim, or a copy without them on hardware")


@dataclass
class RunSummary:
    run_id: str
    policy: str
    total: int
    resumed_with: int  # episodes already stored when this invocation started
    ran: int


def run_id_for(card: SuiteCard, policy: str, backend: str, seed_offset: int) -> str:
    key = f"{card.content_hash}|{policy}|{backend}|{seed_offset}"
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def git_revision() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                              timeout=5, cwd=Path(__file__).parent).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def choose_obs_mode(policy: str, allowed: tuple[str, ...]) -> str:
    """The policy's observation mode if the card allows it; any-mode policies get the cheapest
    allowed one (state before state_dict before rgb)."""
    needed = required_obs_mode(policy)
    if needed is not None:
        if needed not in allowed:
            raise ConfigError(f"policy {policy!r} reads {needed!r} observations; the card "
                              f"allows only {list(allowed)}: list {needed!r} in the task's "
                              f"obs_modes (or use a card that does)")
        return needed
    for mode in ("state", "state_dict", "rgb"):
        if mode in allowed:
            return mode
    return allowed[0]


def check_policy(card: SuiteCard, policy: str, seed_offset: int = 0) -> None:
    """Build `policy` once for each task of `card`, on the task's simulated env with the
    card's settings (the spaces a -Real- counterpart shares), so a spec that cannot run is
    refused before anything is recorded."""
    import gymnasium as gym

    from librobot_gym.policies import make_policy

    for task in card.tasks:
        env = gym.make(task.env, obs_mode=choose_obs_mode(policy, task.obs_modes),
                       control_mode=task.control_mode, camera_size=task.camera_size,
                       max_episode_steps=task.max_steps)
        try:
            built = make_policy(policy, env, seed=task.seed_start + seed_offset)
            if hasattr(built, "close"):
                built.close()
        except PolicyMismatchError as error:
            if not error.mismatches:
                raise
            # The env is the card's: say which field of the card the policy would need.
            raise PolicyMismatchError(
                f"policy {policy!r} does not fit task {task.env} of card {card.path or card.name}: "
                + "; ".join(m.explain("card") for m in error.mismatches),
                error.mismatches) from None
        finally:
            env.close()


def plan_jobs(card: SuiteCard, policy: str, seed_offset: int, videos: int,
              video_dir: Path, backend: str = "sim", driver: str | None = None,
              cameras: dict[str, int | str] | None = None,
              operator: str | None = None) -> list[EpisodeJob]:
    """The card's episodes as jobs; on hardware, on each env's -Real- counterpart. Jobs keep
    the card's env id (the key results are stored and compared under); `make_id` is what the
    worker builds."""
    jobs = []
    for task in card.tasks:
        make_id = real_env_id(task.env) if backend == "real" else task.env
        obs_mode = choose_obs_mode(policy, task.obs_modes)
        for variant in task.variants:
            for i, seed in enumerate(task.seeds):
                seed += seed_offset
                video = None
                if i < videos:
                    name = f"{task.env.replace('/', '_')}_{variant}_{seed}.mp4"
                    video = str(video_dir / name)
                jobs.append(EpisodeJob(task.env, seed, variant, task.max_steps, obs_mode,
                                       task.control_mode, task.camera_size, policy, video,
                                       make_id, driver, tuple(sorted((cameras or {}).items())),
                                       operator))
    return jobs


@dataclass
class OpenRun:
    """A run checked and recorded in its store, with the card's episodes it still lacks
    (`pending`, in the card's order); `record(result)` stores one finished episode."""

    run_id: str
    card: SuiteCard
    store: ResultsStore
    backend: str
    pending: list[EpisodeJob]
    done: int  # episodes already stored (aborted ones aside)

    def record(self, result: dict) -> bool:
        stored = self.store.add_episode({**result, "run_id": self.run_id,
                                         "suite": self.card.name, "backend": self.backend})
        if stored and result.get("video_path"):
            self.store.add_artifact(self.run_id, "video", result["video_path"])
        return stored


def open_run(card: SuiteCard, policy: str, store: ResultsStore, backend: str = "sim",
             executor: str = "local", workers: int = 1, videos: int = 0,
             out_dir: str | Path = "outputs/bench", seed_offset: int = 0,
             driver: str | None = None, cameras: dict[str, int | str] | None = None,
             operator: str | None = None) -> OpenRun:
    """Check the settings and the policy, record the run (or find it: same card, policy,
    backend and seed offset), and list what it lacks; `run_suite` and the sequential runs
    (`benchmarks/sequential`) share it, so they resume each other's episodes."""
    card.check_simulator()  # a card pinned to another MuJoCo release is refused before any work
    if backend not in BACKENDS:
        raise ConfigError(f"backend={backend!r} is not one of {BACKENDS}")
    if backend == "real":
        if not driver:
            raise ConfigError("--backend real needs --driver (e.g. bridge:ws://robot-pc:8765, "
                              "twin:lockstep)")
        if workers > 1 and not driver.startswith("twin"):
            raise ConfigError(f"one robot runs one episode at a time: --workers {workers} "
                              f"is only for simulated twins, not driver {driver!r}")
        check_real_variants(card)
    if executor not in EXECUTORS:
        raise ConfigError(f"executor={executor!r} is not one of {EXECUTORS}")
    if workers < 1:
        raise ConfigError(f"workers={workers} must be at least 1")
    check_seed(seed_offset, "seed offset (--seed)")  # added to the card's seeds (>= 0)
    check_policy(card, policy, seed_offset)  # before the run is recorded: no empty run rows
    run_id = run_id_for(card, policy, f"real:{driver}" if backend == "real" else backend,
                        seed_offset)
    store.ensure_run(Run(id=run_id, suite=card.name, card_hash=card.content_hash,
                         card_path=card.path, policy=policy, backend=backend,
                         seed_offset=seed_offset, git_revision=git_revision(),
                         versions=software_versions()))
    done = store.done(run_id)
    video_dir = Path(out_dir) / "videos" / run_id
    jobs = [j for j in plan_jobs(card, policy, seed_offset, videos, video_dir, backend, driver,
                                 cameras, operator)
            if (j.env_id, j.seed, j.variant) not in done]
    return OpenRun(run_id, card, store, backend, jobs, len(done))


@contextlib.contextmanager
def serve_policy(policy: str, wait_ms: float):
    """A `PolicyServer` on 127.0.0.1 holding `policy` (a `vla:DIR` checkpoint: served models
    need no env) with dynamic batching; yields its url, stops it after."""
    from librobot_gym.serving import PolicyServer

    scheme, _, path = policy.partition(":")
    if scheme != "vla" or not (Path(path) / "config.json").is_file():
        raise ConfigError(f"--serve shares one model among the workers: give --policy "
                          f"vla:CHECKPOINT_DIR (one checkpoint), not {policy!r}")
    from librobot_gym.policies.vla.policy import VLAPolicy

    with PolicyServer(VLAPolicy.from_pretrained(path), batch_wait_s=wait_ms / 1e3) as server:
        yield server.url


def run_suite(
    card: SuiteCard,
    policy: str,
    store: ResultsStore,
    backend: str = "sim",
    executor: str = "local",
    workers: int = 1,
    videos: int = 0,
    out_dir: str | Path = "outputs/bench",
    seed_offset: int = 0,
    driver: str | None = None,
    cameras: dict[str, int | str] | None = None,
    operator: str | None = None,
    on_start: Callable[[int, int], None] | None = None,
    on_episode: Callable[[dict], None] | None = None,
    on_step: Callable[[int, int], None] | None = None,
    num_envs: int = 1,
    serve_wait_ms: float | None = None,
    async_envs: bool = False,
) -> RunSummary:
    """Roll `policy` out on every episode of `card` that the store lacks; see module doc.
    `on_start(total, done)` once the run is checked and recorded, `on_episode(record)` after
    each stored episode, `on_step(steps, max_steps)` after each step where episodes run in
    this process (one local worker: what a real robot uses). `num_envs` > 1 steps that many
    envs per worker with one batched policy (simulation; the same records), each env in its
    own process with `async_envs`. `serve_wait_ms`
    (not None): one `PolicyServer` on loopback holds the model and batches the workers'
    requests arriving within that wait (`--serve`); the workers run `remote:` clients."""
    from librobot_gym.benchmarks.batched import check_num_envs

    check_num_envs(num_envs, real=backend == "real")
    run = open_run(card, policy, store, backend, executor, workers, videos, out_dir,
                   seed_offset, driver, cameras, operator)
    if on_start is not None:
        on_start(card.total_episodes, run.done)

    def record(result: dict) -> None:
        result["policy"] = policy  # a served run's workers ran `remote:` clients of it
        run.record(result)
        if on_episode is not None:
            on_episode(result)

    if serve_wait_ms is None:
        run_jobs(run.pending, record, executor, workers, on_step, num_envs, async_envs)
    else:
        with serve_policy(policy, serve_wait_ms) as url:
            jobs = [replace(job, policy=f"remote:{url}") for job in run.pending]
            run_jobs(jobs, record, executor, workers, on_step, num_envs, async_envs)
    return RunSummary(run.run_id, policy, card.total_episodes, run.done, len(run.pending))
