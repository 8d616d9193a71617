"""What every task offers, and the backend-neutral views it works with.

A task describes its scene as `SceneObject`s (primitive shapes), draws a reset from a seeded RNG,
and judges the world from a `WorldState` the backend fills in. It never sees MuJoCo or a robot
driver, so the same task runs in simulation and on hardware.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from librobot_gym.robots import RobotSpec
from librobot_gym.scene import DumpZone, MaterialPile, ObjectPart, SceneObject

__all__ = ["DumpZone", "MaterialPile", "ObjectPart", "Push", "SceneObject", "EeCommand", "Task",
           "TaskReset", "Terrain", "WorldState", "reach_reward"]


def reach_reward(distance: float, scale: float) -> float:
    """A dense reach term in (0, 1]: 1 at the target, 0.5 (1 - tanh(d / s)) + 0.5 (1 - tanh(5 d
    / s)) away from it. `scale` is about how far the tool starts from its target: the wide half
    still pulls from there (~0.12 at d = s), the sharp half rewards the last few centimetres."""
    x = distance / scale
    return 1.0 - 0.5 * (math.tanh(x) + math.tanh(5.0 * x))


@dataclass(frozen=True)
class Push:
    """A shove the world gives the robot: a constant `force` (N, world frame) at the centre
    of mass of `body` from `start` for `duration` s of episode time (its impulse is force x
    duration, N s). The MuJoCo backend applies it at whole control steps (`envs/sim/pushes.py`);
    on hardware a person shoves the robot, so the real backend applies none."""

    body: str
    start: float
    duration: float
    force: tuple[float, float, float]


@dataclass
class TaskReset:
    """One draw of the reset distribution."""

    instruction: str
    poses: dict[str, tuple[np.ndarray, np.ndarray]]  # object (free or fixed) -> (pos, quat wxyz)
    colours: dict[str, tuple[float, float, float, float]] = field(default_factory=dict)
    # Articulated objects' joints, "<object>/<link>" -> position (m or rad); unnamed: 0.
    joints: dict[str, float] = field(default_factory=dict)
    # A mobile robot's start: its base at (x, y, yaw) (m, m, rad, world); None: where the
    # robot's model puts it.
    base_pose: tuple[float, float, float] | None = None
    # Loose material in the machine's bucket or body at reset (a hauler that starts loaded), kg.
    payload_kg: float = 0.0
    # Shoves the world gives the robot during the episode (a Stand task's), in time order.
    pushes: tuple[Push, ...] = ()


@dataclass(slots=True)
class WorldState:
    """What a task may read of the world after a control step (privileged for the expert)."""

    time: float
    ee_pos: np.ndarray
    ee_rot: np.ndarray  # 3x3 rotation of the tool frame
    gripper_opening: float  # m between the pads
    object_pos: dict[str, np.ndarray]
    object_quat: dict[str, np.ndarray]
    grasped: dict[str, bool]  # held between both gripper pads
    robot_contacts: frozenset[str]  # fixed objects (or named parts) a robot part touches
    near_joint_limit: bool
    joint_pos: np.ndarray  # the robot's actuated joints, in `robot.joints` order
    extras: dict[str, float] = field(default_factory=dict)  # machine and material quantities
    terrain: Terrain | None = None  # privileged: the material heights, where a task has any
    # Articulated objects' joints (a drawer's slide, a button's press), "<object>/<link>" ->
    # position (m or rad), where the scene has any.
    object_joints: dict[str, float] = field(default_factory=dict)


@dataclass
class Terrain:
    """A copy of a material pile's height grid: heights[iy, ix] in m above the ground at
    (origin_x + ix * cell, origin_y + iy * cell)."""

    heights: np.ndarray
    origin: tuple[float, float]
    cell: float

    def height_at(self, x: float, y: float) -> float:
        ix = int(round((x - self.origin[0]) / self.cell))
        iy = int(round((y - self.origin[1]) / self.cell))
        if 0 <= iy < self.heights.shape[0] and 0 <= ix < self.heights.shape[1]:
            return float(self.heights[iy, ix])
        return 0.0


class Task:
    """Base class: subclasses fill in the scene, reset, reward, success and expert."""

    name: str = "task"
    summary: str = ""  # one line for listings (`librobot tasks`)
    max_episode_steps: int = 200
    reward_types = ("dense", "sparse")

    def __init__(self, robot: RobotSpec, reward_type: str = "dense"):
        from librobot_gym.errors import ConfigError

        if reward_type not in self.reward_types:
            raise ConfigError(
                f"reward_type={reward_type!r} is not one of {self.reward_types} "
                f"for task {self.name}"
            )
        self.robot = robot
        self.reward_type = reward_type

    floor_height: float = 0.0  # m, where the ground plane lies in the robot base frame
    # The variant factors the task offers (`envs/variants`): "factor" for every level,
    # "factor:level" for one. None declared: only the default.
    variant_factors: tuple[str, ...] = ()
    expert_control_mode: str = "ee_delta_pose"  # what the scripted expert emits

    def scene(self) -> list[SceneObject | MaterialPile | DumpZone]:
        raise NotImplementedError

    def reset(self, rng: np.random.Generator) -> TaskReset:
        raise NotImplementedError

    def object_observation(self, state: WorldState) -> dict[str, np.ndarray]:
        """Task-relevant object state for `state` observation modes, as named vectors."""
        raise NotImplementedError

    def success(self, state: WorldState) -> bool:
        raise NotImplementedError

    def failure(self, state: WorldState) -> bool:
        return False

    def reward(self, state: WorldState, success: bool) -> float:
        raise NotImplementedError

    def metrics(self, state: WorldState) -> dict[str, float]:
        return {}

    def evaluate(self, state: WorldState) -> tuple[bool, bool, float, dict[str, float]]:
        """(success, failure, reward, metrics) in one call, the env's once-per-step question.
        Tasks may override it to share work between the four answers."""
        success = self.success(state)
        return success, self.failure(state), self.reward(state, success), self.metrics(state)

    def safety(self, state: WorldState) -> dict[str, bool]:
        return {
            "arena_contact": bool(state.robot_contacts),
            "joint_limit": state.near_joint_limit,
        }

    def make_expert(self):
        """A scripted expert with `reset()` and `act(state)`, which returns an `EeCommand` (arms)
        or a normalised action for `expert_control_mode`."""
        raise NotImplementedError


@dataclass
class EeCommand:
    """What an arm expert asks for: a tool target and a gripper opening in [-1, 1]."""

    target_pos: np.ndarray
    target_rot: np.ndarray
    gripper: float
