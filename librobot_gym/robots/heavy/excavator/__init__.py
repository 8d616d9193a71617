"""A 20-tonne class tracked hydraulic excavator (proportions of a Cat 320 / Komatsu PC210).

Hydraulic figures: 34.3 MPa relief pressure; boom 2 x 120 mm bore cylinders, stick 135 mm,
bucket 115 mm; swing motor 70 kN m at the house; travel 5.5 km/h. Joint speeds at full pilot
are typical no-load figures for the class (swing 11 rpm).
"""

import math
from pathlib import Path

from librobot_gym.robots.registry import register_robot
from librobot_gym.robots.spec import (
    ActionDim,
    BucketSpec,
    CameraSpec,
    ControlModeSpec,
    HydraulicSpec,
    JointSpec,
    ProprioField,
    RobotSpec,
    TrackSpec,
)

RELIEF_PRESSURE = 34.3e6  # Pa


def _cylinder_area(bore_m: float, count: int = 1) -> float:
    return count * math.pi * bore_m**2 / 4


HYDRAULICS = (
    # actuator/joint, max speed (rad/s), max cylinder force (N), moment arm (m), piston area (m^2)
    HydraulicSpec("boom", "boom", 0.4, RELIEF_PRESSURE * _cylinder_area(0.120, 2), 0.85,
                  _cylinder_area(0.120, 2)),
    HydraulicSpec("stick", "stick", 0.6, RELIEF_PRESSURE * _cylinder_area(0.135), 0.75,
                  _cylinder_area(0.135)),
    HydraulicSpec("bucket", "bucket", 1.0, RELIEF_PRESSURE * _cylinder_area(0.115), 0.5,
                  _cylinder_area(0.115), lag=0.12),
    # The swing motor: torque at the house, so moment arm 1; "area" = torque per pascal.
    HydraulicSpec("swing", "swing", 1.15, 70_000.0, 1.0, 70_000.0 / RELIEF_PRESSURE, lag=0.2),
)
TRACKS = TrackSpec(gauge=2.38, length=4.45, width=2.98, max_speed=1.5)

_PILOT = {
    "boom": "boom cylinders: + raises",
    "stick": "stick cylinder: + pulls the stick in towards the cab",
    "bucket": "bucket cylinder: + curls the bucket in (closes)",
    "swing": "swing motor: + turns the house counter-clockwise (left)",
}

HYDRAULIC = ControlModeSpec(
    "hydraulic",
    tuple(ActionDim(h.joint, "rad/s", -h.max_speed, h.max_speed,
                    f"pilot command, {_PILOT[h.joint]}; full stroke asks {h.max_speed} rad/s")
          for h in HYDRAULICS[:3])
    + (ActionDim("swing", "rad/s", -1.15, 1.15, f"pilot command, {_PILOT['swing']}"),)
    + tuple(ActionDim(f"{side}_track", "m/s", -TRACKS.max_speed, TRACKS.max_speed,
                      f"{side} track motor: + drives forward")
            for side in ("left", "right")),
    "Normalised pilot commands per cylinder/motor: [boom, stick, bucket, swing, left track, "
    "right track]. Each passes a 5% deadband and a first-order valve lag.",
)

EXCAVATOR = register_robot(RobotSpec(
    name="excavator",
    family="heavy",
    asset=str(Path(__file__).with_name("excavator.xml")),
    joints=(
        JointSpec("swing", -math.inf, math.inf, 1.15, 70_000.0),
        JointSpec("boom", -0.9, 1.0, 0.4, 660_000.0),
        JointSpec("stick", 0.5, 2.75, 0.6, 368_000.0),
        JointSpec("bucket", -0.8, 2.4, 1.0, 178_000.0),
    ),
    actuators=("boom", "stick", "bucket", "swing", "drive", "turn"),
    control_modes={"hydraulic": HYDRAULIC},
    default_control_mode="hydraulic",
    proprio=(
        ProprioField("joint_pos", 4, "rad (swing, boom, stick, bucket)"),
        ProprioField("joint_vel", 4, "rad/s"),
        ProprioField("cylinder_force", 4, "kN (boom, stick, bucket; swing: kN m)"),
        ProprioField("pressure", 4, "MPa"),
        ProprioField("bucket_pos", 3, "m, world"),
        ProprioField("bucket_quat", 4, "quaternion wxyz, world"),
        ProprioField("base_pose", 3, "m, m, rad (x, y, yaw)"),
        ProprioField("payload", 1, "t in the bucket (payload weighing system)"),
    ),
    cameras=(
        CameraSpec("cab", "house", 75.0),
        CameraSpec("external", "world", 55.0),
    ),
    home_qpos=(0.0, 0.35, 1.55, 1.2),
    tool_site="bucket_tip",
    control_hz=10.0,
    physics_dt=0.01,
    hydraulics=HYDRAULICS,
    tracks=TRACKS,
    bucket=BucketSpec(body="bucket", tip_site="bucket_tip", payload_site="bucket_payload",
                      width=1.3, rated_capacity=1.19, opening_axis=(0.0, 0.0, -1.0)),
    base_joints=("base_x", "base_y", "base_yaw"),
    drivers=("j1939:can0",),  # SocketCAN channel wired to the machine's J1939 bus
    stand_in="j1939:emulator:lockstep",
))
