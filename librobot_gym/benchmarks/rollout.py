"""Roll a policy out on an env for N seeded episodes; record results and, optionally, a video.

Each finished episode is appended to a JSON-lines file at once, and the video is written frame by
frame, so a run that is killed keeps every episode it finished.
"""

from __future__ import annotations

import hashlib
import json
import platform
from collections.abc import Callable
from dataclasses import asdict, dataclass
from functools import partial
from importlib.metadata import version as package_version
from pathlib import Path

import gymnasium as gym
import numpy as np

from librobot_gym.benchmarks.episode import EpisodeResult, EpisodeTally
from librobot_gym.errors import ConfigError
from librobot_gym.policies import Policy, make_policy


@dataclass
class RolloutSummary:
    env_id: str
    policy: str
    episodes: list[EpisodeResult]
    results_path: Path | None
    video_path: Path | None
    resumed_with: int = 0  # episodes read back from the results file instead of run again

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
                on_frame: Callable[[np.ndarray], None] | None = None,
                on_step: Callable[[int], None] | None = None,
                variant: str | None = None) -> EpisodeResult:
    """One episode from `reset(seed=seed)` to termination or truncation; under `variant`
    where given (`options={"variant": variant}`, "default" included: a benchmark's env plays
    every variant of a task in turn, and none may carry into the next episode), else under
    the variant the env was made with.

    On real hardware a fault (a `DriverError`: disconnect, robot reflex, safety stop, camera)
    or the operator's refusal (`EpisodeAborted`) ends the episode early: the robot has been
    stopped by then, and the episode comes back marked `aborted` with the reason, so it is
    recorded rather than lost and not scored as a failure of the policy. The next
    `env.reset()` reconnects. `on_step(steps)` runs after every step (progress of an episode
    in real time).
    """
    from librobot_gym.hardware.console import EpisodeAborted
    from librobot_gym.hardware.driver import DriverError

    tally = EpisodeTally(env_id, policy.card.name, seed)
    try:
        obs, info = env.reset(seed=seed, options=None if variant is None else
                              {"variant": variant})
        tally.reset(info)
        policy.reset(seed=seed)
        if on_frame is not None:
            on_frame(env.render())
        while True:
            obs, reward, terminated, truncated, info = env.step(policy.act(obs))
            tally.step(reward, info)
            if on_frame is not None:
                on_frame(env.render())
            if on_step is not None:
                on_step(tally.steps)
            if terminated or truncated:
                break
    except (DriverError, EpisodeAborted) as error:
        return tally.result(True, f"{type(error).__name__}: {error}")
    return tally.result()


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


def rollout_key(env_id: str, policy: str, env_kwargs: dict) -> str:
    """What identifies a rollout in a results file: the env id, the policy spec and the env
    settings (render_mode aside: a video does not change an episode)."""
    settings = {k: v for k, v in env_kwargs.items() if k != "render_mode"}
    text = json.dumps([env_id, policy, sorted(settings.items())], default=repr)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def recorded_episodes(results_path: Path, key: str) -> dict[int, EpisodeResult]:
    """The episodes of rollout `key` already in a results file, by seed: the last record of
    each seed that was not aborted. A line cut short by a kill is skipped."""
    found: dict[int, EpisodeResult] = {}
    if not results_path.is_file():
        return found
    names = set(EpisodeResult.__dataclass_fields__)
    for line in results_path.read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if not isinstance(record, dict) or record.get("rollout") != key or record.get("aborted"):
            continue
        try:
            result = EpisodeResult(**{k: v for k, v in record.items() if k in names})
        except TypeError:
            continue
        found[result.seed] = result
    return found


def rollout(
    env_id: str,
    policy_name: str = "expert",
    episodes: int = 10,
    seed: int = 0,
    video_path: str | Path | None = None,
    results_path: str | Path | None = None,
    env_kwargs: dict | None = None,
    on_episode: Callable[[EpisodeResult], None] | None = None,
    on_start: Callable[[int, int], None] | None = None,
    on_step: Callable[[int, int], None] | None = None,
    resume: bool = True,
    num_envs: int = 1,
    async_envs: bool = False,
) -> RolloutSummary:
    """Run `episodes` episodes with seeds seed, seed+1, ...; see the module docstring.

    With `resume`, seeds this rollout already recorded in `results_path` are read back, not
    run. `on_start(total, done)` runs once the env and policy are built (a refusal comes
    before it), `on_episode(result)` after each episode run, and `on_step(steps, limit)` after
    every step (for episodes that take real time). `num_envs` > 1 runs that many envs side by
    side with one batched policy (`benchmarks/batched.py`; simulation, no video): the same
    records, in less time for a policy that batches; `async_envs` steps each of them in its
    own process (`envs/subprocess_env.py`), on as many cores as there are.
    """
    from librobot_gym.benchmarks.batched import check_num_envs
    from librobot_gym.envs.registration import ENVS, check_env_id

    check_seed(seed, "seed (--seed)")
    check_env_id(env_id)
    check_num_envs(num_envs, real=ENVS.get(env_id).real or "driver" in (env_kwargs or {}))
    if num_envs > 1 and video_path is not None:
        raise ConfigError("--video records one env's episodes: use --num-envs 1 with it")
    env_kwargs = dict(env_kwargs or {})
    key = rollout_key(env_id, policy_name, env_kwargs)
    if video_path is not None:
        env_kwargs.setdefault("render_mode", "rgb_array")
    envs = [gym.make(env_id, **env_kwargs) for _ in range(1 if async_envs else num_envs)]
    env = envs[0]  # with async_envs: builds the policy, never steps
    writer = None
    results_file = None
    try:
        if num_envs == 1:
            policy = make_policy(policy_name, env, seed=seed)
        else:  # built before on_start, as the single policy is: a refusal prints alone
            from librobot_gym.policies.slots import make_shared_slots, make_slots

            if async_envs:
                from librobot_gym.envs.subprocess_env import EnvProcess

                slots = make_shared_slots(policy_name, env, num_envs, seed=seed)
                make = partial(gym.make, env_id, **env_kwargs)
                for index in range(num_envs):
                    envs.append(EnvProcess(make, name=f"env {index}"))
            else:
                slots = make_slots(policy_name, envs, seed=seed)
        seeds = range(seed, seed + episodes)
        done: dict[int, EpisodeResult] = {}
        if results_path is not None:
            results_path = Path(results_path)
            if resume:
                done = {s: r for s, r in recorded_episodes(results_path, key).items()
                        if s in seeds}
            results_path.parent.mkdir(parents=True, exist_ok=True)
            results_file = results_path.open("a", encoding="utf-8")
        if video_path is not None:
            import imageio.v2 as imageio

            video_path = Path(video_path)
            video_path.parent.mkdir(parents=True, exist_ok=True)
            video_path.open("wb").close()  # an unwritable path fails here, with its name
            writer = imageio.get_writer(video_path, fps=env.metadata.get("render_fps", 20),
                                        macro_block_size=8)
        versions = software_versions()
        limit = int(getattr(env.unwrapped, "max_episode_steps", 0) or 0)
        step_hook = None if on_step is None else (lambda steps: on_step(steps, limit))
        if on_start is not None:
            on_start(episodes, len(done))
        if num_envs > 1:
            stepping = envs[1:] if async_envs else envs
            return _rollout_batched(stepping, slots, policy_name, env_id, seeds, done,
                                    results_file, key, versions, on_episode, results_path)
        records = []
        for episode_seed in seeds:
            if episode_seed in done:
                records.append(done[episode_seed])
                continue
            result = run_episode(env, policy, episode_seed, env_id,
                                 writer.append_data if writer is not None else None, step_hook)
            records.append(result)
            if results_file is not None:
                _write_record(results_file, result, key, policy_name, versions)
            if on_episode is not None:
                on_episode(result)
        return RolloutSummary(env_id, policy_name, records, results_path, video_path,
                              len(done))
    finally:
        if writer is not None:
            writer.close()
        if results_file is not None:
            results_file.close()
        for each in envs:
            each.close()


def _write_record(results_file, result: EpisodeResult, key: str, spec: str,
                  versions: dict) -> None:
    results_file.write(json.dumps({**asdict(result), "rollout": key, "spec": spec,
                                   "versions": versions}) + "\n")
    results_file.flush()


def _rollout_batched(envs, slots, policy_name, env_id, seeds, done, results_file, key,
                     versions, on_episode, results_path) -> RolloutSummary:
    """`rollout`'s seeds not yet recorded, run over `envs` at once; records in seed order."""
    from librobot_gym.benchmarks.batched import run_batched

    todo = [s for s in seeds if s not in done]

    def finished(_: int, result: EpisodeResult) -> None:
        if results_file is not None:
            _write_record(results_file, result, key, policy_name, versions)
        if on_episode is not None:
            on_episode(result)

    try:
        ran = run_batched(envs, slots, env_id, [(s, None) for s in todo], finished)
    finally:
        close = getattr(slots, "close", None)
        if close is not None:
            close()
    by_seed = {**done, **{r.seed: r for r in ran}}
    return RolloutSummary(env_id, policy_name, [by_seed[s] for s in seeds], results_path, None,
                          len(done))
