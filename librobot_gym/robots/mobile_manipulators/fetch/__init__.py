"""Fetch (Fetch Robotics): a differential-drive base, a torso lift, a pan/tilt head with its
camera, a 7-DoF arm and a parallel gripper.

Figures used, and where they come from (fetch_description's URDF, robots/fetch.urdf, in
ZebraDevs/fetch_ros, read in this session): base mass 70.13 kg (and its inertia); drive
wheels 4.35 kg at y +-0.18738 m, axles 0.0553 m up; torso lift 0-0.38615 m, 0.1 m/s, 450 N,
its joint at (-0.0869, 0, 0.3774) m; head pan +-1.57 rad and tilt -0.76..1.45 rad, both
1.57 rad/s; arm joints (origin offsets, axes, limits, velocities, efforts):
shoulder_pan +-1.6056 rad (1.256 rad/s, 33.82 N m), shoulder_lift -1.221..1.518 (1.454,
131.76), upperarm_roll continuous (1.571, 76.94), elbow_flex +-2.251 (1.521, 66.18),
forearm_roll continuous (1.571, 29.35), wrist_flex +-2.16 (2.268, 25.7), wrist_roll continuous
(2.268, 7.36); link masses; gripper fingers 0-0.05 m each (60 N).
From Fetch's documentation as we know it (not re-checked here): drive wheel radius 0.0613 m,
top speed 1.0 m/s, a 0.56 m round base, the base laser (SICK TIM571 class, 220 deg, 25 m) at
(0.235, 0, 0.288) m, the head camera 0.055 m ahead of the tilt axis, the "tuck" posture
(1.32, 1.40, -0.2, 1.72, 0, 1.66, 0) rad of fetch_teleop's tuck_arm.
Our choices: continuous roll joints limited to +-2 pi (a finite range for limit checks and
`joint_pos`-style targets); yaw rate +-1.5 rad/s with acceleration limits 1 m/s^2 and
2 rad/s^2; tool steps of at most 0.03 m and 0.15 rad per control step at 10 Hz; the head
held at pan 0, tilt 0.35 rad (the floor ahead and table tops in view); primitive shapes for
every link.
"""

import math
from pathlib import Path

from librobot_gym.robots.mobile_manipulators.common import (
    base_twist_ee_delta_pose,
    mobile_joint_pos,
    proprio,
)
from librobot_gym.robots.registry import register_robot
from librobot_gym.robots.spec import (
    CameraSpec,
    DiffDriveSpec,
    GripperSpec,
    JointSpec,
    RobotSpec,
    UpperBodySpec,
)

TWO_PI = 2 * math.pi
_ARM = (
    # name, lower (rad), upper (rad), max velocity (rad/s), max effort (N m): fetch.urdf
    ("shoulder_pan_joint", -1.6056, 1.6056, 1.256, 33.82),
    ("shoulder_lift_joint", -1.221, 1.518, 1.454, 131.76),
    ("upperarm_roll_joint", -TWO_PI, TWO_PI, 1.571, 76.94),
    ("elbow_flex_joint", -2.251, 2.251, 1.521, 66.18),
    ("forearm_roll_joint", -TWO_PI, TWO_PI, 1.571, 29.35),
    ("wrist_flex_joint", -2.16, 2.16, 2.268, 25.7),
    ("wrist_roll_joint", -TWO_PI, TWO_PI, 2.268, 7.36),
)
JOINTS = tuple(JointSpec(n, lo, hi, v, t) for n, lo, hi, v, t in _ARM)
TUCK = (1.32, 1.40, -0.2, 1.72, 0.0, 1.66, 0.0)
GRIPPER = GripperSpec(joints=("l_gripper_finger_joint", "r_gripper_finger_joint"),
                      pad_geoms=("l_finger_pad", "r_finger_pad"), max_opening=0.1,
                      max_force=60.0)
DIFF_DRIVE = DiffDriveSpec(
    base_joints=("base_x", "base_y", "base_yaw"),
    actuators=("forward", "lateral", "yaw"),
    wheel_joints=("l_wheel_joint", "r_wheel_joint"),
    wheel_actuators=("l_wheel_drive", "r_wheel_drive"),
    wheel_radius=0.0613, track=2 * 0.18738,
    max_speed=1.0, max_yaw_rate=1.5, max_accel=1.0, max_yaw_accel=2.0,
    radius=0.3,
    lidar_site="base_laser", lidar_beams=24, lidar_fov=math.radians(220.0), lidar_range=25.0,
)
UPPER_BODY = UpperBodySpec(torso_joint="torso_lift_joint", torso_actuator="torso_lift",
                           torso_max_speed=0.1, head_joints=("head_pan_joint", "head_tilt_joint"),
                           head_actuators=("head_pan", "head_tilt"), head_home=(0.0, 0.35))
MAX_STEP_TRANSLATION = 0.03  # m per control step
MAX_STEP_ROTATION = 0.15  # rad per control step

BASE_TWIST_EE_DELTA_POSE = base_twist_ee_delta_pose(
    DIFF_DRIVE, GRIPPER, torso_travel=0.38615, torso_speed=UPPER_BODY.torso_max_speed,
    max_step_translation=MAX_STEP_TRANSLATION, max_step_rotation=MAX_STEP_ROTATION)
JOINT_POS = mobile_joint_pos(JOINTS, GRIPPER, torso_travel=0.38615)

FETCH = register_robot(RobotSpec(
    name="fetch",
    family="mobile_manipulator",
    asset=str(Path(__file__).with_name("fetch.xml")),
    joints=JOINTS,
    actuators=tuple(n.removesuffix("_joint") for n, *_ in _ARM) + ("gripper",)
    + DIFF_DRIVE.actuators + DIFF_DRIVE.wheel_actuators
    + (UPPER_BODY.torso_actuator,) + UPPER_BODY.head_actuators,
    control_modes={m.name: m for m in (BASE_TWIST_EE_DELTA_POSE, JOINT_POS)},
    default_control_mode="base_twist+ee_delta_pose",
    proprio=proprio(DIFF_DRIVE),
    cameras=(
        CameraSpec("head", "head_tilt_link", 45.0),
        CameraSpec("overhead", "world", 60.0),
    ),
    home_qpos=TUCK,
    tool_site="gripper_tcp",
    gripper=GRIPPER,
    control_hz=10.0,
    physics_dt=0.01,
    diff_drive=DIFF_DRIVE,
    upper_body=UPPER_BODY,
    base_joints=DIFF_DRIVE.base_joints,
    drivers=("ros:ws://HOST:9090?robot=fetch",),  # through rosbridge (hardware/ros)
    stand_in="ros:emulator:lockstep?world=sim",  # in the task's MuJoCo scene
))
