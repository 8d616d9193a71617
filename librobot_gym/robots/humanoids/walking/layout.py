"""Each humanoid's walking parameters as data: a `WalkLayout` registered by the robot's module
next to its `BalanceLayout`, found from the spec alone (`walk_layout_for(robot)`)."""

from __future__ import annotations

from dataclasses import dataclass

from librobot_gym.errors import ConfigError
from librobot_gym.robots.spec import ActionDim, ControlModeSpec

ACCEL = 0.5  # m/s^2: the walking command's rate limit
YAW_ACCEL = 1.0  # rad/s^2


@dataclass(frozen=True)
class WalkLayout:
    """Where the legs are in the joint vector and how the robot walks.

    `legs`: the left and the right leg's joint indices into `robot.joints`, hip to ankle;
    `soles`: the MJCF sites under the feet (the walking law places them); `step_time` (s,
    one single-support phase); `step_width` (m, the soles' lateral distance in steady
    walking); `pelvis_height` (m, the pelvis above the ground while walking); `swing_height`
    (m, the swing sole's apex); `max_step` (m: forward, backward, lateral reach of a step
    from the stance sole, the lateral one beyond `step_width`); `min_width` (m: the closest
    the soles may land side by side); `max_foot_yaw` (rad, a step's turn); `command`: the
    bounds of (vx m/s, vy m/s, yaw rate rad/s), symmetric except vx (backward, forward);
    `lean` (rad of trunk pitch forward per m/s of forward speed); `ankles`: how many joints
    end each leg's chain at the ankle (1: pitch; 2: pitch, then roll); `leg_kd` (N m s/rad per
    leg joint, hip to ankle; empty: the robot's own): the leg servos' damping while walking,
    with the targets' rates as their velocity reference (a swinging leg on stiff, lightly
    damped servos rings at about the step's period and lands its foot off target)."""

    legs: tuple[tuple[int, ...], tuple[int, ...]]
    step_time: float
    step_width: float
    pelvis_height: float
    swing_height: float = 0.08
    max_step: tuple[float, float, float] = (0.4, 0.25, 0.15)
    min_width: float = 0.18
    max_foot_yaw: float = 0.35
    vx_range: tuple[float, float] = (-0.5, 1.0)
    vy_max: float = 0.5
    yaw_rate_max: float = 1.0
    lean: float = 0.0
    ankles: int = 1
    leg_kd: tuple[float, ...] = ()


_LAYOUTS: dict[str, WalkLayout] = {}


def register_walk_layout(robot_name: str, layout: WalkLayout) -> WalkLayout:
    """Record `robot_name`'s walking layout (its module calls this next to `register_robot`)."""
    _LAYOUTS[robot_name] = layout
    return layout


def walk_layout_for(robot) -> WalkLayout:
    """The walking layout of `robot` (a RobotSpec or its name)."""
    name = getattr(robot, "name", robot)
    try:
        return _LAYOUTS[name]
    except KeyError:
        raise ConfigError(f"{name!r} has no walking layout, so it has no `base_velocity` mode; "
                          f"a humanoid's module registers one with robots.humanoids.walking."
                          f"register_walk_layout (known: {sorted(_LAYOUTS)})") from None


def base_velocity_mode(layout: WalkLayout) -> ControlModeSpec:
    """The `base_velocity` control mode's action spec for a robot walking by `layout`."""
    return ControlModeSpec(
        "base_velocity",
        (ActionDim("vx", "m/s", *layout.vx_range, "forward speed, heading frame"),
         ActionDim("vy", "m/s", -layout.vy_max, layout.vy_max, "leftward speed, heading frame"),
         ActionDim("yaw_rate", "rad/s", -layout.yaw_rate_max, layout.yaw_rate_max,
                   "turn rate, counter-clockwise")),
        f"A walking command at 50 Hz executed by the built-in walking controller "
        f"(`robots/humanoids/walking/`: capture-point footstep placement on the linear "
        f"inverted pendulum, {layout.step_time:g} s steps, swing-foot trajectories, leg "
        f"inverse kinematics, joint PD): commands are rate limited ({ACCEL:g} m/s^2, "
        f"{YAW_ACCEL:g} rad/s^2); "
        f"a zero command steps in place. The torso, head and arms hold the nominal posture.",
    )
