"""What every mobile manipulator here declares the same way (Fetch, TIAGo): its control modes'
action dims and its proprioception, built from the robot's own figures (the base's twist and
acceleration limits, the torso's travel and speed, the gripper's opening), so two robots
cannot drift apart in names, order or units."""

from __future__ import annotations

import math

from librobot_gym.robots.arms.common import gripper_dim
from librobot_gym.robots.spec import (
    ActionDim,
    ControlModeSpec,
    DiffDriveSpec,
    GripperSpec,
    JointSpec,
    ProprioField,
)


def twist_dims(drive: DiffDriveSpec) -> tuple[ActionDim, ActionDim]:
    """forward_speed (m/s) and yaw_rate (rad/s) at the base's limits, slewed at its
    acceleration limits."""
    return (ActionDim("forward_speed", "m/s", -drive.max_speed, drive.max_speed,
                      f"base speed along its heading, + forward; slewed at <= "
                      f"{drive.max_accel:g} m/s^2"),
            ActionDim("yaw_rate", "rad/s", -drive.max_yaw_rate, drive.max_yaw_rate,
                      f"base turn rate, + counter-clockwise; slewed at <= "
                      f"{drive.max_yaw_accel:g} rad/s^2"))


def base_twist_ee_delta_pose(drive: DiffDriveSpec, gripper: GripperSpec, torso_travel: float,
                             torso_speed: float, max_step_translation: float,
                             max_step_rotation: float) -> ControlModeSpec:
    """`base_twist+ee_delta_pose`: the twist, a gripper delta in the base frame, the torso's
    speed (m/s, its target kept within 0..`torso_travel` m) and the gripper opening."""
    return ControlModeSpec(
        "base_twist+ee_delta_pose",
        twist_dims(drive)
        + tuple(ActionDim(f"d{axis}", "m", -max_step_translation, max_step_translation,
                          f"gripper translation along the base's {axis} axis this step")
                for axis in "xyz")
        + tuple(ActionDim(f"d{axis}", "rad", -max_step_rotation, max_step_rotation,
                          f"gripper rotation about the base's {axis[-1]} axis this step")
                for axis in ("roll_x", "pitch_y", "yaw_z"))
        + (ActionDim("torso_speed", "m/s", -torso_speed, torso_speed,
                     f"torso lift speed, + up; its target stays within 0-{torso_travel:.3g} m"),
           gripper_dim(gripper.max_opening)),
        "A base twist (as cmd_vel), a gripper delta in the base frame (the arm holds its "
        "posture relative to the base when it is zero), the torso's speed and the gripper "
        "opening.",
    )


def mobile_joint_pos(joints: tuple[JointSpec, ...], gripper: GripperSpec,
                     torso_travel: float) -> ControlModeSpec:
    """`joint_pos`: absolute arm joint targets (rad, scaled to the limits), the torso's target
    height (m) and the gripper opening; the base holds still and the head looks at its home."""
    return ControlModeSpec(
        "joint_pos",
        tuple(ActionDim(j.name, "rad", j.lower, j.upper, "absolute joint target")
              for j in joints)
        + (ActionDim("torso_lift", "m", 0.0, torso_travel, "absolute torso lift target"),
           gripper_dim(gripper.max_opening)),
        "Absolute arm joint and torso targets and the gripper opening; the base stands still "
        "(drive it with base_twist+ee_delta_pose).",
    )


def proprio(drive: DiffDriveSpec, n_arm: int = 7) -> tuple[ProprioField, ...]:
    """The arm's state, the torso and head, then the base's odometry, twist, wheel speeds and
    scan: what `envs/sim/mobile_manipulator.py` reports, in its order."""
    half_fov = math.degrees(drive.lidar_fov / 2)
    return (
        ProprioField("joint_pos", n_arm, "rad (arm)"),
        ProprioField("joint_vel", n_arm, "rad/s (arm)"),
        ProprioField("gripper_opening", 1, "m"),
        ProprioField("ee_pos", 3, "m, world"),
        ProprioField("ee_quat", 4, "quaternion wxyz, world"),
        ProprioField("torso_head", 3, "m, rad, rad (torso lift, head pan, head tilt)"),
        ProprioField("base_pose", 3, "m, m, rad (x, y, yaw in the odometry frame)"),
        ProprioField("base_twist", 2, "m/s, rad/s (measured forward speed, yaw rate)"),
        ProprioField("wheel_vel", 2, "rad/s (left, right)"),
        ProprioField("lidar", drive.lidar_beams,
                     f"m, {drive.lidar_beams} ranges from -{half_fov:g} deg (right) to "
                     f"+{half_fov:g} deg (left), max {drive.lidar_range:g}"),
    )
