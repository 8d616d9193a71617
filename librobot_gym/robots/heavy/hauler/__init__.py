"""A 28-tonne articulated hauler (Caterpillar 730 class): articulated steering, six wheels on a
front axle and a rear bogie pair, a dump body on hoist cylinders, payload weighing.

Figures used, rounded, and where they come from:
- From the issue (issue 22), which quotes Caterpillar's 730 class: 28 t rated payload,
  17.5 m^3 heaped body (SAE 2:1), 23.9 t empty operating mass, 55 km/h top speed, body raise
  12 s, lower 8 s. The MJCF sums to 23.9 t: tractor unit 10.2 t (engine, cab, front axle),
  trailer frame 5.3 t, dump body 4.4 t, six wheels 0.6 t each, two bogie beams 0.2 t
  each. The material's density is 1,600 kg/m^3, so 28 t fill the 17.5 m^3.
- Typical published dimensions of the class (Cat 730, Volvo A30, Komatsu HM300 sheets as
  remembered; not checked against one current sheet in this session): 23.5R25 tyres (0.8 m
  rolling radius), tread 2.3 m, front axle 1.9 m ahead of the articulation hinge, rear
  bogie centre 4.75 m behind it with the two rear axles 1.7 m apart (overall ~10 m),
  articulation +-45 deg, body tip angle 70 deg, loading height ~2.8 m, net power ~276 kW.
- Class-typical values we chose (no published source): rimpull at stall 280 kN (about 0.55
  of the loaded weight, below what 0.7 tyre-gravel friction carries), 80% drivetrain
  efficiency, reverse top speed 4.2 m/s (15 km/h), oil-cooled service brakes 35 kN m per
  wheel, steering 2 x 100 mm cylinders at 25 MPa on a 0.6 m arm (240 kN m) reaching the asked
  angle at <= 0.4 rad/s, hoist 2 x 160 mm cylinders at 25 MPa on a 1.2 m arm (1.2 MN m,
  1.3x what a full body needs), raise flow 0.10 rad/s (70 deg in 12 s), lower 0.15 rad/s
  (8 s).

Loaded and empty differ as they do on a site: the material model adds the payload to the dump
body's mass and inertia (`BucketSpec.payload_as_mass`), so a full body halves the machine's
acceleration, lengthens its stops and raises its centre of mass, which shrinks the tip margin
on a side slope and with the body up.
"""

import math
from pathlib import Path

from librobot_gym.robots.heavy import articulated_drive_dims
from librobot_gym.robots.registry import register_robot
from librobot_gym.robots.spec import (
    ActionDim,
    BucketSpec,
    CameraSpec,
    ControlModeSpec,
    DrivetrainSpec,
    HydraulicSpec,
    JointSpec,
    ProprioField,
    RobotSpec,
)

RELIEF_PRESSURE = 25.0e6  # Pa
WHEELS = ("wheel_fl", "wheel_fr", "wheel_ml", "wheel_mr", "wheel_rl", "wheel_rr")
RAISE_SPEED = 0.102  # rad/s: 70 deg in 12 s (pump flow)
LOWER_SPEED = 0.153  # rad/s: 70 deg in 8 s (on the body's weight)
MAX_TIP = math.radians(70.0)
DENSITY = 1600.0  # kg/m^3: 28 t in 17.5 m^3


def _cylinder_area(bore_m: float, count: int = 1) -> float:
    return count * math.pi * bore_m**2 / 4


HYDRAULICS = (
    # actuator, joint, max speed (rad/s), max cylinder force (N), moment arm (m), area (m^2)
    HydraulicSpec("steer", "articulation", 0.4, RELIEF_PRESSURE * _cylinder_area(0.100, 2), 0.6,
                  _cylinder_area(0.100, 2)),
    # The valve's full stroke asks the lowering speed; raising is capped by the pump at
    # RAISE_SPEED (the MJCF servo's ctrlrange).
    HydraulicSpec("hoist", "hoist", LOWER_SPEED, RELIEF_PRESSURE * _cylinder_area(0.160, 2), 1.2,
                  _cylinder_area(0.160, 2)),
)
DRIVETRAIN = DrivetrainSpec(
    wheel_joints=WHEELS, wheel_radius=0.8, engine_power=276e3, max_rimpull=280e3,
    max_speed=55 / 3.6, max_reverse_speed=4.2, brake_torque=35e3,
    brake_actuators=tuple(w.replace("wheel", "brake") for w in WHEELS),
    wheel_actuators=tuple(w.replace("wheel", "drive") for w in WHEELS),
    articulation_joint="articulation", articulation_actuator="steer",
    max_articulation=math.radians(45.0), steer_rate=0.4,
)

_DRIVE_DIMS = articulated_drive_dims(DRIVETRAIN, "the tractor unit")
DRIVE = ControlModeSpec(
    "drive", _DRIVE_DIMS,
    "Drivetrain and steering: [throttle, brake, articulation, direction]. The hoist valve "
    "stays closed (the body holds its angle).",
)
DRIVE_DUMP = ControlModeSpec(
    "drive+dump",
    _DRIVE_DIMS + (
        ActionDim("body", "rad/s", -LOWER_SPEED, LOWER_SPEED,
                  "hoist valve: + raises the dump body (the pump caps it at 0.10 rad/s: 12 s "
                  "to 70 deg), - lowers it (up to 0.15 rad/s: 8 s)"),
    ),
    "Drivetrain, steering and the hoist valve: [throttle, brake, articulation, direction, "
    "body]. The valve passes a 5% deadband and a first-order valve lag.",
)

HAULER = register_robot(RobotSpec(
    name="hauler",
    family="heavy",
    asset=str(Path(__file__).with_name("hauler.xml")),
    joints=(
        JointSpec("articulation", -0.785, 0.785, 0.4, 240_000.0),
        JointSpec("hoist", 0.0, 1.22, LOWER_SPEED, 1_200_000.0),
    ),
    actuators=("steer", "hoist") + DRIVETRAIN.wheel_actuators + DRIVETRAIN.brake_actuators,
    control_modes={"drive+dump": DRIVE_DUMP, "drive": DRIVE},
    default_control_mode="drive+dump",
    # The layout the wheeled machines' controller writes (envs/sim/drivetrain.py): the dump
    # body stands where a loader's bucket does.
    proprio=(
        ProprioField("joint_pos", 2, "rad (articulation, hoist)"),
        ProprioField("joint_vel", 2, "rad/s"),
        ProprioField("cylinder_force", 2, "kN (steering, hoist)"),
        ProprioField("pressure", 2, "MPa"),
        ProprioField("body_lip_pos", 3, "m, world (the dump body's rear lip, where it pours)"),
        ProprioField("body_quat", 4, "quaternion wxyz, world (the dump body: tip and slope)"),
        ProprioField("base_pose", 3, "m, m, rad (tractor unit x, y, yaw at the hinge)"),
        ProprioField("ground_speed", 1, "m/s along the tractor unit, + forward"),
        ProprioField("drivetrain", 2, "gear (-1 reverse, 0 neutral, 1 forward), rimpull kN"),
        ProprioField("payload", 1, "t in the body (payload weighing system)"),
    ),
    cameras=(
        CameraSpec("cab", "tractor", 80.0),
        CameraSpec("external", "tractor", 60.0),
    ),
    home_qpos=(0.0, 0.0),
    tool_site="body_lip",
    control_hz=10.0,
    physics_dt=0.01,
    hydraulics=HYDRAULICS,
    drivetrain=DRIVETRAIN,
    bucket=BucketSpec(body="dump_body", tip_site="body_lip", payload_site="body_payload",
                      width=2.8, rated_capacity=17.5, opening_axis=(0.0, 0.0, 1.0),
                      load_geom="body_load", pour_tilts=(20.0, 35.0, 55.0),
                      payload_as_mass=True),
    base_joints=("base",),
    drivers=("j1939:can0",),  # SocketCAN channel wired to the machine's J1939 bus
    stand_in="j1939:emulator:lockstep",
))
