"""Batched evaluation: K envs step side by side and the policy acts once per step on all of
them (`--num-envs K` on `librobot rollout` and `bench run`).

Each env runs its own episodes, one after another from a shared list of (seed, variant) jobs:
an env whose episode ends starts the next job at once while the others carry on, so no env
idles until the slowest finishes. The K envs are plain gymnasium envs stepped in turn rather
than a gymnasium vector env: each episode needs its own seed and variant at its own reset, and
a privileged expert reads its own env. The policy serves them as slots
(`policies/slots.py`): a VLA predicts every slot that needs a chunk in one forward pass; other
policies get one instance per env. Every episode gets the actions it would get alone, so the
records equal those of K = 1 (tested). Simulation only: one robot runs one episode at a time.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import gymnasium as gym

from librobot_gym.benchmarks.rollout import EpisodeResult, EpisodeTally
from librobot_gym.errors import ConfigError
from librobot_gym.policies.slots import PolicySlots


def check_num_envs(num_envs: int, real: bool = False) -> None:
    """A one-line error unless `num_envs` is an integer >= 1 (and 1 on hardware)."""
    if isinstance(num_envs, bool) or not isinstance(num_envs, int) or num_envs < 1:
        raise ConfigError(f"--num-envs is {num_envs!r}; give an integer >= 1")
    if real and num_envs > 1:
        raise ConfigError("--num-envs > 1 runs several episodes at once: simulation only (a "
                          "robot runs one episode at a time); use --num-envs 1 on hardware")


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
        for slot, action in zip(order, actions, strict=True):
            obs[slot], reward, terminated, truncated, info = envs[slot].step(action)
            index, tally = active[slot]
            tally.step(reward, info)
            if terminated or truncated:
                del active[slot]
                results[index] = tally.result()
                if on_episode is not None:
                    on_episode(index, results[index])
                start(slot)
    return [results[index] for index in range(len(jobs))]
