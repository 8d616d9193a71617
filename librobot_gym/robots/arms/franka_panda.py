"""Franka Emika Panda: 7-DoF arm with the Franka Hand parallel gripper.

Limits are Franka's published joint position/velocity/torque limits; the MJCF asset
(`assets/franka_panda.xml`) is built from the published Denavit-Hartenberg table.
"""

from librobot_gym.robots.spec import (
    ActionDim,
    CameraSpec,
    ControlModeSpec,
    GripperSpec,
    JointSpec,
    ProprioField,
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

_GRIPPER_DIM = ActionDim(
    "gripper", "normalised opening", -1.0, 1.0, "-1 = closed, +1 = fully open (0.08 m)"
)

EE_DELTA_POSE = ControlModeSpec(
    "ee_delta_pose",
    tuple(
        ActionDim(f"d{axis}", "m", -MAX_STEP_TRANSLATION, MAX_STEP_TRANSLATION,
                  f"tool-centre-point translation along world {axis} this step")
        for axis in "xyz"
    )
    + tuple(
        ActionDim(f"d{axis}", "rad", -MAX_STEP_ROTATION, MAX_STEP_ROTATION,
                  f"tool rotation about world {axis[-1]} this step")
        for axis in ("roll_x", "pitch_y", "yaw_z")
    )
    + (_GRIPPER_DIM,),
    "Cartesian delta of the tool centre point in the robot base frame, plus gripper opening.",
)

JOINT_POS = ControlModeSpec(
    "joint_pos",
    tuple(ActionDim(j.name, "rad", j.lower, j.upper, "absolute joint position target")
          for j in JOINTS)
    + (_GRIPPER_DIM,),
    "Absolute joint position targets scaled to the joint limits, plus gripper opening.",
)

FRANKA_PANDA = RobotSpec(
    name="franka_panda",
    family="arm",
    asset="franka_panda.xml",
    joints=JOINTS,
    actuators=tuple(f"actuator{i}" for i in range(1, 8)) + ("gripper",),
    control_modes={m.name: m for m in (EE_DELTA_POSE, JOINT_POS)},
    default_control_mode="ee_delta_pose",
    proprio=(
        ProprioField("joint_pos", 7, "rad"),
        ProprioField("joint_vel", 7, "rad/s"),
        ProprioField("gripper_opening", 1, "m"),
        ProprioField("ee_pos", 3, "m"),
        ProprioField("ee_quat", 4, "quaternion wxyz"),
    ),
    cameras=(
        CameraSpec("front", "world", 50.0),
        CameraSpec("wrist", "hand", 75.0),
    ),
    # Franka's "ready" pose: tool 0.49 m above the base, pointing down.
    home_qpos=(0.0, -0.785398, 0.0, -2.356194, 0.0, 1.570796, 0.785398),
    tool_site="tcp",
    gripper=GripperSpec(
        joints=("finger_joint1", "finger_joint2"),
        pad_geoms=("left_pad", "right_pad"),
        max_opening=0.08,
        max_force=70.0,
    ),
    workspace=((0.2, -0.5, 0.01), (0.8, 0.5, 0.8)),
)
