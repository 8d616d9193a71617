"""What the humanoids share beyond the balance law: each robot's `BalanceLayout`, the places in
its joint vector the standing balance law (`balance.py`) writes, registered by the robot's
module under its name so the simulator's `upper_body` mode and the Stand expert find it from
the spec alone (`layout_for(robot)`); its `HandsLayout` (arm joints, grippers, grip sites) for
the `ee_delta_pose` mode and the TabletopPick expert (`hands_for(robot)`), and that mode's
spec. Pure Python: robots may not import backends."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from librobot_gym.errors import ConfigError
from librobot_gym.robots.spec import ActionDim, ControlModeSpec, ProprioField


@dataclass(frozen=True)
class BalanceLayout:
    """Where the balance law acts, as indices into the robot's joint vector (`robot.joints`).

    `n_held`: the leading joints the law holds (legs, then torso or waist); `upper_body` is
    every joint after them. `hip_roll`, `hip_pitch`, `ankle_pitch`: one index per leg;
    `ankle_roll`: one per leg on robots that have it (else empty). `gains`: the law's gains
    for this robot (rad per m of capture-point offset), overriding the module defaults."""

    n_held: int
    hip_roll: tuple[int, int]
    hip_pitch: tuple[int, int]
    ankle_pitch: tuple[int, int]
    ankle_roll: tuple[int, ...] = ()
    gains: Mapping[str, float] = field(default_factory=dict)


_LAYOUTS: dict[str, BalanceLayout] = {}


def register_layout(robot_name: str, layout: BalanceLayout) -> BalanceLayout:
    """Record `robot_name`'s layout (a humanoid's module calls this next to `register_robot`)."""
    _LAYOUTS[robot_name] = layout
    return layout


def layout_for(robot) -> BalanceLayout:
    """The balance layout of `robot` (a RobotSpec or its name)."""
    name = getattr(robot, "name", robot)
    try:
        return _LAYOUTS[name]
    except KeyError:
        raise ConfigError(f"{name!r} has no balance layout; a humanoid's module registers one "
                          f"with robots.humanoids.common.register_layout (known: "
                          f"{sorted(_LAYOUTS)})") from None


def humanoid_proprio(joints: int, imu_body: str, joint_units: str = "rad",
                     velocity_units: str = "rad/s") -> tuple[ProprioField, ...]:
    """A humanoid's proprioception: joint positions and velocities, then the IMU on
    `imu_body` (orientation, gyro, specific force), as every robot of the family reports it."""
    return (
        ProprioField("joint_pos", joints, joint_units),
        ProprioField("joint_vel", joints, velocity_units),
        ProprioField("imu_quat", 4, f"quaternion wxyz, the {imu_body} IMU in the world"),
        ProprioField("imu_gyro", 3, "rad/s, IMU frame"),
        ProprioField("imu_acc", 3, "m/s^2, IMU frame (specific force: +9.81 up at rest)"),
    )


@dataclass(frozen=True)
class HandsLayout:
    """Where a humanoid's hands are: per side (left, right), the arm joints' indices into the
    joint vector (`robot.joints`) that the `ee_delta_pose` mode's inverse kinematics moves, the
    gripper joint's index (its value is the jaws' opening, m) and the site between the jaws
    (`left_grip`, `right_grip`: the point a grasp closes on)."""

    arms: tuple[tuple[int, ...], tuple[int, ...]]
    grippers: tuple[int, int]
    grip_sites: tuple[str, str] = ("left_grip", "right_grip")
    max_opening: float = 0.085  # m


SIDES = ("left", "right")
_HANDS: dict[str, HandsLayout] = {}


def register_hands(robot_name: str, layout: HandsLayout) -> HandsLayout:
    """Record `robot_name`'s hands (a humanoid's module calls this next to `register_robot`)."""
    _HANDS[robot_name] = layout
    return layout


def hands_for(robot) -> HandsLayout:
    """The hands layout of `robot` (a RobotSpec or its name)."""
    name = getattr(robot, "name", robot)
    try:
        return _HANDS[name]
    except KeyError:
        raise ConfigError(f"{name!r} has no hands layout; a humanoid's module registers one "
                          f"with robots.humanoids.common.register_hands (known: "
                          f"{sorted(_HANDS)})") from None


# The `ee_delta_pose` mode's per-step limits: 0.02 m (1 m/s at 50 Hz) and 0.1 rad (5 rad/s).
EE_MAX_STEP = 0.02
EE_MAX_TURN = 0.1


def ee_delta_pose_mode(label: str, hands: HandsLayout, rotation: str) -> ControlModeSpec:
    """The humanoid `ee_delta_pose` mode's spec: per hand (left, then right) a translation and
    a rotation of the grip point in the pelvis frame, and the jaws' opening."""
    dims = []
    for side in SIDES:
        dims += [ActionDim(f"{side}_d{a}", "m", -EE_MAX_STEP, EE_MAX_STEP,
                           f"{side} grip point's step along the pelvis's {a} axis")
                 for a in "xyz"]
        dims += [ActionDim(f"{side}_d{a}", "rad", -EE_MAX_TURN, EE_MAX_TURN,
                           f"{side} hand's turn about the pelvis's {a[-1]} axis")
                 for a in ("rx", "ry", "rz")]
        dims.append(ActionDim(f"{side}_gripper", "m", 0.0, hands.max_opening,
                              f"{side} jaws' opening target (0 closed)"))
    return ControlModeSpec(
        "ee_delta_pose", tuple(dims),
        f"{label}: per hand (left, then right) the grip point's step (m, +-{EE_MAX_STEP:g} a "
        f"step: 1 m/s at 50 Hz) and the hand's turn (rad, +-{EE_MAX_TURN:g} a step, about the "
        f"pelvis's axes) in the pelvis frame (x ahead, y left, z up), and the jaws' opening "
        f"(m, 0 closed); damped least-squares inverse kinematics on the arm joints; {rotation} "
        f"The legs and torso are held by the built-in balance controller, the head at its "
        f"nominal posture.")
