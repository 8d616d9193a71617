"""Unitree H1: a 1.8 m, 59 kg humanoid with 19 joints (5 per leg, a torso yaw, 4 per arm).

Figures used, and where they come from (unitree_ros, robots/h1_description/urdf/h1.urdf, read
in this session): joint origins and axes; limits (rad) hip yaw and roll +-0.43, hip pitch
-3.14..2.53, knee -0.26..2.05, ankle -0.87..0.52, torso +-2.35, shoulder pitch +-2.87,
shoulder roll -0.34..3.11 (left; mirrored right), shoulder yaw -1.3..4.45 (left; mirrored),
elbow -1.25..2.61; efforts (N m) hip 200, knee 300, ankle 40, torso 200, shoulder pitch and
roll 40, shoulder yaw and elbow 18; velocities (rad/s) hips and torso 23, knee 14, ankle and
shoulder pitch/roll 9, shoulder yaw and elbow 20; thigh and shank 0.4 m (hip pitch to knee,
knee to ankle); hip pitch axis 0.2029 m off the centre line, 0.1742 m below the pelvis; link
masses (pelvis 5.983 kg, per leg 2.965 + 2.715 + 4.953 + 2.824 + 0.725, torso 17.789, per arm
1.142 + 0.852 + 0.862 + 0.745: 59.34 kg in all), centres of mass and inertias; the sole, a
0.28 m box 0.062 m below the ankle axis reaching 0.19 m ahead of it and 0.09 m behind; the IMU
on the torso at (-0.0445, -0.0189, 0.2776) m; the head's RealSense D435 at (0.108, 0.0325,
0.693) m from the torso joint, looking 51 deg below the horizon (its rpy -2.457, 0, -1.571).

Our choices: the sole 0.05 m wide (the URDF's collision box is 0.03 m; the rubber sole is
wider); a chest camera (0.095 m ahead of the torso, 0.33 m up, 15 deg down,
70 deg field of view) besides the head's; PD gains per joint group (below); a nominal standing
posture with the knees bent 0.3 rad and the feet flat; 50 Hz control on 5 ms physics steps.

Hands (issue 21, manipulation): the H1 is sold with Inspire's RH56 dexterous hands (six
actuators, 12 joints, about 0.54 kg, a palm about 0.09 m wide, rated at some 10 N of grip per
finger; Inspire's product figures as we recall them, not re-read in this session). Ours is a
simplification of it: a parallel two-jaw gripper at each forearm's end (beyond the fist), a
0.44 kg palm with a fixed jaw and a 0.1 kg jaw sliding across it on one slide joint (q = the
opening, 0-0.085 m, jaws 0.09 m long), a 500 N/m servo clipped at 15 N. No fingers, no
thumb, no wrist (the H1's arm has none). The two gripper joints and servos are APPENDED after
the 19 body joints (joint vector indices 19 and 20), so the body's indices, its LowCmd motor
map and the balance layout do not move; a `*_grip` site sits between the jaws.
"""

from pathlib import Path

from librobot_gym.robots.humanoids.balance import LEG5_LAYOUT
from librobot_gym.robots.humanoids.common import (
    HandsLayout,
    ee_delta_pose_mode,
    humanoid_proprio,
    register_hands,
    register_layout,
)
from librobot_gym.robots.humanoids.walking import (
    WalkLayout,
    base_velocity_mode,
    register_walk_layout,
)
from librobot_gym.robots.registry import register_robot
from librobot_gym.robots.spec import (
    ActionDim,
    CameraSpec,
    ControlModeSpec,
    JointSpec,
    RobotSpec,
)

_LEG = (
    # name, lower (rad), upper (rad), max velocity (rad/s), max effort (N m): h1.urdf
    ("hip_yaw", -0.43, 0.43, 23.0, 200.0),
    ("hip_roll", -0.43, 0.43, 23.0, 200.0),
    ("hip_pitch", -3.14, 2.53, 23.0, 200.0),
    ("knee", -0.26, 2.05, 14.0, 300.0),
    ("ankle", -0.87, 0.52, 9.0, 40.0),
)
_ARM = (  # the left arm; the right one mirrors roll and yaw
    ("shoulder_pitch", -2.87, 2.87, 9.0, 40.0),
    ("shoulder_roll", -0.34, 3.11, 9.0, 40.0),
    ("shoulder_yaw", -1.3, 4.45, 20.0, 18.0),
    ("elbow", -1.25, 2.61, 20.0, 18.0),
)
_MIRRORED = ("shoulder_roll", "shoulder_yaw")


def _side(side: str, rows) -> list[JointSpec]:
    joints = []
    for name, lo, hi, vel, effort in rows:
        if side == "right" and name in _MIRRORED:
            lo, hi = -hi, -lo
        joints.append(JointSpec(f"{side}_{name}_joint", lo, hi, vel, effort))
    return joints


# The hands (appended after the 19 body joints, so their indices and the balance layout stay):
# a parallel gripper standing in for each Inspire hand, one slide joint, q = the jaws'
# opening (m), 0.2 m/s, 15 N of grip.
GRIPPER_OPENING = 0.085  # m, the widest
GRIPPERS = tuple(JointSpec(f"{side}_gripper_joint", 0.0, GRIPPER_OPENING, 0.2, 15.0,
                           kind="slide") for side in ("left", "right"))
BODY_JOINTS = tuple(_side("left", _LEG) + _side("right", _LEG)
                    + [JointSpec("torso_joint", -2.35, 2.35, 23.0, 200.0)]
                    + _side("left", _ARM) + _side("right", _ARM))
JOINTS = BODY_JOINTS + GRIPPERS
LEG_JOINTS = tuple(j.name for j in JOINTS[:10])
ARM_JOINTS = tuple(j.name for j in JOINTS[11:19])
# The nominal standing posture (rad): legs hip yaw, roll, pitch, knee, ankle (feet flat:
# pitch + knee + ankle = 0), torso, arms shoulder pitch, roll, yaw, elbow (hanging, the
# forearms 1 rad down from the horizontal they point along at elbow 0).
NOMINAL_LEG = (0.0, 0.0, -0.1, 0.3, -0.2)
NOMINAL_ARM = (0.2, 0.15, 0.0, 1.0)
GRIPPER_OPEN = 0.08  # m: the grippers' nominal opening
NOMINAL = (NOMINAL_LEG + NOMINAL_LEG + (0.0,) + NOMINAL_ARM
           + (NOMINAL_ARM[0], -NOMINAL_ARM[1], -NOMINAL_ARM[2], NOMINAL_ARM[3])
           + (GRIPPER_OPEN, GRIPPER_OPEN))
# PD gains per joint group (the MJCF's position actuators): kp N m/rad, kd N m s/rad.
PD_GAINS = {"hip yaw": (400, 5), "hip roll and pitch": (800, 8), "knee": (1000, 10),
            "ankle": (800, 6), "torso": (600, 8), "shoulder pitch and roll": (100, 2),
            "shoulder yaw and elbow": (50, 1), "gripper (N/m, N s/m)": (500, 10)}


def _unit(joint: JointSpec) -> str:
    return "m" if joint.kind == "slide" else "rad"


def _effort(joint: JointSpec) -> str:
    return f"{joint.max_effort:g} {'N' if joint.kind == 'slide' else 'N m'}"


JOINT_POS = ControlModeSpec(
    "joint_pos",
    tuple(ActionDim(j.name, _unit(j), j.lower, j.upper,
                    f"PD target, clipped at {_effort(j)}") for j in JOINTS),
    "Whole-body PD targets at 50 Hz for the 19 body joints (legs, torso, arms) and the two "
    "grippers' jaw openings (m, appended last), each servo kp/kd per joint group (hip yaw "
    "400/5, hip roll and pitch 800/8, knee 1000/10, ankle 800/6, torso 600/8, shoulder pitch "
    "and roll 100/2, shoulder yaw and elbow 50/1; N m/rad, N m s/rad; grippers 500 N/m) "
    "clipped at the joint's torque. Nothing balances the robot but the policy.",
)
UPPER_BODY = ControlModeSpec(
    "upper_body",
    tuple(ActionDim(j.name, _unit(j), j.lower, j.upper, "PD target") for j in JOINTS[11:]),
    "The arms' 8 PD targets (rad) and the grippers' 2 jaw openings (m) at 50 Hz; the legs "
    "and torso are held at the nominal standing "
    "posture by the built-in balance controller (capture-point feedback through the ankles "
    "and hips, `robots/humanoids/balance.py`).",
)

# Walking (`base_velocity`, robots/humanoids/walking/): 0.27 s steps (0.3 and 0.35 s fell
# within 2-9 s in trials: the lateral pendulum diverges too far per step on 0.05 m soles),
# the soles 0.3 m apart (narrower than the hips' 0.41 m), the pelvis at 0.98 m.
WALK = WalkLayout(legs=(tuple(range(5)), tuple(range(5, 10))), step_time=0.27,
                  step_width=0.3, pelvis_height=0.98, swing_height=0.08,
                  max_step=(0.4, 0.25, 0.15), min_width=0.2, max_foot_yaw=0.35,
                  vx_range=(-0.3, 0.7), vy_max=0.2, yaw_rate_max=0.5,
                  leg_kd=(8.0, 40.0, 40.0, 16.0, 8.0))
HANDS = register_hands("h1", HandsLayout(arms=(tuple(range(11, 15)), tuple(range(15, 19))),
                                         grippers=(19, 20), max_opening=GRIPPER_OPENING))
# 4-DoF arms place the grip point but cannot orient the hand: rotation is best effort, 1 rad
# of it weighed as 0.05 m of position.
IK_ROTATION_WEIGHT = 0.05
EE_DELTA_POSE = ee_delta_pose_mode(
    "H1", HANDS, f"the H1's 4-DoF arms place the grip point; orientation is best effort (the "
    f"rotation rows weighted {IK_ROTATION_WEIGHT:g} m/rad).")

H1 = register_robot(RobotSpec(
    name="h1",
    family="humanoid",
    asset=str(Path(__file__).with_name("h1.xml")),
    joints=JOINTS,
    actuators=tuple(j.name.removesuffix("_joint") for j in JOINTS),
    control_modes={"joint_pos": JOINT_POS, "upper_body": UPPER_BODY,
                   "base_velocity": base_velocity_mode(WALK),
                   "ee_delta_pose": EE_DELTA_POSE},
    ik_rotation_weight=IK_ROTATION_WEIGHT,
    default_control_mode="joint_pos",
    proprio=humanoid_proprio(21, "torso", joint_units="rad; the grippers' m",
                             velocity_units="rad/s; the grippers' m/s"),
    cameras=(
        CameraSpec("head", "torso_link", 58.0),
        CameraSpec("chest", "torso_link", 70.0),
    ),
    home_qpos=NOMINAL,
    # TabletopPick's table, reach and camera framing (name, position and look-at point in the
    # camera's mount frame, m; vertical field of view, deg), fitted to this robot
    # (envs/tasks/humanoid_pick.py).
    task_layouts={"tabletop_pick": {
        "table_height": 0.85, "table_edge": 0.2, "reach_x": (0.28, 0.4),
        "reach_y": (0.1, 0.3), "open": 0.08,
        "cameras": (("head", (0.108, 0.0325, 0.693), (0.34, 0.0, -0.146), 42.0),
                    ("chest", (0.095, 0.0, 0.33), (0.34, 0.0, -0.146), 70.0))}},
    tool_site="right_hand",
    control_hz=50.0,
    physics_dt=0.005,
    # Unitree's SDK over DDS (hardware/unitree/); the stand-in: its emulator on loopback.
    drivers=("unitree:IFACE",),
    stand_in="unitree:emulator:lockstep",
))
register_layout("h1", LEG5_LAYOUT)
register_walk_layout("h1", WALK)
