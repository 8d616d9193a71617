"""One robot description that fits an arm, a mobile base, a humanoid and a hydraulic machine.

A `RobotSpec` is data only: what moves (joints, actuators and their limits), how a policy may
command it (control modes, each a list of named, unit-carrying action dimensions normalised to
[-1, 1]), what it senses about itself (proprioception layout), where its cameras are, and the
MJCF file that models it. Backends (MuJoCo, real hardware) read it; tasks ask it for frames.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np


@dataclass(frozen=True)
class JointSpec:
    """A joint with its published limits. `kind` is "hinge" (rad) or "slide" (m)."""

    name: str
    lower: float
    upper: float
    max_velocity: float
    max_effort: float
    kind: str = "hinge"

    @property
    def unit(self) -> str:
        return "rad" if self.kind == "hinge" else "m"


@dataclass(frozen=True)
class ActionDim:
    """One action dimension: -1 maps to `low`, +1 to `high`, both in `unit`."""

    name: str
    unit: str
    low: float
    high: float
    description: str = ""


@dataclass(frozen=True)
class ControlModeSpec:
    """A way to command the robot: its action dimensions, in order."""

    name: str
    dims: tuple[ActionDim, ...]
    description: str = ""

    @property
    def size(self) -> int:
        return len(self.dims)

    @cached_property
    def low(self) -> np.ndarray:
        return np.array([d.low for d in self.dims], dtype=np.float64)

    @cached_property
    def high(self) -> np.ndarray:
        return np.array([d.high for d in self.dims], dtype=np.float64)

    @cached_property
    def _centre(self) -> np.ndarray:
        return (self.high + self.low) / 2

    @cached_property
    def _half_range(self) -> np.ndarray:
        return (self.high - self.low) / 2

    def to_physical(self, normalised: np.ndarray) -> np.ndarray:
        """Map a normalised action in [-1, 1] to physical units."""
        return self._centre + self._half_range * normalised

    def to_normalised(self, physical: np.ndarray) -> np.ndarray:
        """Inverse of `to_physical` (not clipped)."""
        return (np.asarray(physical, dtype=np.float64) - self._centre) / self._half_range

    def table(self) -> list[dict[str, object]]:
        """Rows for docs and `librobot envs`: index, name, unit, physical range."""
        return [
            {"index": i, "name": d.name, "unit": d.unit, "low": d.low, "high": d.high,
             "description": d.description}
            for i, d in enumerate(self.dims)
        ]


@dataclass(frozen=True)
class ProprioField:
    """One named slice of the proprioceptive state vector."""

    name: str
    size: int
    unit: str


@dataclass(frozen=True)
class CameraSpec:
    """A camera the robot carries or expects: `mount` is a body name or "world"."""

    name: str
    mount: str
    fovy_deg: float
    default_size: tuple[int, int] = (128, 128)  # (height, width)


@dataclass(frozen=True)
class GripperSpec:
    """A gripper: its joints, the geoms that grasp, and its stroke.

    `kind` "parallel": slide fingers (the Franka Hand), each finger moves half the opening, so
    the opening is the sum of the finger positions (m). `kind` "jaw": one hinged jaw closing on
    a fixed one (the SO-100). The centre of the moving pad's face sits `jaw_radius` m from the
    hinge axis, which lies in the plane of the fixed pad's face, and crosses that plane at joint
    angle `jaw_closed` (rad; the jaw opens as the angle grows), so the opening (m, from the
    fixed pad's face to the moving pad's centre) is jaw_radius * sin(q - jaw_closed), for
    openings up to jaw_radius. Callers convert with `opening_from_joints` and
    `joints_from_opening` and never assume either kind.
    """

    joints: tuple[str, ...]
    pad_geoms: tuple[str, ...]
    max_opening: float  # distance between the pads when fully open, m
    max_force: float  # continuous grasp force, N
    kind: str = "parallel"  # "parallel" (slide fingers) or "jaw" (one hinged jaw)
    jaw_radius: float = 0.0  # m, hinge axis to the moving pad's contact point ("jaw" only)
    jaw_closed: float = 0.0  # rad, joint angle at which the pads touch ("jaw" only)

    def __post_init__(self) -> None:
        from librobot_gym.errors import ConfigError

        if self.kind not in ("parallel", "jaw"):
            raise ConfigError(f"gripper kind must be 'parallel' or 'jaw', got {self.kind!r}")
        if self.kind == "jaw" and (len(self.joints) != 1 or self.jaw_radius <= 0
                                   or self.max_opening > self.jaw_radius):
            raise ConfigError("a 'jaw' gripper has exactly one hinge joint and a jaw_radius > 0 "
                              "with max_opening <= jaw_radius; fix its GripperSpec")

    def opening_from_joints(self, q: np.ndarray) -> float:
        """Distance between the pads (m) for the gripper joint positions `q` (one per joint)."""
        if self.kind == "parallel":
            return float(np.sum(q))
        return self.jaw_radius * math.sin(float(q[0]) - self.jaw_closed)

    def joints_from_opening(self, opening: float) -> np.ndarray:
        """Gripper joint positions (m per finger, or rad for a jaw) that give `opening` (m)."""
        if self.kind == "parallel":
            return np.full(len(self.joints), opening / len(self.joints))
        ratio = min(max(opening / self.jaw_radius, -1.0), 1.0)
        return np.array([self.jaw_closed + math.asin(ratio)])


@dataclass(frozen=True)
class HydraulicSpec:
    """One hydraulic cylinder or motor driving one joint, as a valve-controlled velocity servo.

    The pilot command (normalised, -1..1) passes a deadband, then a first-order lag (spool and
    line dynamics), and asks for `max_speed` at full stroke (the pump's flow limit). The servo
    cannot push harder than the relief pressure allows: `max_force` at the cylinder, i.e.
    `max_force * moment_arm` at the joint. Cylinder force and pressure are reported from the
    joint torque through the same constant moment arm, a first-order model of the linkage.
    """

    actuator: str  # MJCF actuator name
    joint: str
    max_speed: float  # rad/s (or m/s) at full pilot command
    max_force: float  # N at the cylinder (or N m for a motor, with moment_arm = 1)
    moment_arm: float  # m from the joint axis to the cylinder line
    piston_area: float  # m^2, for pressure = force / area
    deadband: float = 0.05  # fraction of the pilot range that moves nothing
    lag: float = 0.15  # s, first-order time constant from pilot to flow


@dataclass(frozen=True)
class TrackSpec:
    """A tracked undercarriage: two tracks driven by hydraulic motors."""

    gauge: float  # m between track centres
    length: float  # m, ground contact length (support polygon)
    width: float  # m, overall width across both tracks (support polygon)
    max_speed: float  # m/s per track at full command
    lag: float = 0.3  # s


@dataclass(frozen=True)
class BucketSpec:
    """A digging bucket: where it cuts, how wide, how much it holds, which way it opens."""

    body: str
    tip_site: str
    payload_site: str  # where the load's weight acts
    width: float  # m, cutting edge width
    rated_capacity: float  # m^3, heaped (SAE J296)
    opening_axis: tuple[float, float, float]  # outward normal of the opening, bucket frame
    # A visual geom (no collisions) in the bucket that shows the load: the material model
    # scales it with the payload. None: the load is not drawn.
    load_geom: str | None = None
    # Tilt of the opening's normal from straight up (deg) at which the bucket, out of the
    # material, still holds its heaped load, its struck load, nothing: an excavator's bucket
    # empties mouth down, a loader's once its floor points ~45 deg down.
    pour_tilts: tuple[float, float, float] = (35.0, 60.0, 135.0)
    # True: the load's mass joins the body's own (inertia, centre of mass, weight), as a
    # hauler's 28 t payload must; False: its weight acts as an external force (a bucket).
    payload_as_mass: bool = False


SHUTTLE = 1.0 / 3.0  # |direction| above this selects forward or reverse
GOVERNOR_BAND = 0.1  # the pull fades to zero over the last 10% of the gear's top speed


@dataclass(frozen=True)
class DrivetrainSpec:
    """A wheeled machine's drivetrain and articulated steering, as the `drive` modes use it.

    The engine delivers at most `engine_power` (W) to the wheels after `efficiency`
    (torque converter and axles); below the speed where that power meets `max_rimpull` (N,
    the converter's stall tractive force) the pull is torque-limited; a governor fades it to
    zero at `max_speed` (m/s, forward; `max_reverse_speed` backwards). Every driven wheel gets
    the same torque (open differentials). The service brake is a wet disc on each wheel, a
    damper up to `brake_torque` N m. Steering turns the front frame against the rear on the
    articulation joint, a position command reached at no more than `steer_rate` rad/s.
    """

    wheel_joints: tuple[str, ...]  # driven (and braked) wheel hinges
    wheel_radius: float  # m, rolling radius
    engine_power: float  # W at the flywheel
    max_rimpull: float  # N, all wheels together at stall
    max_speed: float  # m/s forward
    max_reverse_speed: float  # m/s
    brake_torque: float  # N m per wheel, full pedal
    brake_actuators: tuple[str, ...]  # MJCF damper actuators, one per wheel
    wheel_actuators: tuple[str, ...]  # MJCF torque motors, one per wheel
    articulation_joint: str
    articulation_actuator: str
    max_articulation: float  # rad, either side
    steer_rate: float  # rad/s, flow-limited
    efficiency: float = 0.8

    def gear(self, direction: float) -> int:
        """The shuttle lever's gear: above +1/3 forward (1), below -1/3 reverse (-1), else 0."""
        return 1 if direction > SHUTTLE else -1 if direction < -SHUTTLE else 0

    def tractive_force(self, throttle: float, gear: int, speed: float) -> float:
        """N along the machine (+ forward) that the wheels are asked for: throttle x the least
        of the stall rimpull and the power limit, faded by the governor near the top speed
        (the simulator's drivetrain and the J1939 ECU emulator both drive by it)."""
        if gear == 0 or throttle <= 0.0:
            return 0.0
        top = self.max_speed if gear > 0 else self.max_reverse_speed
        power_limited = self.efficiency * self.engine_power / max(abs(speed), 1e-3)
        governor = min(max((top - gear * speed) / (GOVERNOR_BAND * top), 0.0), 1.0)
        return gear * min(throttle, 1.0) * min(self.max_rimpull, power_limited) * governor


@dataclass(frozen=True)
class DiffDriveSpec:
    """A differential-drive base as the `base_twist` mode commands it: a forward speed and a
    yaw rate, each slewed at most `max_accel` / `max_yaw_accel` per second (the base
    controller's acceleration limits), reached by chassis-frame velocity servos (MJCF
    actuators `forward`, `lateral` held at zero, `yaw`). The wheels turn at
    (v -/+ omega * track / 2) / wheel_radius (left, right). `lidar_site` carries a planar
    range scanner of `lidar_beams` beams spread over `lidar_fov` (rad), centred ahead, out to
    `lidar_range` m (farther reads as `lidar_range`)."""

    base_joints: tuple[str, str, str]  # slide x, slide y, hinge yaw (planar base)
    actuators: tuple[str, str, str]  # forward, lateral, yaw servos (chassis frame)
    wheel_joints: tuple[str, ...]  # left wheels first, then right, as the actuators
    wheel_actuators: tuple[str, ...]
    wheel_radius: float  # m
    track: float  # m between the left and right wheel centres
    max_speed: float  # m/s, either way
    max_yaw_rate: float  # rad/s
    max_accel: float  # m/s^2
    max_yaw_accel: float  # rad/s^2
    radius: float  # m, the circle around the base centre that covers the footprint
    lidar_site: str | None = None
    lidar_beams: int = 0
    lidar_fov: float = 0.0  # rad
    lidar_range: float = 10.0  # m

    @property
    def n_left(self) -> int:
        return len(self.wheel_joints) // 2


@dataclass(frozen=True)
class UpperBodySpec:
    """A mobile manipulator's torso lift and head: the torso is commanded as a speed (m/s, at
    most `torso_max_speed`) integrated into its position servo's target within the joint's
    limits; the head's pan and tilt servos hold `head_home` (rad) unless a mode commands them."""

    torso_joint: str
    torso_actuator: str
    torso_max_speed: float  # m/s
    head_joints: tuple[str, str]  # pan, tilt
    head_actuators: tuple[str, str]
    head_home: tuple[float, float]  # rad
    head_max_speed: float = 1.57  # rad/s, each head joint (fetch.urdf's; TIAGo's is 3.0)


@dataclass(frozen=True)
class RobotSpec:
    """Everything a backend needs to simulate or drive one robot, and a policy to command it."""

    name: str
    family: str  # "arm", "mobile", "mobile_manipulator", "humanoid", "heavy"
    asset: str  # absolute path of the MJCF file, beside the robot's module in its folder
    joints: tuple[JointSpec, ...]
    actuators: tuple[str, ...]  # MJCF actuator names, in control order
    control_modes: dict[str, ControlModeSpec]
    default_control_mode: str
    proprio: tuple[ProprioField, ...]
    cameras: tuple[CameraSpec, ...]
    home_qpos: tuple[float, ...]  # joint positions of the arm joints at reset
    tool_site: str | None = None  # the frame a task grasps or digs with
    gripper: GripperSpec | None = None
    control_hz: float = 20.0  # policy rate
    physics_dt: float = 0.0025  # s; must divide the control period
    hydraulics: tuple[HydraulicSpec, ...] = ()
    tracks: TrackSpec | None = None
    bucket: BucketSpec | None = None
    drivetrain: DrivetrainSpec | None = None  # wheeled machines (wheel loader, hauler)
    diff_drive: DiffDriveSpec | None = None  # differential-drive bases (`base_twist`)
    upper_body: UpperBodySpec | None = None  # a mobile manipulator's torso and head
    base_joints: tuple[str, ...] = ()  # planar x, y, yaw of a mobile base, if any
    # Box (lower xyz, upper xyz; m, base frame) the tool may reach on hardware: the safety
    # layer's default workspace for this robot.
    workspace: tuple[tuple[float, float, float], tuple[float, float, float]] | None = None
    # Weight of the orientation rows (rad) against the position rows (m) in the ee_delta_pose
    # IK step. 1.0 solves the full 6-D delta (an arm with >= 6 joints); an arm with fewer joints
    # cannot meet every 6-D delta, and a weight < 1 makes the least-squares step favour the
    # position: 1 rad of orientation error costs as much as w m of position error.
    ik_rotation_weight: float = 1.0
    # Damping of that least-squares step (m), None: the controller's default (0.05, sized for
    # the Franka). Jacobians scale with the arm's reach, so a small arm wants a smaller one.
    ik_damping: float | None = None
    # Per-task numbers at this robot's scale, as plain data keyed by task name (the task owns
    # the schema, e.g. `PickCupLayout`; the robot owns the numbers): {"pick_cup": {...}}.
    task_layouts: Mapping[str, Mapping[str, Any]] = field(default_factory=dict, compare=False)
    # The hardware binding: driver specs that reach this robot ("franky:HOST"), and the
    # stand-in a `-Real-` env of it runs on without hardware (tests, conformance, rehearsal).
    drivers: tuple[str, ...] = ()
    stand_in: str | None = None

    def __post_init__(self):
        if not Path(self.asset).is_absolute():
            from librobot_gym.errors import ConfigError

            raise ConfigError(f"robot {self.name!r}: asset={self.asset!r} must be an absolute "
                              f"path, e.g. str(Path(__file__).with_name({self.asset!r}))")

    @property
    def asset_path(self) -> Path:
        return Path(self.asset)

    @property
    def folder(self) -> Path:
        """The robot's folder: its MJCF, and its envs' docs (`<task>.md`)."""
        return self.asset_path.parent

    @property
    def joint_names(self) -> tuple[str, ...]:
        return tuple(j.name for j in self.joints)

    @property
    def joint_lower(self) -> np.ndarray:
        return np.array([j.lower for j in self.joints])

    @property
    def joint_upper(self) -> np.ndarray:
        return np.array([j.upper for j in self.joints])

    @property
    def proprio_size(self) -> int:
        return sum(f.size for f in self.proprio)

    def control_mode(self, name: str) -> ControlModeSpec:
        from librobot_gym.errors import ConfigError

        if name not in self.control_modes:
            raise ConfigError(
                f"robot {self.name!r} has no control_mode {name!r}; "
                f"choose one of {sorted(self.control_modes)}"
            )
        return self.control_modes[name]
