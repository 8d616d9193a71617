"""The policy protocol and the card that says what a policy needs and emits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import gymnasium as gym
import numpy as np

from librobot_gym.errors import InvalidObservationError, PolicyMismatchError


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


def state_layout(env: gym.Env) -> list[tuple[str, slice]]:
    """(field name, slice) of an env's state vector (`RobotEnv.state_layout`); empty when the
    env does not say."""
    return list(getattr(env.unwrapped, "state_layout", None) or ())


def check_state(state: Any, layout: Sequence[tuple[str, slice]] = (),
                where: str = "state") -> None:
    """Raise InvalidObservationError naming every field of `state` ([D] or a batch [N, D])
    that holds NaN or inf; `layout` names the fields, index ranges stand in without one."""
    array = np.asarray(state)
    if array.dtype.kind not in "fc":
        if array.dtype.kind in "biu":
            return
        raise InvalidObservationError(f"observation {where} has dtype {array.dtype}; a policy "
                                      f"needs real numbers")
    finite = np.isfinite(array)
    if finite.all():
        return
    bad_columns = np.flatnonzero(~finite.reshape(-1, array.shape[-1]).all(axis=0)) \
        if array.ndim else np.array([0])
    named, covered = [], set()
    for name, part in layout:
        hit = [int(i) for i in bad_columns if part.start <= i < part.stop]
        if hit:
            named.append(f"{name!r} (index {', '.join(map(str, hit))})")
            covered.update(hit)
    named += [f"{where}[{int(i)}]" for i in bad_columns if int(i) not in covered]
    raise InvalidObservationError(
        f"observation {where} has NaN or inf in {', '.join(named)}; the env, its sensors or a "
        f"wrapper produced a non-finite value: fix or filter it before calling act()")
