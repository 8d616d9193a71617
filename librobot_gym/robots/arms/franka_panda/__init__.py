"""Franka Emika Panda: 7-DoF arm with the Franka Hand parallel gripper.

Limits are Franka's published joint position/velocity/torque limits; the MJCF beside this
module (`franka_panda.xml`) is built from the published Denavit-Hartenberg table. This folder is
the robot's one place: spec, MJCF, per-task layouts (`layouts.py`), and its hardware binding
(`drivers`: franky, the bridge, the twin; `stand_in`: the lockstep twin).
"""

from pathlib import Path

from librobot_gym.robots.arms.common import arm_control_modes, arm_proprio
from librobot_gym.robots.arms.franka_panda.layouts import PICK_CUP, TABLETOP
from librobot_gym.robots.registry import register_robot
from librobot_gym.robots.spec import (
    CameraSpec,
    GripperSpec,
    JointSpec,
    RobotSpec,
)

_JOINT_LIMITS = (
    # name, lower (rad), upper (rad), max velocity (rad/s), max torque (Nm)
    ("joint1", -2.8973, 2.8973, 2.1750, 87.0),
    ("joint2", -1.7628, 1.7628, 2.1750, 87.0),
    ("joint3", -2.8973, 2.8973, 2.1750, 87.0),
    ("joint4", -3.0718, -0.0698, 2.1750, 87.0),
    ("joint5", -2.8973, 2.8973, 2.6100, 12.0),
    ("joint6", -0.0175, 3.7525, 2.6100, 12.0),
    ("joint7", -2.8973, 2.8973, 2.6100, 12.0),
)
JOINTS = tuple(JointSpec(n, lo, hi, v, t) for n, lo, hi, v, t in _JOINT_LIMITS)

# Largest end-effector motion one control step may ask for (at 20 Hz: 0.6 m/s, 4 rad/s).
MAX_STEP_TRANSLATION = 0.03  # m
MAX_STEP_ROTATION = 0.2  # rad

# The Franka Hand: two slide fingers, 0.08 m stroke, 70 N continuous grasp force.
GRIPPER = GripperSpec(
    joints=("finger_joint1", "finger_joint2"),
    pad_geoms=("left_pad", "right_pad"),
    max_opening=0.08,
    max_force=70.0,
)

CONTROL_MODES = arm_control_modes(JOINTS, MAX_STEP_TRANSLATION, MAX_STEP_ROTATION,
                                  GRIPPER.max_opening)

FRANKA_PANDA = register_robot(RobotSpec(
    name="franka_panda",
    family="arm",
    asset=str(Path(__file__).with_name("franka_panda.xml")),
    joints=JOINTS,
    actuators=tuple(f"actuator{i}" for i in range(1, 8)) + ("gripper",),
    control_modes=CONTROL_MODES,
    default_control_mode="ee_delta_pose",
    proprio=arm_proprio(7),
    cameras=(
        CameraSpec("front", "world", 50.0),
        CameraSpec("wrist", "hand", 75.0),
    ),
    # Franka's "ready" pose: tool 0.49 m above the base, pointing down.
    home_qpos=(0.0, -0.785398, 0.0, -2.356194, 0.0, 1.570796, 0.785398),
    tool_site="tcp",
    gripper=GRIPPER,
    workspace=((0.2, -0.5, 0.01), (0.8, 0.5, 0.8)),
    task_layouts={"pick_cup": PICK_CUP, "tabletop": TABLETOP},
    drivers=("franky:172.16.0.2", "bridge:ws://robot-pc:8765", "twin"),
    stand_in="twin:lockstep",
))
