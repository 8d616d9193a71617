"""Batched evaluation: K envs step side by side and the policy acts once per step on all of
them (`--num-envs K` on `librobot rollout` and `bench run`).

Each env runs its own episodes, one after another from a shared list of (seed, variant) jobs:
an env whose episode ends starts the next job at once while the others carry on, so no env
idles until the slowest finishes. The K envs are gymnasium envs stepped in turn, or (with
`--async-envs`) `EnvProcess`es that step at once on the machine's cores, rather than a
gymnasium vector env: each episode needs its own seed and variant at its own reset, and
a privileged expert reads its own env. The policy serves them as slots
(`policies/slots.py`): a VLA predicts every slot that needs a chunk in one forward pass; other
policies get one instance per env. Every episode gets the actions it would get alone, so the
records equal those of K = 1 (tested). Simulation only: one robot runs one episode at a time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

import gymnasium as gym

from librobot_gym.benchmarks.episode import EpisodeResult, EpisodeTally
from librobot_gym.errors import ConfigError
from librobot_gym.policies.slots import PolicySlots, make_shared_slots, make_slots


def check_num_envs(num_envs: int, real: bool = False) -> None:
    """A one-line error unless `num_envs` is an integer >= 1 (and 1 on hardware)."""
    if isinstance(num_envs, bool) or not isinstance(num_envs, int) or num_envs < 1:
        raise ConfigError(f"--num-envs is {num_envs!r}; give an integer >= 1")
    if real and num_envs > 1:
        raise ConfigError("--num-envs > 1 runs several episodes at once: simulation only (a "
                          "robot runs one episode at a time); use --num-envs 1 on hardware")


@contextmanager
def batched_envs(make: Callable[[], gym.Env], count: int, policy: str, seed: int | None = None,
                 async_envs: bool = False) -> Iterator[tuple[list, PolicySlots]]:
    """`count` envs from `make` and the policy's slots serving them; all closed at exit.
    `async_envs`: each env in its own process (`EnvProcess`; `make` must pickle where fork is
    missing), the policy built on one more env here that never steps, and only a policy that
    batches its slots itself (it reads observations alone) is accepted."""
    from librobot_gym.envs.subprocess_env import EnvProcess

    opened: list = []
    slots = None
    try:
        if async_envs:
            opened.append(make())
            slots = make_shared_slots(policy, opened[0], count, seed=seed)
            envs = []
            for index in range(count):
                envs.append(EnvProcess(make, name=f"env {index}"))
                opened.append(envs[-1])
        else:
            envs = [make() for _ in range(count)]
            opened += envs
            slots = make_slots(policy, envs, seed=seed)
        yield envs, slots
    finally:
        close = getattr(slots, "close", None)
        if close is not None:
            close()
        for env in opened:
            env.close()


def _begin_step(env, action):
    """Start `env`'s step: an env in a child process (`envs/subprocess_env.py`) steps while
    the others are sent theirs (None: collect it with `step_wait`); a plain env steps now."""
    if hasattr(env, "step_async"):
        env.step_async(action)
        return None
    return env.step(action)


def run_batched(envs: Sequence[gym.Env], slots: PolicySlots, env_id: str,
                jobs: Sequence[tuple[int, str | None]],
                on_episode: Callable[[int, EpisodeResult], None] | None = None,
                ) -> list[EpisodeResult]:
    """Run `jobs` ((seed, variant) each) over `envs`; the records in job order.
    `on_episode(job_index, record)` runs as each episode ends (completion order). An
    episode's wall time is from its reset to its end, the other envs' steps included."""
    pending = list(enumerate(jobs))
    results: dict[int, EpisodeResult] = {}
    active: dict[int, tuple[int, EpisodeTally]] = {}
    obs: dict = {}

    def start(slot: int) -> None:
        if not pending:
            return
        index, (seed, variant) = pending.pop(0)
        tally = EpisodeTally(env_id, slots.card.name, seed)
        obs[slot], info = envs[slot].reset(
            seed=seed, options=None if variant is None else {"variant": variant})
        tally.reset(info)
        slots.reset(slot, seed)
        active[slot] = (index, tally)

    for slot in range(len(envs)):
        start(slot)
    while active:
        order = sorted(active)
        actions = slots.act(order, [obs[slot] for slot in order])
        stepped = {slot: _begin_step(envs[slot], action)
                   for slot, action in zip(order, actions, strict=True)}
        for slot in order:
            obs[slot], reward, terminated, truncated, info = (
                stepped[slot] or envs[slot].step_wait())
            index, tally = active[slot]
            tally.step(reward, info)
            if terminated or truncated:
                del active[slot]
                results[index] = tally.result()
                if on_episode is not None:
                    on_episode(index, results[index])
                start(slot)
    return [results[index] for index in range(len(jobs))]
