"""A 19-tonne class wheel loader (Caterpillar 950 GC class) with articulated frame steering.

Figures used, rounded, and where they come from:
- From the issue (issue 22) and Caterpillar's 950 GC marketing class: ~19 t operating mass
  (the MJCF sums to 19.35 t: rear frame 9.8 t, front frame 3.4 t, arms 1.9 t, bucket 1.65 t,
  four wheels 0.65 t each), 180 kW engine, buckets 2.5-4.4 m^3; we fit a 3.1 m^3
  general-purpose bucket, 2.9 m wide (the middle of that range).
- Typical published dimensions of the class (950-size loaders from Caterpillar, Komatsu WA380
  and Volvo L110 sheets; not checked against one current sheet in this session): wheelbase
  3.35 m with the hinge midway, tread 2.2 m, 23.5R25 tyres (0.8 m rolling radius), articulation
  +-40 deg, hinge-pin height at full lift ~4.2 m, top speed ~36 km/h forward, ~25 km/h reverse,
  hydraulic cycle ~5.5 s raise, ~1.6 s dump.
- Class-typical values we chose (no published source): rimpull at stall 140 kN (about 0.75 of
  the machine's weight, so the tyres slip before the converter stalls on dry earth), 80%
  drivetrain efficiency, 27.6 MPa implement relief pressure, lift cylinders 2 x 140 mm bore
  on a 0.47 m moment arm, tilt cylinder 160 mm on 0.54 m, steering cylinders 2 x 80 mm on
  0.5 m, wet-disc service brakes 32 kN m per wheel.
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

RELIEF_PRESSURE = 27.6e6  # Pa
WHEELS = ("wheel_fl", "wheel_fr", "wheel_rl", "wheel_rr")


def _cylinder_area(bore_m: float, count: int = 1) -> float:
    return count * math.pi * bore_m**2 / 4


HYDRAULICS = (
    # actuator, joint, max speed (rad/s), max cylinder force (N), moment arm (m), area (m^2)
    HydraulicSpec("steer", "articulation", 0.5, RELIEF_PRESSURE * _cylinder_area(0.080, 2), 0.5,
                  _cylinder_area(0.080, 2)),
    HydraulicSpec("lift", "lift", 0.2, RELIEF_PRESSURE * _cylinder_area(0.140, 2), 0.47,
                  _cylinder_area(0.140, 2)),
    HydraulicSpec("tilt", "tilt", 1.0, RELIEF_PRESSURE * _cylinder_area(0.160), 0.54,
                  _cylinder_area(0.160), lag=0.12),
)
DRIVETRAIN = DrivetrainSpec(
    wheel_joints=WHEELS, wheel_radius=0.8, engine_power=180e3, max_rimpull=140e3,
    max_speed=10.0, max_reverse_speed=7.0, brake_torque=32e3,
    brake_actuators=tuple(w.replace("wheel", "brake") for w in WHEELS),
    wheel_actuators=tuple(w.replace("wheel", "drive") for w in WHEELS),
    articulation_joint="articulation", articulation_actuator="steer",
    max_articulation=math.radians(40.0), steer_rate=0.5,
)

_DRIVE_DIMS = articulated_drive_dims(DRIVETRAIN, "the front frame")
DRIVE = ControlModeSpec(
    "drive", _DRIVE_DIMS,
    "Drivetrain and steering: [throttle, brake, articulation, direction]. The linkage's valves "
    "stay closed (the bucket holds its pose).",
)
DRIVE_HYDRAULIC = ControlModeSpec(
    "drive+hydraulic",
    _DRIVE_DIMS + (
        ActionDim("lift", "rad/s", -0.2, 0.2,
                  "lift valve: + raises the arms; full stroke 0.2 rad/s (5.5 s raise)"),
        ActionDim("tilt", "rad/s", -1.0, 1.0,
                  "tilt valve: + racks the bucket back, - dumps; rate of the bucket's attitude "
                  "against the frame (Z-bar), full stroke 1 rad/s"),
    ),
    "Drivetrain, steering and the loader valves: [throttle, brake, articulation, direction, "
    "lift, tilt]. Each valve passes a 5% deadband and a first-order valve lag.",
)

WHEEL_LOADER = register_robot(RobotSpec(
    name="wheel_loader",
    family="heavy",
    asset=str(Path(__file__).with_name("wheel_loader.xml")),
    joints=(
        JointSpec("articulation", -0.7, 0.7, 0.5, 139_000.0),
        JointSpec("lift", -0.05, 1.1, 0.2, 400_000.0),
        JointSpec("tilt", -2.0, 0.8, 1.0, 300_000.0),
    ),
    actuators=("steer", "lift", "tilt") + DRIVETRAIN.wheel_actuators
    + DRIVETRAIN.brake_actuators,
    control_modes={"drive+hydraulic": DRIVE_HYDRAULIC, "drive": DRIVE},
    default_control_mode="drive+hydraulic",
    proprio=(
        ProprioField("joint_pos", 3, "rad (articulation, lift, tilt)"),
        ProprioField("joint_vel", 3, "rad/s"),
        ProprioField("cylinder_force", 3, "kN (steering, lift, tilt)"),
        ProprioField("pressure", 3, "MPa"),
        ProprioField("bucket_pos", 3, "m, world (cutting edge)"),
        ProprioField("bucket_quat", 4, "quaternion wxyz, world"),
        ProprioField("base_pose", 3, "m, m, rad (rear frame x, y, yaw)"),
        ProprioField("ground_speed", 1, "m/s along the rear frame, + forward"),
        ProprioField("drivetrain", 2, "gear (-1 reverse, 0 neutral, 1 forward), rimpull kN"),
        ProprioField("payload", 1, "t in the bucket (payload weighing system)"),
    ),
    cameras=(
        CameraSpec("cab", "rear_frame", 80.0),
        CameraSpec("external", "world", 55.0),
    ),
    home_qpos=(0.0, 0.1, 0.25),
    tool_site="bucket_tip",
    control_hz=10.0,
    physics_dt=0.01,
    hydraulics=HYDRAULICS,
    drivetrain=DRIVETRAIN,
    bucket=BucketSpec(body="bucket", tip_site="bucket_tip", payload_site="bucket_payload",
                      width=2.9, rated_capacity=3.1, opening_axis=(0.805, 0.0, 0.594),
                      load_geom="bucket_load", pour_tilts=(35.0, 60.0, 100.0)),
    base_joints=("base",),
    drivers=("j1939:can0",),  # SocketCAN channel wired to the machine's J1939 bus
    stand_in="j1939:emulator:lockstep",
))
