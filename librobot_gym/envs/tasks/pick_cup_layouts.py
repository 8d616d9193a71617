"""PickCup at each arm's scale: the schema of the numbers that scale with the arm.

The task is one (lift the named cup off the table and hold it); what changes with the arm is
its size. A `PickCupLayout` holds every number that scales; the numbers themselves live in the
robot's folder as plain data (`robots/arms/<name>/layouts.py`, `task_layouts={"pick_cup": ...}`
on its spec), so adding an arm never touches the task.
"""

from __future__ import annotations

from dataclasses import MISSING, dataclass, fields

import numpy as np

from librobot_gym.errors import ConfigError


@dataclass(frozen=True)
class PickCupLayout:
    """Every number of PickCup that scales with the arm (m, kg, base frame)."""

    cup_radius: float
    cup_half_height: float
    cup_mass: float
    handle_size: tuple[float, float, float]  # half extents of the (visual) handle box
    handle_z: float  # its height above the cup centre
    lift_success: float  # m above the rest height, while held
    cup_x_range: tuple[float, float]  # reset patch of the cup centre
    cup_y_range: tuple[float, float]
    cup_start: tuple[float, float]  # where the scene puts the cup before any reset
    table_centre_x: float  # the table top is z = 0, 0.025 m thick, on a floor 0.75 m below
    table_half_size: tuple[float, float]
    leg_offset: tuple[float, float]  # legs at (centre x +- dx, +- dy)
    # The scripted expert: tool orientation, hover, grasp and closing points (world offsets
    # from the cup centre), how long it closes the gripper, how high it lifts (above the rest
    # height), how close (m) it must be to move on, how far off (m) a descent is aborted, and
    # how little (m) the tool may have moved in the last step to start one (0: no check).
    tool_rot: np.ndarray
    hover_offset: tuple[float, float, float]
    grasp_offset: tuple[float, float, float]
    close_offset: tuple[float, float, float]
    close_steps: int
    lift_to: float
    approach_tolerance: float
    grasp_tolerance: float
    descend_abort: float
    settle_step: float = 0.0

    @classmethod
    def for_robot(cls, robot) -> PickCupLayout:
        """The layout the robot's spec declares (`task_layouts["pick_cup"]`)."""
        numbers = robot.task_layouts.get("pick_cup")
        if numbers is None:
            raise ConfigError(f"robot {robot.name!r} has no PickCup layout: add "
                              f"task_layouts={{'pick_cup': {{...}}}} to its RobotSpec with the "
                              f"fields of PickCupLayout (see README, 'Add a robot')")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(numbers) - known)
        missing = sorted(f.name for f in fields(cls)
                         if f.name not in numbers and f.default is MISSING)
        if unknown or missing:
            raise ConfigError(f"robot {robot.name!r}: its PickCup layout has unknown fields "
                              f"{unknown} and lacks {missing}; see PickCupLayout")
        values = dict(numbers)
        values["tool_rot"] = np.asarray(values["tool_rot"], dtype=np.float64)
        return cls(**values)
