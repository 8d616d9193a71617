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
    obs_mode: str | None = None  # None: any

    def check(self, env: gym.Env) -> None:
        """Raise PolicyMismatchError listing every way the env does not fit this card."""
        base = env.unwrapped
        problems = []
        mode = getattr(base, "control_mode", None)
        if self.control_mode is not None and mode != self.control_mode:
            problems.append(
                f"control_mode: policy emits {self.control_mode!r}, env expects {mode!r}")
        obs_mode = getattr(base, "obs_mode", None)
        if self.obs_mode is not None and obs_mode != self.obs_mode:
            problems.append(f"obs_mode: policy reads {self.obs_mode!r}, env gives {obs_mode!r}")
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

    def reset(self, seed: int | None = None) -> None:
        """Start an episode; a seeded reset makes a stochastic policy repeatable."""

    def act(self, obs: Any) -> np.ndarray: ...


def required_obs_mode(spec: str) -> str | None:
    """The observation mode a policy spec needs, known before building it (None: any)."""
    algorithm = spec.split(":", 1)[0]
    return "state" if algorithm in SB3_ALGORITHMS else None


SB3_ALGORITHMS = ("ppo", "sac")


def make_policy(spec: str, env: gym.Env, seed: int | None = None) -> Policy:
    """A policy for `env` from a spec: "expert", "random", or "ppo:MODEL.zip" / "sac:MODEL.zip"
    (a stable-baselines3 model trained in `state` mode)."""
    from librobot_gym.policies.expert import ExpertPolicy
    from librobot_gym.policies.random import RandomPolicy

    algorithm, _, path = spec.partition(":")
    if algorithm in SB3_ALGORITHMS and path:
        from librobot_gym.policies.sb3 import SB3Policy

        return SB3Policy(env, algorithm, path)
    builders = {"expert": lambda: ExpertPolicy(env), "random": lambda: RandomPolicy(env, seed)}
    if spec not in builders:
        raise ConfigError(f"unknown policy {spec!r}; built-in policies: {sorted(builders)}, "
                          f"or ppo:PATH / sac:PATH for a stable-baselines3 model")
    return builders[spec]()
