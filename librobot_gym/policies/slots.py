"""Several episodes at once behind one policy: `PolicySlots`, what batched evaluation steps.

K envs run K independent episodes (each its own seed, starting and ending when it will). A
policy serves them as K *slots*: `reset(slot, seed)` starts slot i's episode, `act(slots, obs)`
gives an action for each listed slot. A policy with per-episode state that can batch its
model over slots says so with `slots(k)` (VLAPolicy: one forward for every slot that needs a
chunk, each slot with its own chunk and noise generator, so an episode gets the actions it gets
alone). Any other policy is served by one instance per env (`PerEnvSlots`): no speed-up, the
same actions.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import gymnasium as gym
import numpy as np

from librobot_gym.errors import ConfigError
from librobot_gym.policies.base import PolicyCard


class PolicySlots(Protocol):
    card: PolicyCard

    def reset(self, slot: int, seed: int | None = None) -> None:
        """Start slot `slot`'s episode (forget its chunk; seed its randomness)."""

    def act(self, slots: Sequence[int], obs: Sequence[Any]) -> list[np.ndarray]:
        """One action per listed slot, for its observation."""


class PerEnvSlots:
    """One policy instance per env: for policies that read their env (the expert) or keep
    state that cannot be batched."""

    def __init__(self, policies: Sequence[Any]):
        self.policies = list(policies)
        self.card = self.policies[0].card

    def reset(self, slot: int, seed: int | None = None) -> None:
        self.policies[slot].reset(seed=seed)

    def act(self, slots: Sequence[int], obs: Sequence[Any]) -> list[np.ndarray]:
        return [self.policies[s].act(o) for s, o in zip(slots, obs, strict=True)]

    def close(self) -> None:
        for policy in self.policies:
            close = getattr(policy, "close", None)
            if close is not None:
                close()


def make_slots(spec: str, envs: Sequence[gym.Env], seed: int | None = None) -> PolicySlots:
    """Slots for `envs` from a policy spec: the policy's own `slots(k)` where it has one, else
    an instance per env."""
    from librobot_gym.policies.registry import make_policy

    first = make_policy(spec, envs[0], seed=seed)
    own = getattr(first, "slots", None)
    if own is not None:
        return own(len(envs))
    return PerEnvSlots([first, *(make_policy(spec, env, seed=seed) for env in envs[1:])])


def make_shared_slots(spec: str, env: gym.Env, count: int,
                      seed: int | None = None) -> PolicySlots:
    """`count` slots of one policy built on `env` that batches them itself (`slots(k)`), for
    envs that live in other processes (`--async-envs`): a policy that reads its env, or one
    instance per env, cannot serve them; ConfigError for it."""
    from librobot_gym.policies.registry import make_policy

    policy = make_policy(spec, env, seed=seed)
    own = getattr(policy, "slots", None)
    if own is None:
        close = getattr(policy, "close", None)
        if close is not None:
            close()
        raise ConfigError(f"--async-envs: policy {spec!r} does not batch its episodes (it runs "
                          f"one instance per env, and an expert reads its env); use it "
                          f"without --async-envs, or a vla: policy")
    return own(count)
