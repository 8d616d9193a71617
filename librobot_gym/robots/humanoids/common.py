"""What the humanoids share beyond the balance law: each robot's `BalanceLayout`, the places in
its joint vector the standing balance law (`balance.py`) writes, registered by the robot's
module under its name so the simulator's `upper_body` mode and the Stand expert find it from
the spec alone (`layout_for(robot)`). Pure Python: robots may not import backends."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from librobot_gym.errors import ConfigError
from librobot_gym.robots.spec import ProprioField


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
