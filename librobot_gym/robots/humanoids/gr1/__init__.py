"""Fourier GR1 (T1): a 1.65 m, 53.5 kg humanoid with 32 actuated joints (6 per leg, a 3-joint
waist, a 3-joint neck, 7 per arm).

Figures used, and where they come from (FFTAI/Wiki-MJCF, models/mujoco_menagerie/
fourier_intelligence_gr1t1/gr1t1.xml, Fourier's own MuJoCo export of the GR1T1 URDF, read in
this session; the joint names and order are those of Fourier's GR1T1 URDF and teleoperation
configs): joint origins and axes (hip roll 0.105 m off the centre line, 0.0575 m below and
0.048 m behind the pelvis origin; hip yaw 0.0305 m and hip pitch 0.11 m below it; thigh
0.36 m, shank 0.34 m; ankle pitch and roll on one axis point; waist yaw, pitch, roll 0.0065,
0.055, 0.085 m up; neck 0.3445 m above the waist roll, head roll 0.1225 m above it; shoulders
0.1266 m out and 0.2173 m up, tilted 25 deg about x; upper arm 0.0575 + 0.1885 m; forearm
0.0405 + 0.2015 m); ranges (rad) hip roll -0.09..0.79 (left; mirrored right), hip yaw +-0.7,
hip pitch -1.75..0.7, knee -0.09..1.92, ankle pitch -1.05..0.52, ankle roll +-0.44, waist yaw
+-1.05, pitch -0.52..1.22, roll +-0.7, head yaw +-2.71, roll +-0.35, pitch -0.52..0.35,
shoulder pitch -2.79..1.92, roll -0.57..3.27 (left; mirrored), yaw +-2.97, elbow +-2.27,
wrist yaw +-2.97, roll and pitch +-0.61; torque limits (N m) hip roll 80, hip yaw 60, hip
pitch and knee 160, ankle pitch 16, ankle roll 8, waist 82.5, head yaw 10.2, head roll and
pitch 3.95, shoulder pitch and roll 38, shoulder yaw and elbow 30, wrist yaw 10.2, wrist roll
and pitch 3.95; link masses (pelvis 6.451 kg, per leg 1.144 + 3.989 + 6.369 + 2.190 + 0.080 +
0.584, waist 0.379 + 4.403 + 7.344, head 0.168 + 0.019 + 0.315, per arm 0.777 + 0.084 +
0.790 + 0.055 + 0.606 + 0.005 + 0.524: 53.47 kg in all), centres of mass and principal
inertias (the right side's taken as the left's mirror: they differ by < 1%). From the GR1T1
URDF itself (FFTAI/Wiki-MJCF, models/GR1/GR1T1/urdf/GR1T1_raw.urdf): the legs' velocity
limits (rad/s) hip roll 12.15, hip yaw 16.76, hip pitch and knee 37.38, ankles 20.32. The
ankle torques differ between the two files (the URDF says pitch 8, roll 3 N m; the MJCF 16
and 8): both rate the ankle's two linkage actuators, not the joint; we take the MJCF's, the
larger, and the Stand task's pushes are scaled to them (`stand.md`).

Our estimates, where the files give nothing: velocity limits of the waist (12 rad/s), head (5),
shoulders and elbows (10) and wrists (5); the shapes (capsules and boxes sized to the links,
the feet 0.24 m x 0.08 m boxes, Fourier's two 0.04 m-apart sole capsules filled in); the IMU in
the pelvis; the head camera (0.095 m ahead of the head pitch axis, 30 deg down, 70 deg field of
view) and a chest camera (15 deg down, 70 deg); PD gains per joint (gr1.xml's actuators, also
in `PD_GAINS`); a nominal standing posture with the knees bent 0.4 rad and the feet flat, the
elbows bent 0.5 rad, the head pitched 0.3 rad down at the table; 50 Hz control on 5 ms physics
steps. The soles' reference sites (the balance law's support centre) sit 0.005 m ahead of the
ankle axis, not at the foot's middle (0.05 m): the 16 N m ankles hold the centre of pressure
only 0.06 m from the ankle when both push (32 N m / 525 N); from 0.005 m the law's resting
centre of mass has about equal reach forward and back.

Hands (issue 21, manipulation): Fourier sells the GR1 with its dexterous hand (6 actuators,
11 joints, about 0.5 kg; Fourier's product figures as we recall them, not re-read in this
session); the GR1T1 files' hand link (0.524 kg) carries its mass. Ours is a simplification:
a parallel two-jaw gripper under each hand link, a fixed jaw and a 0.08 kg jaw sliding across
it on one slide joint (q = the opening, 0-0.085 m, jaws 0.12 m long, as the hand's fingers:
shorter ones let the tilted palm knock cups over), a 500 N/m servo
clipped at 15 N; no fingers, no thumb. The two gripper joints and servos are APPENDED after
the 32 body joints (indices 32 and 33), so the body's indices and the balance layout do not
move; a `*_grip` site sits between the jaws.
"""

from pathlib import Path

from librobot_gym.robots.humanoids.common import (
    BalanceLayout,
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
    # name, lower (rad), upper (rad), max velocity (rad/s, GR1T1_raw.urdf), max effort (N m)
    ("hip_roll", -0.09, 0.79, 12.15, 80.0),
    ("hip_yaw", -0.7, 0.7, 16.76, 60.0),
    ("hip_pitch", -1.75, 0.7, 37.38, 160.0),
    ("knee_pitch", -0.09, 1.92, 37.38, 160.0),
    ("ankle_pitch", -1.05, 0.52, 20.32, 16.0),
    ("ankle_roll", -0.44, 0.44, 20.32, 8.0),
)
# Waist, head and arms: velocities our estimates (below).
_WAIST = (("waist_yaw", -1.05, 1.05, 12.0, 82.5), ("waist_pitch", -0.52, 1.22, 12.0, 82.5),
          ("waist_roll", -0.7, 0.7, 12.0, 82.5))
_HEAD = (("head_yaw", -2.71, 2.71, 5.0, 10.2), ("head_roll", -0.35, 0.35, 5.0, 3.95),
         ("head_pitch", -0.52, 0.35, 5.0, 3.95))
_ARM = (  # the left arm; the right one mirrors shoulder roll
    ("shoulder_pitch", -2.79, 1.92, 10.0, 38.0),
    ("shoulder_roll", -0.57, 3.27, 10.0, 38.0),
    ("shoulder_yaw", -2.97, 2.97, 10.0, 30.0),
    ("elbow_pitch", -2.27, 2.27, 10.0, 30.0),
    ("wrist_yaw", -2.97, 2.97, 5.0, 10.2),
    ("wrist_roll", -0.61, 0.61, 5.0, 3.95),
    ("wrist_pitch", -0.61, 0.61, 5.0, 3.95),
)
_MIRRORED = ("hip_roll", "shoulder_roll")


def _joints(prefix: str, rows) -> list[JointSpec]:
    joints = []
    for name, lo, hi, vel, effort in rows:
        if prefix == "right_" and name in _MIRRORED:
            lo, hi = -hi, -lo
        joints.append(JointSpec(f"{prefix}{name}_joint", lo, hi, vel, effort))
    return joints


# The hands (appended after the 32 body joints, so their indices and the balance layout stay):
# a parallel gripper standing in for each Fourier hand, one slide joint, q = the jaws' opening
# (m), 0.2 m/s, 15 N of grip.
GRIPPER_OPENING = 0.085  # m, the widest
GRIPPERS = tuple(JointSpec(f"{side}_gripper_joint", 0.0, GRIPPER_OPENING, 0.2, 15.0,
                           kind="slide") for side in ("left", "right"))
BODY_JOINTS = tuple(_joints("left_", _LEG) + _joints("right_", _LEG) + _joints("", _WAIST)
                    + _joints("", _HEAD) + _joints("left_", _ARM) + _joints("right_", _ARM))
JOINTS = BODY_JOINTS + GRIPPERS
N_HELD = 15  # legs 12 and waist 3: the balance law's; upper_body drives the head and arms
LEG_JOINTS = tuple(j.name for j in JOINTS[:12])
UPPER_JOINTS = tuple(j.name for j in JOINTS[N_HELD:])
# The nominal standing posture (rad): legs hip roll, yaw, pitch, knee, ankle pitch, roll (feet
# flat: pitch + knee + ankle = 0); waist yaw, pitch, roll; head yaw, roll, pitch (0.3 down);
# arms shoulder pitch, roll, yaw, elbow, wrist yaw, roll, pitch (elbows bent 0.5 rad forward).
NOMINAL_LEG = (0.0, 0.0, -0.2, 0.4, -0.2, 0.0)
NOMINAL_ARM = (-0.1, 0.1, 0.0, -0.5, 0.0, 0.0, 0.0)
GRIPPER_OPEN = 0.08  # m: the grippers' nominal opening
NOMINAL = (NOMINAL_LEG + NOMINAL_LEG + (0.0, 0.0, 0.0) + (0.0, 0.0, 0.3) + NOMINAL_ARM
           + (NOMINAL_ARM[0], -NOMINAL_ARM[1]) + NOMINAL_ARM[2:] + (GRIPPER_OPEN, GRIPPER_OPEN))
# PD gains (gr1.xml's position actuators): kp N m/rad, kv N m s/rad; ours.
PD_GAINS = {"hip roll": (400, 6), "hip yaw": (300, 5), "hip pitch and knee": (600, 8),
            "ankle pitch": (200, 3), "ankle roll": (100, 2), "waist yaw": (300, 6),
            "waist pitch and roll": (400, 8), "head yaw": (20, 0.5),
            "head roll and pitch": (10, 0.3), "shoulder pitch and roll": (80, 2),
            "shoulder yaw and elbow": (50, 1), "wrist yaw": (15, 0.3),
            "wrist roll and pitch": (8, 0.2), "gripper (N/m, N s/m)": (500, 10)}
# The balance law's joints: hip roll 0/6, hip pitch 2/8, ankle pitch 4/10, ankle roll 5/11.
# Gains retuned for the GR1's 16 N m ankles (the H1's are ankle 2.5, hip -3.0 rad/m; see
# balance.py): a stiffer ankle (5.0) and a softer hip (-2.5) ride out 10 N s pushes at the
# torso from all 8 compass directions (tried one by one), where the H1's gains fall to 8 N s
# straight ahead. The ankle roll (8 N m) is left out of the law: feeding it (2 rad/m) made
# sideways-back pushes fall.
LAYOUT = register_layout("gr1", BalanceLayout(
    n_held=N_HELD, hip_roll=(0, 6), hip_pitch=(2, 8), ankle_pitch=(4, 10), ankle_roll=(5, 11),
    gains={"ankle": 5.0, "hip": -2.5}))



def _unit(joint: JointSpec) -> str:
    return "m" if joint.kind == "slide" else "rad"


def _effort(joint: JointSpec) -> str:
    return f"{joint.max_effort:g} {'N' if joint.kind == 'slide' else 'N m'}"


JOINT_POS = ControlModeSpec(
    "joint_pos",
    tuple(ActionDim(j.name, _unit(j), j.lower, j.upper,
                    f"PD target, clipped at {_effort(j)}") for j in JOINTS),
    "Whole-body PD targets at 50 Hz for the 32 body joints (legs 6 each, waist 3, head 3, arms "
    "7 each) and the two grippers' jaw openings (m, appended last; 500 N/m), each servo kp/kd "
    "per joint (hip roll 400/6, hip yaw 300/5, hip pitch and knee "
    "600/8, ankle pitch 200/3, ankle roll 100/2, waist 300-400/6-8, head 10-20/0.3-0.5, "
    "shoulder pitch and roll 80/2, shoulder yaw and elbow 50/1, wrists 8-15/0.2-0.3; N m/rad, "
    "N m s/rad) clipped at the motor's torque. Nothing balances the robot but the policy.",
)
UPPER_BODY = ControlModeSpec(
    "upper_body",
    tuple(ActionDim(j.name, _unit(j), j.lower, j.upper, "PD target") for j in JOINTS[N_HELD:]),
    "The head's 3 and the arms' 14 PD targets (rad), the grippers' 2 jaw openings (m) at 50 "
    "Hz; the legs and waist are held at the "
    "nominal standing posture by the built-in balance controller (capture-point feedback "
    "through the ankles and hips, `robots/humanoids/balance.py`).",
)

# Walking (`base_velocity`, robots/humanoids/walking/): 0.27 s steps, the soles 0.22 m apart
# (the hips are 0.21 m), the pelvis at 0.9 m (knees ~0.7 rad); leg damping for a swinging leg
# (N m s/rad, hip roll, yaw, pitch, knee, ankle pitch, roll).
WALK = WalkLayout(legs=(tuple(range(6)), tuple(range(6, 12))), step_time=0.27,
                  step_width=0.22, pelvis_height=0.9, swing_height=0.07,
                  max_step=(0.35, 0.2, 0.12), min_width=0.15, max_foot_yaw=0.35,
                  vx_range=(-0.3, 0.7), vy_max=0.2, yaw_rate_max=0.5, ankles=2,
                  leg_kd=(30.0, 6.0, 35.0, 12.0, 3.0, 2.0))
HANDS = register_hands("gr1", HandsLayout(arms=(tuple(range(18, 25)), tuple(range(25, 32))),
                                          grippers=(32, 33), max_opening=GRIPPER_OPENING))
EE_DELTA_POSE = ee_delta_pose_mode(
    "GR1", HANDS, "the 7-DoF arms place and orient the hand (rotation weighted 0.3 m/rad); "
    "the waist stays with the balance law.")

GR1 = register_robot(RobotSpec(
    name="gr1",
    family="humanoid",
    asset=str(Path(__file__).with_name("gr1.xml")),
    joints=JOINTS,
    actuators=tuple(j.name.removesuffix("_joint") for j in JOINTS),
    control_modes={"joint_pos": JOINT_POS, "upper_body": UPPER_BODY,
                   "base_velocity": base_velocity_mode(WALK),
                   "ee_delta_pose": EE_DELTA_POSE},
    ik_rotation_weight=0.3,
    default_control_mode="joint_pos",
    proprio=humanoid_proprio(34, "pelvis", joint_units="rad; the grippers' m",
                             velocity_units="rad/s; the grippers' m/s"),
    cameras=(
        CameraSpec("head", "head_link", 70.0),
        CameraSpec("chest", "torso_link", 70.0),
    ),
    home_qpos=NOMINAL,
    # TabletopPick's table, reach and camera framing (name, position and look-at point in the
    # camera's mount frame, m; vertical field of view, deg), fitted to this robot
    # (envs/tasks/humanoid_pick.py).
    task_layouts={"tabletop_pick": {
        "table_height": 0.85, "table_edge": 0.33, "reach_x": (0.38, 0.46),
        "reach_y": (0.1, 0.3), "open": 0.08, "jaw_lean": 0.15,
        "cameras": (("head", (0.095, 0.0, 0.025), (0.6, 0.0, -0.518), 42.0),
                    ("chest", (0.075, 0.0, 0.22), (0.42, 0.0, -0.206), 70.0))}},
    tool_site="right_hand",
    control_hz=50.0,
    physics_dt=0.005,
    drivers=("fourier:HOST",),
    stand_in="fourier:emulator:lockstep",
))
register_walk_layout("gr1", WALK)
