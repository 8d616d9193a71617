"""The policy protocol and the card that says what a policy needs and emits."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import gymnasium as gym
import numpy as np

from librobot_gym.errors import ConfigError, PolicyMismatchError


@dataclass(frozen=True)
class PolicyCard:
    """What a policy emits; rollouts check it against the env before the first step."""

    name: str
    control_mode: str | None = None  # None: any
    action_dim: int | None = None  # None: any

    def check(self, env: gym.Env) -> None:
        """Raise PolicyMismatchError listing every way the env does not fit this card."""
        base = env.unwrapped
        problems = []
        mode = getattr(base, "control_mode", None)
        if self.control_mode is not None and mode != self.control_mode:
            problems.append(
                f"control_mode: policy emits {self.control_mode!r}, env expects {mode!r}")
        size = env.action_space.shape[0] if env.action_space.shape else None
        if self.action_dim is not None and size != self.action_dim:
            problems.append(f"action_dim: policy emits {self.action_dim}, env expects {size}")
        if problems:
            raise PolicyMismatchError(
                f"policy {self.name!r} does not fit env {env.spec.id if env.spec else base}: "
                + "; ".join(problems)
            )


@runtime_checkable
class Policy(Protocol):
    card: PolicyCard

    def reset(self) -> None: ...

    def act(self, obs: Any) -> np.ndarray: ...


def make_policy(name: str, env: gym.Env, seed: int | None = None) -> Policy:
    """A built-in policy by name ("expert" or "random") for `env`."""
    from librobot_gym.policies.expert import ExpertPolicy
    from librobot_gym.policies.random import RandomPolicy

    builders = {"expert": lambda: ExpertPolicy(env), "random": lambda: RandomPolicy(env, seed)}
    if name not in builders:
        raise ConfigError(f"unknown policy {name!r}; built-in policies: {sorted(builders)}")
    return builders[name]()
