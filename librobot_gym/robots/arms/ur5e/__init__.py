"""Universal Robots UR5e: 6-DoF arm with a parallel gripper of the Robotiq 2F-85 class.

Kinematics, masses and limits are Universal Robots' published ones (DH table, link masses,
+-2 pi on every joint but the elbow's +-pi, 180 deg/s, 150 N m on the shoulder and elbow and
28 N m on the wrists); the MJCF beside this module (`ur5e.xml`) is written from them. The world
frame is the robot's base frame, the frame the controller reports poses in. This folder is the
robot's one place: spec, MJCF, per-task layouts (`layouts.py`, one dict per task), its envs'
documentation (`pick_cup.md`) and its hardware binding (`drivers`: its controller through
RTDE, the bridge; `stand_in`: the controller emulator in lockstep).

Reuse for a new task: add the task's layout to `layouts.py` and to `task_layouts` below, then a
`register_env("librobot/UR5e-<Task>-v0", "ur5e", "<task>", ...)` row; the cameras ("front" in
the world, "wrist" on the gripper) and control modes serve every tabletop task.
"""

import math
from pathlib import Path

from librobot_gym.robots.arms.common import arm_control_modes, arm_proprio
from librobot_gym.robots.arms.ur5e.layouts import PICK_CUP, TABLETOP
from librobot_gym.robots.registry import register_robot
from librobot_gym.robots.spec import CameraSpec, GripperSpec, JointSpec, RobotSpec

MAX_SPEED = math.pi  # rad/s: 180 deg/s on every joint
_JOINT_LIMITS = (
    # name, lower (rad), upper (rad), max torque (N m); UR's joint names, base to tool
    ("shoulder_pan", -2 * math.pi, 2 * math.pi, 150.0),
    ("shoulder_lift", -2 * math.pi, 2 * math.pi, 150.0),
    ("elbow", -math.pi, math.pi, 150.0),
    ("wrist_1", -2 * math.pi, 2 * math.pi, 28.0),
    ("wrist_2", -2 * math.pi, 2 * math.pi, 28.0),
    ("wrist_3", -2 * math.pi, 2 * math.pi, 28.0),
)
JOINTS = tuple(JointSpec(n, lo, hi, MAX_SPEED, t) for n, lo, hi, t in _JOINT_LIMITS)

# Largest tool motion one control step may ask for (at 20 Hz: 0.6 m/s, 4 rad/s), the Franka's:
# an arm of the same reach (0.85 m), whose tool may go 1 m/s.
MAX_STEP_TRANSLATION = 0.03  # m
MAX_STEP_ROTATION = 0.2  # rad

# A 2F-85-class gripper: two fingers driven together, 0.085 m stroke, 20-235 N grip force.
GRIPPER = GripperSpec(
    joints=("finger_joint1", "finger_joint2"),
    pad_geoms=("left_pad", "right_pad"),
    max_opening=0.085,
    max_force=235.0,
)

CONTROL_MODES = arm_control_modes(JOINTS, MAX_STEP_TRANSLATION, MAX_STEP_ROTATION,
                                  GRIPPER.max_opening)

# Elbow up, the tool pointing straight down 0.30 m above the table at (0.45, 0): over the
# middle of the PickCup patch. The base turns 0.30 rad because the wrist sits 0.13 m off the
# arm's plane (the shoulder and wrist offsets).
HOME_QPOS = (0.3007, -1.4276, -1.7997, -1.4852, 1.5708, -1.2701)

UR5E = register_robot(RobotSpec(
    name="ur5e",
    family="arm",
    asset=str(Path(__file__).with_name("ur5e.xml")),
    joints=JOINTS,
    actuators=tuple(j.name for j in JOINTS) + ("gripper",),
    control_modes=CONTROL_MODES,
    default_control_mode="ee_delta_pose",
    proprio=arm_proprio(6),
    cameras=(
        CameraSpec("front", "world", 50.0),
        CameraSpec("wrist", "gripper", 80.0),
    ),
    home_qpos=HOME_QPOS,
    tool_site="tcp",
    gripper=GRIPPER,
    # Where the tool may go on hardware (base frame, m): in front of the base, the pads 2 cm
    # above the table top at the lowest, within the arm's reach.
    workspace=((0.15, -0.55, 0.02), (0.85, 0.55, 0.85)),
    task_layouts={"pick_cup": PICK_CUP, "tabletop": TABLETOP},
    drivers=("ur:192.168.1.10", "bridge:ws://robot-pc:8765"),
    stand_in="ur:emulator:lockstep",
))
