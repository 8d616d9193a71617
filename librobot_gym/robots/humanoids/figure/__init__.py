"""A Figure-class (unofficial) humanoid: a generic full-size electric humanoid, about 1.68 m
and 70 kg, with 6-DoF legs, a torso yaw, two 7-DoF arms and a parallel gripper on each.

Figure AI publishes no model, no joint list and no SDK. This robot is not Figure's: it is
ours, sized to the class's public headline numbers (Figure 01/02: 5 ft 6 in = 1.68 m,
60-70 kg, arms with 7 degrees of freedom, an electric, human-proportioned build) and to
the H1 and GR1 around it, so that tasks and policies written for "a full-size humanoid with
grippers" have one to run on. Every figure below is our estimate.

- Kinematics: pelvis 1.02 m above the soles standing straight (hip yaw 0.08 m, hip roll
  0.06 m, hip pitch 0.04 m below the pelvis, hips 0.2 m apart), thigh and shank 0.38 m each,
  ankle 0.08 m above the sole; torso yaw 0.04 m above the pelvis, shoulders 0.32 m above it
  and 0.46 m apart, upper arm 0.06 + 0.24 m, forearm 0.03 + 0.23 m, hand 0.12 m to the
  grasp point; the head's top 1.69 m up, 1.67 m in the standing posture.
- Masses (70.0 kg): pelvis 8, per leg 2 + 2.5 + 6 + 3.5 + 0.3 + 1 kg, torso with head 18.6,
  per arm 1.5 + 0.8 + 1.5 + 0.5 + 1 + 0.4 + 0.6 kg and a 0.1 kg finger.
- Torques (N m): hip yaw 150, hip roll and pitch 200, knee 250, ankle pitch 80, ankle roll
  40, torso 150, shoulder pitch and roll 60, shoulder yaw 30, elbow 40, wrists 15; the
  gripper 60 N. Velocities (rad/s): legs 15, ankles 12, torso 10, arms 8, wrists 10;
  the gripper 0.2 m/s.
- Grippers: one slide joint each, a moving jaw closing on a fixed one (0-0.055 m apart),
  a parallel two-finger gripper with a single actuator.
- Sensing: an IMU in the torso; a head camera (behind the visor, 40 deg down, 70 deg field
  of view) and a chest camera (15 deg down, 70 deg).
- Control: PD servos (kp/kd per joint group, `PD_GAINS`), 50 Hz on 5 ms physics steps; the
  nominal standing posture with the knees bent 0.3 rad, the feet flat, the elbows bent
  0.5 rad and the grippers open 0.04 m; the balance law's gains are balance.py's defaults
  (the H1's), which the 80 N m ankles carry.
"""

from pathlib import Path

from librobot_gym.robots.humanoids.common import BalanceLayout, humanoid_proprio, register_layout
from librobot_gym.robots.registry import register_robot
from librobot_gym.robots.spec import (
    ActionDim,
    CameraSpec,
    ControlModeSpec,
    JointSpec,
    RobotSpec,
)

LABEL = "Figure-class (unofficial)"
_LEG = (  # name, lower (rad), upper (rad), max velocity (rad/s), max effort (N m): ours
    ("hip_yaw", -0.6, 0.6, 15.0, 150.0),
    ("hip_roll", -0.3, 0.5, 15.0, 200.0),
    ("hip_pitch", -2.2, 1.0, 15.0, 200.0),
    ("knee", 0.0, 2.4, 15.0, 250.0),
    ("ankle_pitch", -0.9, 0.6, 12.0, 80.0),
    ("ankle_roll", -0.4, 0.4, 12.0, 40.0),
)
_ARM = (  # the left arm; the right one mirrors shoulder roll
    ("shoulder_pitch", -3.0, 1.5, 8.0, 60.0),
    ("shoulder_roll", -0.3, 2.8, 8.0, 60.0),
    ("shoulder_yaw", -2.6, 2.6, 8.0, 30.0),
    ("elbow", -2.5, 0.0, 8.0, 40.0),
    ("wrist_yaw", -2.6, 2.6, 10.0, 15.0),
    ("wrist_pitch", -1.2, 1.2, 10.0, 15.0),
    ("wrist_roll", -2.6, 2.6, 10.0, 15.0),
)
_MIRRORED = ("hip_roll", "shoulder_roll")


def _joints(side: str, rows) -> list[JointSpec]:
    joints = []
    for name, lo, hi, vel, effort in rows:
        if side == "right" and name in _MIRRORED:
            lo, hi = -hi, -lo
        joints.append(JointSpec(f"{side}_{name}_joint", lo, hi, vel, effort))
    return joints


def _gripper(side: str) -> JointSpec:
    return JointSpec(f"{side}_gripper_joint", 0.0, 0.055, 0.2, 60.0, kind="slide")


JOINTS = tuple(_joints("left", _LEG) + _joints("right", _LEG)
               + [JointSpec("torso_joint", -1.0, 1.0, 10.0, 150.0)]
               + _joints("left", _ARM) + [_gripper("left")]
               + _joints("right", _ARM) + [_gripper("right")])
N_HELD = 13  # legs 12 and the torso: the balance law's; upper_body drives arms and grippers
NOMINAL_LEG = (0.0, 0.0, -0.15, 0.3, -0.15, 0.0)
NOMINAL_ARM = (0.0, 0.15, 0.0, -0.5, 0.0, 0.0, 0.0)
GRIPPER_OPEN = 0.04
NOMINAL = (NOMINAL_LEG + NOMINAL_LEG + (0.0,) + NOMINAL_ARM + (GRIPPER_OPEN,)
           + (NOMINAL_ARM[0], -NOMINAL_ARM[1]) + NOMINAL_ARM[2:] + (GRIPPER_OPEN,))
PD_GAINS = {"hip yaw": (400, 5), "hip roll and pitch": (800, 8), "knee": (1000, 10),
            "ankle pitch": (800, 6), "ankle roll": (400, 4), "torso": (600, 8),
            "shoulder pitch and roll": (100, 2), "shoulder yaw": (50, 1), "elbow": (60, 1),
            "wrists": (15, 0.3), "gripper (N/m, N s/m)": (2000, 40)}
LAYOUT = register_layout("figure_class", BalanceLayout(
    n_held=N_HELD, hip_roll=(1, 7), hip_pitch=(2, 8), ankle_pitch=(4, 10), ankle_roll=(5, 11)))


def _unit(joint: JointSpec) -> str:
    return "m" if joint.kind == "slide" else "rad"


JOINT_POS = ControlModeSpec(
    "joint_pos",
    tuple(ActionDim(j.name, _unit(j), j.lower, j.upper,
                    f"PD target, clipped at {j.max_effort:g} {'N' if j.kind == 'slide' else 'N m'}")
          for j in JOINTS),
    f"{LABEL}: whole-body PD targets at 50 Hz for the 29 joints (legs 6 each, torso yaw, arms "
    "7 each, the grippers' jaw opening in m), each servo kp/kd per joint group (hips 400-800, "
    "knee 1000, ankle pitch 800, ankle roll 400, torso 600, shoulders 50-100, elbow 60, wrists "
    "15 N m/rad; gripper 2000 N/m) clipped at the joint's torque. Nothing balances the robot "
    "but the policy.",
)
UPPER_BODY = ControlModeSpec(
    "upper_body",
    tuple(ActionDim(j.name, _unit(j), j.lower, j.upper, "PD target") for j in JOINTS[N_HELD:]),
    f"{LABEL}: the arms' 14 PD targets (rad) and the grippers' 2 jaw openings (m) at 50 Hz; "
    "the legs and torso are held at the nominal standing posture by the built-in balance "
    "controller (capture-point feedback through the ankles and hips, "
    "`robots/humanoids/balance.py`).",
)

FIGURE_CLASS = register_robot(RobotSpec(
    name="figure_class",
    family="humanoid",
    asset=str(Path(__file__).with_name("figure.xml")),
    joints=JOINTS,
    actuators=tuple(j.name.removesuffix("_joint") for j in JOINTS),
    control_modes={"joint_pos": JOINT_POS, "upper_body": UPPER_BODY},
    default_control_mode="joint_pos",
    proprio=humanoid_proprio(29, "torso", joint_units="rad; the grippers' m",
                             velocity_units="rad/s; the grippers' m/s"),
    cameras=(
        CameraSpec("head", "torso_link", 70.0),
        CameraSpec("chest", "torso_link", 70.0),
    ),
    home_qpos=NOMINAL,
    tool_site="right_hand",
    control_hz=50.0,
    physics_dt=0.005,
    # No public SDK: a vendor's driver (hardware/humanoid.py's contract) behind the bridge;
    # the stand-in: a MuJoCo one behind a loopback bridge server.
    drivers=("bridge:ws://HOST:PORT",),
    stand_in="humanoid-sim:bridge",
))
