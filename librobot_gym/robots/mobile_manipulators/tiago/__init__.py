"""TIAGo (PAL Robotics): a differential-drive base (PMB2), a torso lift, a pan/tilt head with
its camera, a 7-DoF arm and the PAL parallel gripper.

Figures used, and where they come from (read in this session from pal-robotics' repositories:
tiago_robot 4.2.4, pmb2_robot 5.0.16, pal_gripper 3.1.0):
- pmb2_description base.urdf.xacro: wheel radius 0.0985 m, separation 0.4044 m, base_link one
  wheel radius over the floor, base mass 28.27 kg, wheels 1.82 kg, casters 0.025 m at +-0.1715,
  +-0.102 m; footprint.yaml: a 0.27 m circle; base_sensors.urdf.xacro: the laser (SICK TIM571,
  -110..+110 deg) at (0.202, 0, -0.004) m.
- tiago_controller_configuration mobile_base_controller.yaml: 1.0 m/s forward (0.2 m/s in
  reverse), 1.0 m/s^2; 2.09 rad/s and 2.09 rad/s^2 of yaw; cmd_vel_timeout 0.25 s.
- tiago_description torso.urdf.xacro: the fixed column 0.193 m up, the lift joint 0.597 m above
  it, travel 0-0.35 m at 0.07 m/s, 2000 N; torso_lift_link 6.93 kg, the column 14.01 kg.
- head.urdf.xacro: head_1 (pan) at (0.182, 0, 0) of the lift link, +-75 deg; head_2 (tilt)
  (0.005, 0, 0.098) further, -60..45 deg (+ looks up), both 3.0 rad/s, 5.197 and 2.77 N m;
  calibration_constants: the head camera (Orbbec Astra, 49.5 deg vertical field) 0.0908 m
  ahead of the tilt axis and 0.08 m above it.
- arm.urdf.xacro and wrist.urdf.xacro (tiago.urdf.xacro's single arm, mounted at (0.15505,
  0.014, -0.151) of the lift link turned -90 deg; wrist-2010, no force-torque sensor): each
  joint's origin (in tiago.xml), limits (deg) arm_1 0..157.5, arm_2 -90..62.5, arm_3
  -202.5..90, arm_4 -22.5..135, arm_5 +-120, arm_6 +-90, arm_7 +-120; velocities 1.95, 1.95,
  2.35, 2.35, 1.95, 1.76, 1.76 rad/s; efforts 43, 43, 26, 26, 3, 6.6, 6.6 N m; link masses;
  the tool 0.0573 m past arm_7.
- pal_gripper_description gripper.urdf.xacro: two prismatic fingers 0-0.045 m each (0.09 m
  open), 16 N, 0.05 m/s; their pads 0.11-0.22 m below the flange.
- tiago_bringup tiago_motions (play_motion "home"): the tucked arm (0.20, -1.34, -0.20, 1.94,
  -1.57, 1.37, 0.0) rad.
Our choices: the same reverse speed as forward (the spec's limits are symmetric; on hardware
the robot's own base controller caps reverse at 0.2 m/s, and the NavigateTo expert never
reverses), yaw at 1.5 rad/s
and 2 rad/s^2 as Fetch (well inside 2.09), the torso at 0.07 m/s; tool steps of at most
0.03 m and 0.15 rad per control step at 10 Hz; the head held at pan 0, tilt -0.35 rad (the
floor ahead and table tops in view); the tool frame at the finger pads' centre; primitive
shapes for every link.
"""

import math
from pathlib import Path

from librobot_gym.robots.mobile_manipulators.common import (
    base_twist_ee_delta_pose,
    mobile_joint_pos,
    proprio,
)
from librobot_gym.robots.mobile_manipulators.tiago.layouts import MOBILE
from librobot_gym.robots.registry import register_robot
from librobot_gym.robots.spec import (
    CameraSpec,
    DiffDriveSpec,
    GripperSpec,
    JointSpec,
    RobotSpec,
    UpperBodySpec,
)

_ARM = (
    # name, lower (rad), upper (rad), max velocity (rad/s), max effort (N m): arm/wrist xacros
    ("arm_1_joint", 0.0, math.radians(157.5), 1.95, 43.0),
    ("arm_2_joint", math.radians(-90.0), math.radians(62.5), 1.95, 43.0),
    ("arm_3_joint", math.radians(-202.5), math.radians(90.0), 2.35, 26.0),
    ("arm_4_joint", math.radians(-22.5), math.radians(135.0), 2.35, 26.0),
    ("arm_5_joint", math.radians(-120.0), math.radians(120.0), 1.95, 3.0),
    ("arm_6_joint", math.radians(-90.0), math.radians(90.0), 1.76, 6.6),
    ("arm_7_joint", math.radians(-120.0), math.radians(120.0), 1.76, 6.6),
)
JOINTS = tuple(JointSpec(n, lo, hi, v, t) for n, lo, hi, v, t in _ARM)
TUCK = (0.20, -1.34, -0.20, 1.94, -1.57, 1.37, 0.0)
TORSO_TRAVEL = 0.35  # m
GRIPPER = GripperSpec(joints=("gripper_left_finger_joint", "gripper_right_finger_joint"),
                      pad_geoms=("gripper_left_finger_pad", "gripper_right_finger_pad"),
                      max_opening=0.09, max_force=16.0)
DIFF_DRIVE = DiffDriveSpec(
    base_joints=("base_x", "base_y", "base_yaw"),
    actuators=("forward", "lateral", "yaw"),
    wheel_joints=("wheel_left_joint", "wheel_right_joint"),
    wheel_actuators=("wheel_left_drive", "wheel_right_drive"),
    wheel_radius=0.0985, track=0.4044,
    max_speed=1.0, max_yaw_rate=1.5, max_accel=1.0, max_yaw_accel=2.0,
    radius=0.3,
    lidar_site="base_laser", lidar_beams=24, lidar_fov=math.radians(220.0), lidar_range=25.0,
)
UPPER_BODY = UpperBodySpec(torso_joint="torso_lift_joint", torso_actuator="torso_lift",
                           torso_max_speed=0.07, head_joints=("head_1_joint", "head_2_joint"),
                           head_actuators=("head_1", "head_2"), head_home=(0.0, -0.35),
                           head_max_speed=3.0)
MAX_STEP_TRANSLATION = 0.03  # m per control step
MAX_STEP_ROTATION = 0.15  # rad per control step

BASE_TWIST_EE_DELTA_POSE = base_twist_ee_delta_pose(
    DIFF_DRIVE, GRIPPER, torso_travel=TORSO_TRAVEL, torso_speed=UPPER_BODY.torso_max_speed,
    max_step_translation=MAX_STEP_TRANSLATION, max_step_rotation=MAX_STEP_ROTATION)
JOINT_POS = mobile_joint_pos(JOINTS, GRIPPER, TORSO_TRAVEL)

TIAGO = register_robot(RobotSpec(
    name="tiago",
    family="mobile_manipulator",
    asset=str(Path(__file__).with_name("tiago.xml")),
    joints=JOINTS,
    actuators=tuple(n.removesuffix("_joint") for n, *_ in _ARM) + ("gripper",)
    + DIFF_DRIVE.actuators + DIFF_DRIVE.wheel_actuators
    + (UPPER_BODY.torso_actuator,) + UPPER_BODY.head_actuators,
    control_modes={m.name: m for m in (BASE_TWIST_EE_DELTA_POSE, JOINT_POS)},
    default_control_mode="base_twist+ee_delta_pose",
    proprio=proprio(DIFF_DRIVE),
    cameras=(
        CameraSpec("head", "head_2_link", 49.5),
        CameraSpec("overhead", "world", 60.0),
    ),
    home_qpos=TUCK,
    task_layouts={"mobile": MOBILE},
    tool_site="gripper_tcp",
    gripper=GRIPPER,
    control_hz=10.0,
    physics_dt=0.01,
    diff_drive=DIFF_DRIVE,
    upper_body=UPPER_BODY,
    base_joints=DIFF_DRIVE.base_joints,
    drivers=("ros:ws://HOST:9090?robot=tiago",),  # through rosbridge (hardware/ros)
    stand_in="ros:emulator:lockstep?world=sim",  # in the task's MuJoCo scene
))
