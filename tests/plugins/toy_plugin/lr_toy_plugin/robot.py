"""The ToyArm robot: three position-servoed joints, a tool tip and a front camera, no gripper.

Its control modes are written here rather than with `arm_control_modes` (which adds a gripper
dimension): `joint_pos` (absolute targets) and `ee_delta_pose` (tool delta; three joints cannot
meet a 6-D delta, so the IK step weighs orientation lightly). Proprioception is the arms'
shared layout (`arm_proprio`), which the MuJoCo arm controllers fill in.
"""

from pathlib import Path

from librobot_gym.robots import (
    ActionDim,
    CameraSpec,
    ControlModeSpec,
    JointSpec,
    RobotSpec,
    register_robot,
)
from librobot_gym.robots.arms.common import arm_proprio

MAX_VELOCITY = 3.0  # rad/s
MAX_EFFORT = 10.0  # N m, the servos' force range
JOINTS = (
    JointSpec("yaw", -2.6, 2.6, MAX_VELOCITY, MAX_EFFORT),
    JointSpec("shoulder", -0.6, 1.6, MAX_VELOCITY, MAX_EFFORT),
    JointSpec("elbow", -1.3, 1.9, MAX_VELOCITY, MAX_EFFORT),
)
MAX_STEP_TRANSLATION = 0.02  # m per control step
MAX_STEP_ROTATION = 0.2  # rad per control step

JOINT_POS = ControlModeSpec(
    "joint_pos",
    tuple(ActionDim(j.name, "rad", j.lower, j.upper, "absolute joint position target")
          for j in JOINTS),
    "Absolute joint position targets scaled to the joint limits.",
)
EE_DELTA_POSE = ControlModeSpec(
    "ee_delta_pose",
    tuple(ActionDim(f"d{axis}", "m", -MAX_STEP_TRANSLATION, MAX_STEP_TRANSLATION,
                    f"tool translation along world {axis} this step") for axis in "xyz")
    + tuple(ActionDim(f"d{axis}", "rad", -MAX_STEP_ROTATION, MAX_STEP_ROTATION,
                      f"tool rotation about world {axis[-1]} this step (followed loosely)")
            for axis in ("roll_x", "pitch_y", "yaw_z")),
    "Cartesian delta of the tool tip; three joints follow the translation, the rotation only "
    "as far as it goes.",
)

TOY_ARM = register_robot(RobotSpec(
    name="toy_arm",
    family="arm",
    asset=str(Path(__file__).with_name("toy_arm.xml")),
    joints=JOINTS,
    actuators=tuple(j.name for j in JOINTS),
    control_modes={m.name: m for m in (JOINT_POS, EE_DELTA_POSE)},
    default_control_mode="joint_pos",
    proprio=arm_proprio(len(JOINTS)),
    cameras=(CameraSpec("front", "world", 50.0),),
    home_qpos=(0.0, 0.1, 0.4),  # tool 0.2 m in front of the base, 0.18 m up
    tool_site="tcp",
    workspace=((-0.42, -0.42, 0.0), (0.42, 0.42, 0.5)),
    ik_rotation_weight=0.02,
    ik_damping=0.02,
    task_layouts={"toy_reach": {"target_x": (0.16, 0.30), "target_y": (-0.14, 0.14),
                                "target_z": (0.06, 0.22), "tolerance": 0.03}},
    drivers=("toysim:lockstep",),
    stand_in="toysim:lockstep",
))
