"""The tabletop suite at each arm's scale: the schema of the numbers that scale with the arm.

Every tabletop task (PickCup-v1 and the tasks built beside it) shares one table, one room, one
camera set and one object scale per arm. `TabletopLayout` holds those numbers; the numbers
themselves live in the robot's folder as plain data (`robots/arms/<name>/layouts.py`,
`task_layouts={"tabletop": ...}` on its spec), so adding an arm to the suite never touches a
task. `librobot_gym.robots.arms.franka_panda.layouts.TABLETOP` is the reference.
"""

from __future__ import annotations

from dataclasses import MISSING, dataclass, fields

import numpy as np

from librobot_gym.errors import ConfigError
from librobot_gym.scene import CameraPose


@dataclass(frozen=True)
class TabletopLayout:
    """Every number of the tabletop suite that scales with the arm (m, base frame; the robot
    stands on the table top, z = 0).

    Objects: the object set's sizes times `object_scale`; they stand with their centres in
    the `place` rectangle, those the arm must grasp in the `reach` rectangle, at least
    `clearance` apart (rim to rim: room for a finger). Room: the table, the floor
    `floor_depth` below it, the walls around `room_half_size` at `room_centre`. Cameras:
    {name: {pos, lookat, fovy[, up]}} for the robot's cameras (`CameraPose`). Grasping
    experts: tool orientation (pointing down), how high above an object's top they hover,
    the jaw offsets across the grasp (m along the closing direction, open and closing; 0 for
    a centred parallel gripper), how long they close, how far they lift, their tolerances.
    Pushing and pressing experts (`skills_push.py`): the gripper command they hold
    (`pusher_gripper`, -1 closed) and what of the hand then reaches lowest, the pusher: its
    middle `pusher_offset` along the tool's y from the tool centre point, `pusher_depth`
    below it, `pusher_half` its half size across (defaults: a centred parallel gripper, closed,
    fingertips 1 cm below the tool centre point). Placing experts (`skills_place.py`) let go
    by opening the gripper fully, or where `release_margin` (m) is set, only that much wider
    than the thing held: long fingers (the 2F-85's) opened fully inside a bowl would press on
    its slanted walls from both sides and hold the bowl.
    """

    object_scale: float
    table_centre_x: float
    table_half_size: tuple[float, float]
    leg_offset: tuple[float, float]
    place_x_range: tuple[float, float]
    place_y_range: tuple[float, float]
    reach_x_range: tuple[float, float]
    reach_y_range: tuple[float, float]
    clearance: float
    room_half_size: tuple[float, float]
    room_centre: tuple[float, float]
    wall_height: float
    cameras: dict
    tool_rot: np.ndarray
    hover_height: float
    lift_success: float
    lift_to: float
    close_steps: int
    approach_tolerance: float
    grasp_tolerance: float
    descend_abort: float
    jaw_offset_open: float = 0.0
    jaw_offset_close: float = 0.0
    settle_step: float = 0.0
    floor_depth: float = 0.75
    pusher_gripper: float = -1.0
    pusher_offset: float = 0.0
    pusher_depth: float = 0.01
    pusher_half: float = 0.01
    release_margin: float = 0.0

    @classmethod
    def for_robot(cls, robot) -> TabletopLayout:
        """The layout the robot's spec declares (`task_layouts["tabletop"]`)."""
        numbers = robot.task_layouts.get("tabletop")
        if numbers is None:
            raise ConfigError(f"robot {robot.name!r} has no tabletop layout: add "
                              f"task_layouts={{'tabletop': {{...}}}} to its RobotSpec with the "
                              f"fields of TabletopLayout (see docs/add-a-task.md)")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(numbers) - known)
        missing = sorted(f.name for f in fields(cls)
                         if f.name not in numbers and f.default is MISSING)
        if unknown or missing:
            raise ConfigError(f"robot {robot.name!r}: its tabletop layout has unknown fields "
                              f"{unknown} and lacks {missing}; see TabletopLayout")
        values = dict(numbers)
        values["tool_rot"] = np.asarray(values["tool_rot"], dtype=np.float64)
        return cls(**values)

    def camera_poses(self) -> list[CameraPose]:
        """The robot's cameras as the tabletop scenes frame them."""
        try:
            return [CameraPose(name, tuple(c["pos"]), tuple(c["lookat"]), float(c["fovy"]),
                               tuple(c.get("up", (0.0, 0.0, 1.0))))
                    for name, c in self.cameras.items()]
        except (KeyError, TypeError) as exc:
            raise ConfigError(f"tabletop layout cameras: each is {{'pos': (x, y, z), "
                              f"'lookat': (x, y, z), 'fovy': deg[, 'up': (x, y, z)]}} ({exc})"
                              ) from None
