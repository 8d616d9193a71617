"""A Clearpath Jackal class differential-drive base with a front camera and a 2-D lidar.

Figures used, and where they come from:
- jackal_description (Clearpath's URDF, jackal.urdf.xacro): wheelbase 0.262 m, track
  0.37559 m (wheels at +-0.1878 m), wheel radius 0.098 m (issue 20 quotes 0.095 m, the
  loaded rolling radius; we model the URDF's), wheel width 0.04 m, chassis 0.42 x 0.31 x
  0.184 m, chassis mass 16.523 kg with its inertia (Ixx 0.3136, Iyy 0.3922, Izz 0.4485 kg m^2),
  footprint 0.0655 m below the chassis origin, wheel axles 0.0345 m above it, wheel mass
  0.477 kg.
- Clearpath's Jackal sheet: top speed 2.0 m/s. jackal_navigation's local planner limits
  (max_vel_theta 2.0 rad/s, acc_lim_x 2.0 m/s^2, acc_lim_theta 3.0 rad/s^2) are the
  `base_twist` ranges and acceleration limits (as published in jackal_navigation's
  params; not re-checked against one release in this session).
- The lidar is Hokuyo UST-10LX class (the Jackal's stock 2-D option): 270 deg, 10 m; we cast
  24 beams (11.7 deg apart) once per control step instead of its 1081.
Our choices (no source): the front camera 0.3 m above the floor, 75 deg vertical field of view,
pitched 6 deg up (to see table tops across a room); control at 10 Hz with 0.01 s physics.
"""

import math
from pathlib import Path

from librobot_gym.robots.registry import register_robot
from librobot_gym.robots.spec import (
    ActionDim,
    CameraSpec,
    ControlModeSpec,
    DiffDriveSpec,
    JointSpec,
    ProprioField,
    RobotSpec,
)

WHEELS = ("front_left_wheel", "rear_left_wheel", "front_right_wheel", "rear_right_wheel")
DIFF_DRIVE = DiffDriveSpec(
    base_joints=("base_x", "base_y", "base_yaw"),
    actuators=("forward", "lateral", "yaw"),
    wheel_joints=WHEELS,
    wheel_actuators=tuple(w.replace("wheel", "drive") for w in WHEELS),
    wheel_radius=0.098, track=0.37559,
    max_speed=2.0, max_yaw_rate=2.0, max_accel=2.0, max_yaw_accel=3.0,
    radius=math.hypot(0.23, 0.21),
    lidar_site="lidar", lidar_beams=24, lidar_fov=math.radians(270.0), lidar_range=10.0,
)
BASE_TWIST = ControlModeSpec(
    "base_twist",
    (ActionDim("forward_speed", "m/s", -DIFF_DRIVE.max_speed, DIFF_DRIVE.max_speed,
               "speed along the base's heading, + forward; slewed at <= 2 m/s^2"),
     ActionDim("yaw_rate", "rad/s", -DIFF_DRIVE.max_yaw_rate, DIFF_DRIVE.max_yaw_rate,
               "turn rate, + counter-clockwise seen from above (left); slewed at <= 3 rad/s^2")),
    "A twist, as ROS's cmd_vel: [forward speed, yaw rate]. Zero stops the base (at the "
    "acceleration limits).",
)
_WHEEL_LIMIT = 2.0 * DIFF_DRIVE.max_speed / DIFF_DRIVE.wheel_radius  # rad/s, with headroom

JACKAL = register_robot(RobotSpec(
    name="jackal",
    family="mobile",
    asset=str(Path(__file__).with_name("jackal.xml")),
    # The actuated joints are the wheels (continuous: no limits); the planar base is the
    # DiffDriveSpec's.
    joints=tuple(JointSpec(w, -math.inf, math.inf, _WHEEL_LIMIT, 10.0) for w in WHEELS),
    actuators=DIFF_DRIVE.actuators + DIFF_DRIVE.wheel_actuators,
    control_modes={"base_twist": BASE_TWIST},
    default_control_mode="base_twist",
    proprio=(
        ProprioField("base_pose", 3, "m, m, rad (x, y, yaw in the odometry frame)"),
        ProprioField("base_twist", 2, "m/s, rad/s (measured forward speed, yaw rate)"),
        ProprioField("wheel_vel", 4, "rad/s (front left, rear left, front right, rear right)"),
        ProprioField("lidar", DIFF_DRIVE.lidar_beams,
                     "m, 24 ranges from -135 deg (right) to +135 deg (left), max 10"),
    ),
    cameras=(
        CameraSpec("front", "base_link", 75.0),
        CameraSpec("overhead", "world", 60.0),
    ),
    home_qpos=(0.0, 0.0, 0.0, 0.0),
    tool_site="base_centre",
    control_hz=10.0,
    physics_dt=0.01,
    diff_drive=DIFF_DRIVE,
    base_joints=DIFF_DRIVE.base_joints,
    drivers=("ros:ws://HOST:9090?robot=jackal",),  # through rosbridge (hardware/ros)
    stand_in="ros:emulator:lockstep?world=sim",  # in the task's MuJoCo scene
))
