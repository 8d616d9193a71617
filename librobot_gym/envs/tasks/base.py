"""What every task offers, and the backend-neutral views it works with.

A task describes its scene as `SceneObject`s (primitive shapes), draws a reset from a seeded RNG,
and judges the world from a `WorldState` the backend fills in. It never sees MuJoCo or a robot
driver, so the same task runs in simulation and on hardware.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from librobot_gym.robots import RobotSpec


@dataclass(frozen=True)
class VisualPart:
    """A purely visual primitive attached to a scene object (no collision), in its frame."""

    shape: str
    size: tuple[float, ...]
    pos: tuple[float, float, float] = (0.0, 0.0, 0.0)
    rgba: tuple[float, float, float, float] | None = None  # None: the object's colour


@dataclass(frozen=True)
class SceneObject:
    """A primitive body in the scene. `shape` is "box" (size = half extents) or "cylinder"
    (size = radius, half height). Free objects have a mass; fixed ones are part of the arena."""

    name: str
    shape: str
    size: tuple[float, ...]
    pos: tuple[float, float, float]
    rgba: tuple[float, float, float, float]
    mass: float | None = None  # None: fixed to the world
    friction: float = 1.0
    parts: tuple[VisualPart, ...] = ()

    @property
    def free(self) -> bool:
        return self.mass is not None


@dataclass
class TaskReset:
    """One draw of the reset distribution."""

    instruction: str
    poses: dict[str, tuple[np.ndarray, np.ndarray]]  # object -> (pos, quat wxyz)
    colours: dict[str, tuple[float, float, float, float]] = field(default_factory=dict)


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
    robot_arena_contact: bool  # any robot part other than the pads touches a fixed object
    near_joint_limit: bool


class Task:
    """Base class: subclasses fill in the scene, reset, reward, success and expert."""

    name: str = "task"
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

    def scene(self) -> list[SceneObject]:
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
            "arena_contact": state.robot_arena_contact,
            "joint_limit": state.near_joint_limit,
        }

    def make_expert(self):
        """A scripted expert with `reset()` and `act(state) -> EeCommand`."""
        raise NotImplementedError


@dataclass
class EeCommand:
    """What an arm expert asks for: a tool target and a gripper opening in [-1, 1]."""

    target_pos: np.ndarray
    target_rot: np.ndarray
    gripper: float
