"""The task's scripted expert as a policy: privileged state in, normalised actions out."""

from __future__ import annotations

import gymnasium as gym
import mujoco
import numpy as np

from librobot_gym.envs.tasks.base import EeCommand, WorldState
from librobot_gym.errors import ConfigError
from librobot_gym.policies.base import PolicyCard
from librobot_gym.robots import ControlModeSpec


def rotation_vector(rot: np.ndarray) -> np.ndarray:
    """Axis * angle of a 3x3 rotation matrix."""
    quat, vel = np.empty(4), np.empty(3)
    mujoco.mju_mat2Quat(quat, np.ascontiguousarray(rot).reshape(9))
    mujoco.mju_quat2Vel(vel, quat, 1.0)
    return vel


def ee_command_to_action(state: WorldState, command: EeCommand, spec: ControlModeSpec,
                         gain: float = 0.8) -> np.ndarray:
    """P-control towards the command's tool pose, as an `ee_delta_pose` action in [-1, 1] (the
    gripper's dimension only where the mode has one: an arm without a gripper has six)."""
    delta_pos = gain * (command.target_pos - state.ee_pos)
    delta_rot = gain * rotation_vector(command.target_rot @ state.ee_rot.T)
    physical = np.concatenate([delta_pos, delta_rot, [command.gripper]])[: spec.size]
    return np.clip(spec.to_normalised(physical), -1.0, 1.0).astype(np.float32)


class ExpertPolicy:
    """Acts from the env's privileged state, so it needs the env itself, not just observations.

    `noise` > 0 makes a perturbed expert (spec "expert:0.3"): gaussian noise of that standard
    deviation on every normalised action dimension, seeded per episode. A family of experts of
    graded quality is what sim-to-real comparisons rank.
    """

    def __init__(self, env: gym.Env, noise: float = 0.0, seed: int | None = None):
        if not (np.isfinite(noise) and noise >= 0):
            raise ConfigError(f"expert noise (policy expert:NOISE) must be a finite number "
                              f">= 0, e.g. expert:0.3; got {noise!r}")
        self.env = env.unwrapped
        name = "expert" if noise == 0 else f"expert:{noise:g}"
        self.card = PolicyCard(name, control_mode=self.env.task.expert_control_mode)
        self.card.check(env)
        if getattr(self.env, "backend", None) == "real":
            # A cell that does not measure its objects refuses privileged state: say so now,
            # in one line, not at the first action after the operator has set the scene up.
            self.env.privileged_state()
        self.expert = self.env.task.make_expert()
        self.noise = float(noise)
        self.rng = np.random.default_rng(seed)

    def reset(self, seed: int | None = None) -> None:
        self.expert.reset()
        if seed is not None:
            self.rng = np.random.default_rng(seed)

    def act(self, obs) -> np.ndarray:
        state = self.env.privileged_state()
        command = self.expert.act(state)
        if isinstance(command, EeCommand):
            action = ee_command_to_action(state, command, self.env.action_spec)
        else:
            action = np.asarray(command, dtype=np.float32)
        if self.noise:
            action = np.clip(action + self.rng.normal(0.0, self.noise, action.shape), -1, 1)
        return action.astype(np.float32)
