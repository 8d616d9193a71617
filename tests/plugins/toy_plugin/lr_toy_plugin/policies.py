"""Two policy schemes: `toy-hold[:VALUE]` (the same normalised action on every dimension, any
env) and `toy-reach[:GAIN]` (a proportional reacher on the ToyArm's state observation)."""

from __future__ import annotations

import numpy as np

from librobot_gym.errors import ConfigError
from librobot_gym.policies import PolicyCard, register_policy
from librobot_gym.policies.base import batch_size
from lr_toy_plugin import kinematics


def _number(scheme: str, arg: str, default: float, low: float, high: float) -> float:
    if not arg:
        return default
    try:
        value = float(arg)
    except ValueError:
        value = float("nan")
    if not low <= value <= high:
        raise ConfigError(f"policy '{scheme}:{arg}': expected a number in [{low:g}, {high:g}], "
                          f"e.g. {scheme}:{default:g}")
    return value


class HoldPolicy:
    """Emits `value` on every action dimension, every step."""

    def __init__(self, env, value: float):
        self.value = value
        self.card = PolicyCard(f"toy-hold:{value:g}")
        self.shape = env.action_space.shape
        self.dtype = env.action_space.dtype

    def reset(self, seed: int | None = None) -> None:
        pass

    def act(self, obs) -> np.ndarray:
        batch = batch_size(obs)
        shape = self.shape if batch is None else (batch, *self.shape)
        return np.full(shape, self.value, dtype=self.dtype)


class ReachPolicy:
    """Each step, joint targets `gain` of the way from the measured joints to the inverse
    kinematics of the target, read from the state vector: joint_pos first, target_pos right
    after the proprioception."""

    def __init__(self, env, gain: float):
        base = env.unwrapped
        self.robot, self.gain = base.robot, gain
        self.spec = self.robot.control_mode("joint_pos")
        self.card = PolicyCard(f"toy-reach:{gain:g}", control_mode="joint_pos",
                               action_dim=self.spec.size, obs_mode="state",
                               state_dim=self.robot.proprio_size)
        self.card.check(env)
        self.n = len(self.robot.joints)
        self.target = slice(self.robot.proprio_size, self.robot.proprio_size + 3)

    def reset(self, seed: int | None = None) -> None:
        pass

    def act(self, obs) -> np.ndarray:
        obs = np.asarray(obs, dtype=np.float64)
        q = obs[: self.n]
        goal = kinematics.inverse(obs[self.target], self.robot.joint_lower,
                                  self.robot.joint_upper)
        action = self.spec.to_normalised(q + self.gain * (goal - q))
        return np.clip(action, -1.0, 1.0).astype(np.float32)


@register_policy("toy-hold", usage="toy-hold[:VALUE]",
                 summary="lr-toy-plugin: the same action VALUE (-1..1, default 0) on every "
                         "dimension")
def build_hold(arg: str, env, seed):
    return HoldPolicy(env, _number("toy-hold", arg, 0.0, -1.0, 1.0))


@register_policy("toy-reach", usage="toy-reach[:GAIN]", obs_mode="state",
                 summary="lr-toy-plugin: proportional reacher for the ToyArm (GAIN 0-1, "
                         "default 0.5)")
def build_reach(arg: str, env, seed):
    return ReachPolicy(env, _number("toy-reach", arg, 0.5, 0.01, 1.0))
