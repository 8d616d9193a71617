"""SO-100 (SO-ARM100, TheRobotStudio / Hugging Face): 5-DoF desktop arm plus a hinged jaw.

Every joint is a Feetech STS3215 serial bus servo (12-bit magnetic encoder, 1:345 gearbox). The
SO-100 bill of materials specifies the 7.4 V variant (STS3215 C001), whose figures we use:

- stall torque 19.5 kg cm = 1.91 N m at 7.4 V (Feetech STS3215 C001 sheet; DFRobot SER0069
  product page, "19.5kg.cm stall torque at 7.4V"). The 12 V variant (C018/C047, often fitted
  to followers) gives 30 kg cm = 2.94 N m; swap `STALL_TORQUE` if your arm has those.
- no-load speed 0.222 s / 60 deg = 4.72 rad/s (Feetech's rated figure; Robonine measured
  ~46 rpm = 4.8 rad/s on a 12 V unit, DFRobot lists 0.192 s / 60 deg at 7.4 V).
- gripper torque: LeRobot's SO-100 follower caps the gripper servo at 50 % of its torque
  (`Max_Torque_Limit` 500) so the jaw cannot burn out on an object: 0.95 N m.

Joint names are LeRobot's. Zero pose (our convention, the middle of every range, as LeRobot
calibrates): upper arm vertical, forearm horizontal pointing forward (+x), wrist straight, jaw
closed. Signs: shoulder_pan about +z (towards +y), shoulder_lift / elbow_flex / wrist_flex
about +y (positive leans forward / bends down), wrist_roll about the tool axis, gripper opens
as the angle grows. Link offsets are the published SO-ARM100 kinematics (see the MJCF,
`so100.xml` beside this module, written for this project with primitive geoms). This folder
also holds its PickCup layout (`layouts.py`), that env's documentation (`pick_cup.md`) and its
hardware binding (`drivers`: the Feetech bus, the bridge; `stand_in`: the emulated bus).
"""

from pathlib import Path

from librobot_gym.robots.arms.common import arm_control_modes, arm_proprio
from librobot_gym.robots.arms.so100.layouts import PICK_CUP, TABLETOP
from librobot_gym.robots.registry import register_robot
from librobot_gym.robots.spec import (
    CameraSpec,
    GripperSpec,
    JointSpec,
    RobotSpec,
)

STALL_TORQUE = 1.91  # N m, STS3215 at 7.4 V
NO_LOAD_SPEED = 4.72  # rad/s, STS3215 at 7.4 V (0.222 s / 60 deg)
GRIPPER_TORQUE = 0.95  # N m, LeRobot's 50 % torque limit on the gripper servo

_JOINT_LIMITS = (
    # name, lower (rad), upper (rad): mechanical range of the SO-ARM100 about our zero pose
    ("shoulder_pan", -2.0, 2.0),
    ("shoulder_lift", -1.57, 1.75),
    ("elbow_flex", -1.57, 1.57),
    ("wrist_flex", -1.8, 1.8),
    ("wrist_roll", -3.0, 3.0),
)
JOINTS = tuple(JointSpec(n, lo, hi, NO_LOAD_SPEED, STALL_TORQUE) for n, lo, hi in _JOINT_LIMITS)

# The jaw: one hinge ("gripper") in the plane of the fixed pad's face. The moving pad's centre
# is 0.068 m from the hinge axis (the SO-ARM100's pads span 0.035-0.077 m of the jaw), on
# the fixed pad's plane at q = 0, so the opening is 0.068 * sin(q) m. The moving pad is set so
# that its face is parallel to the fixed one at a 40 mm opening (q = 0.629 rad), where it
# faces the fixed pad's middle: a cup held there sits between two parallel pads. Fully open
# (+1 command) is 0.06 m, q = 1.08 rad (62 deg); the servo's range, GRIPPER_JOINT_RANGE, goes
# a little past both ends.
JAW_RADIUS = 0.068  # m
GRIPPER_JOINT_RANGE = (-0.1, 1.5)  # rad
GRIPPER = GripperSpec(
    joints=("gripper",),
    pad_geoms=("fixed_pad", "moving_pad"),
    max_opening=0.06,
    max_force=GRIPPER_TORQUE / JAW_RADIUS,  # ~14 N at the pads
    kind="jaw",
    jaw_radius=JAW_RADIUS,
    jaw_closed=0.0,
)

# Largest tool motion one control step may ask for (at 20 Hz: 0.3 m/s, 3 rad/s): half the
# Franka's, for an arm a third its size.
MAX_STEP_TRANSLATION = 0.015  # m
MAX_STEP_ROTATION = 0.15  # rad

CONTROL_MODES = arm_control_modes(
    JOINTS, MAX_STEP_TRANSLATION, MAX_STEP_ROTATION, GRIPPER.max_opening,
    "Five joints cannot meet every 6-D delta: the IK step favours the position "
    "(ik_rotation_weight).")

SO100 = register_robot(RobotSpec(
    name="so100",
    family="arm",
    asset=str(Path(__file__).with_name("so100.xml")),
    joints=JOINTS,
    actuators=tuple(j.name for j in JOINTS) + ("gripper",),
    control_modes=CONTROL_MODES,
    default_control_mode="ee_delta_pose",
    proprio=arm_proprio(5),
    cameras=(
        CameraSpec("front", "world", 50.0),
        CameraSpec("wrist", "gripper_body", 80.0),
    ),
    # Upper arm leaning back, elbow bent as much, tool pointing straight down 0.10 m above the
    # table, 0.16 m in front of the base.
    home_qpos=(0.0, -0.3, 0.3, 1.57, 0.0),
    tool_site="tcp",
    gripper=GRIPPER,
    # Where the tool may go on hardware (base frame, m): the reachable half-annulus in front of
    # the base, from the table top (pads 5 mm above it) to 0.35 m up.
    workspace=((0.05, -0.32, 0.005), (0.40, 0.32, 0.35)),
    # IK: 1 rad of tool orientation error weighs as 0.15 m of position error (about the
    # distance from the wrist to the tool centre: a turn costs what it moves the tool), and
    # the damping is the Franka's 0.05 scaled by the reach (0.4 / 0.855 m).
    ik_rotation_weight=0.15,
    ik_damping=0.02,
    task_layouts={"pick_cup": PICK_CUP, "tabletop": TABLETOP},
    drivers=("feetech:/dev/ttyACM0", "bridge:ws://robot-pc:8765"),
    stand_in="feetech:emulator:lockstep",
))
