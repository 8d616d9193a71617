"""The policy protocol and the card that says what a policy needs and emits."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import gymnasium as gym
import numpy as np

from librobot_gym.errors import PolicyMismatchError


@dataclass(frozen=True)
class PolicyCard:
    """What a policy needs (observation mode, cameras, image size, state size, instruction) and
    emits (control mode, action dimension, control rate, chunk length). `None` means any.
    Rollouts check it against the env before the first step."""

    name: str
    control_mode: str | None = None
    action_dim: int | None = None
    obs_mode: str | None = None
    cameras: tuple[str, ...] = ()
    image_size: tuple[int, int] | None = None  # (height, width)
    state_dim: int | None = None
    instruction: bool = False
    control_hz: float | None = None
    chunk_size: int = 1

    def mismatches(self, env: gym.Env) -> list[str]:
        """Every way `env` does not fit this card, as readable lines (empty: it fits)."""
        base = env.unwrapped
        problems = []

        def differs(field: str, wanted, got, verb: str = "needs") -> None:
            if wanted is not None and wanted != got:
                problems.append(f"{field}: policy {verb} {wanted!r}, env has {got!r}")

        differs("control_mode", self.control_mode, getattr(base, "control_mode", None), "emits")
        size = env.action_space.shape[0] if env.action_space.shape else None
        differs("action_dim", self.action_dim, size, "emits")
        differs("obs_mode", self.obs_mode, getattr(base, "obs_mode", None))
        cameras = tuple(getattr(base, "cameras", ()))
        missing = [c for c in self.cameras if c not in cameras]
        if missing:
            problems.append(f"cameras: policy needs {missing}, env has {list(cameras)}")
        if self.cameras and getattr(base, "obs_mode", "rgb") != "rgb":
            problems.append("cameras: policy needs images, env obs_mode is not 'rgb'")
        differs("image_size", self.image_size, getattr(base, "camera_size", None))
        robot = getattr(base, "robot", None)
        differs("state_dim", self.state_dim, robot.proprio_size if robot else None)
        differs("control_hz", self.control_hz, env.metadata.get("render_fps"), "runs at")
        return problems

    def check(self, env: gym.Env) -> None:
        """Raise PolicyMismatchError listing every way the env does not fit this card."""
        problems = self.mismatches(env)
        if problems:
            name = env.spec.id if env.spec else type(env.unwrapped).__name__
            raise PolicyMismatchError(f"policy {self.name!r} does not fit env {name}: "
                                      + "; ".join(problems))


@runtime_checkable
class Policy(Protocol):
    card: PolicyCard

    def reset(self, seed: int | None = None) -> None:
        """Start an episode; a seeded reset makes a stochastic policy repeatable."""

    def act(self, obs: Any) -> np.ndarray: ...


def batch_size(obs: Any) -> int | None:
    """The batch size of a vector env's observation, or None for a single observation."""
    if isinstance(obs, dict):
        state = obs.get("state")
        if state is not None:
            return int(np.shape(state)[0]) if np.ndim(state) == 2 else None
        first = next(iter(obs.values()), None)
        return int(np.shape(first)[0]) if first is not None and np.ndim(first) == 2 else None
    if obs is None:
        return None
    return int(np.shape(obs)[0]) if np.ndim(obs) == 2 else None
