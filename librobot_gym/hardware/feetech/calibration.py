"""Per-robot calibration of a Feetech servo arm: which servo drives which joint, the servo
reading at the joint's zero, the direction, and the range of ticks the joint may be sent to.

A joint angle (rad) and a servo reading (ticks, 0..4095 per turn) are related by

    angle = direction * (ticks - offset) * 2 pi / 4096

The servo only takes goals inside 0..4095 and moves to them the long way if it must, so a
joint's range in ticks (`min_ticks`..`max_ticks`, from the robot's joint limits) has to lie
inside 0..4095: `JointCalibration` refuses one that crosses the 0/4095 boundary. The procedure
(`record_calibration`) avoids that by re-centring each servo at the zero pose (torque enable
128, Feetech's "current position := 2048", kept in the servo's homing-offset register), so
every offset is 2048 and any range narrower than +-pi fits.

Files are JSON, one per physical robot (`robot_id`), by default
`~/.cache/librobot/calibration/<robot_id>.json` ($LIBROBOT_CALIBRATION_DIR overrides the
directory), versioned (`CALIBRATION_VERSION`); loading validates every field and names the
fix for what is wrong.
"""

from __future__ import annotations

import json
import math
import os
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from librobot_gym.errors import ConfigError
from librobot_gym.hardware.feetech import protocol as p
from librobot_gym.hardware.feetech.protocol import STS3215

CALIBRATION_VERSION = 1
RAD_PER_TICK = 2 * math.pi / p.TICKS_PER_TURN
MIN_HAND_MOVE = 40  # ticks (3.5 deg): a smaller move does not tell the direction reliably
ROBOT_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


def calibration_dir() -> Path:
    return Path(os.environ.get("LIBROBOT_CALIBRATION_DIR")
                or Path.home() / ".cache" / "librobot" / "calibration")


def calibration_path(robot_id: str) -> Path:
    """Where the calibration of robot `robot_id` lives by default."""
    if not ROBOT_ID.match(robot_id):
        raise ConfigError(f"robot id {robot_id!r} must be 1-64 letters, digits, '_', '-', '.'")
    return calibration_dir() / f"{robot_id}.json"


@dataclass(frozen=True)
class JointCalibration:
    """One joint: its servo id, ticks at the joint's zero, direction +1/-1, ticks range."""

    name: str
    servo_id: int
    offset: int
    direction: int
    min_ticks: int
    max_ticks: int

    def __post_init__(self):
        where = f"calibration of joint {self.name!r}"
        for key in ("servo_id", "offset", "direction", "min_ticks", "max_ticks"):
            if not isinstance(getattr(self, key), int) or isinstance(getattr(self, key), bool):
                raise ConfigError(f"{where}: {key} must be an integer, got "
                                  f"{getattr(self, key)!r}")
        if not 0 <= self.servo_id <= p.MAX_ID:
            raise ConfigError(f"{where}: servo id {self.servo_id} is outside 0..{p.MAX_ID}")
        if self.direction not in (1, -1):
            raise ConfigError(f"{where}: direction must be 1 or -1, got {self.direction}")
        if not 0 <= self.offset < p.TICKS_PER_TURN:
            raise ConfigError(f"{where}: offset {self.offset} is outside 0..4095 ticks")
        if not 0 <= self.min_ticks < self.max_ticks < p.TICKS_PER_TURN:
            raise ConfigError(
                f"{where}: range {self.min_ticks}..{self.max_ticks} ticks must satisfy "
                "0 <= min < max <= 4095; the joint's range crosses the servo's 0/4095 turn "
                "boundary, so the servo would swing the long way round. Recalibrate with "
                "re-centring (the default of `librobot calibrate`), which puts the zero at 2048")

    @classmethod
    def from_limits(cls, name: str, servo_id: int, offset: int, direction: int,
                    lower: float, upper: float) -> JointCalibration:
        """The calibration whose tick range covers the joint limits `lower`..`upper` rad."""
        ends = [offset + direction * limit / RAD_PER_TICK for limit in (lower, upper)]
        return cls(name, int(servo_id), int(offset), int(direction),
                   math.floor(min(ends)), math.ceil(max(ends)))

    def to_rad(self, ticks) -> np.ndarray | float:
        """Joint angle (rad) for a servo reading, the nearest turn to the zero."""
        delta = (np.asarray(ticks) - self.offset + 2048) % p.TICKS_PER_TURN - 2048
        return self.direction * delta * RAD_PER_TICK

    def to_ticks(self, angle: float) -> int:
        """The goal (ticks) for a joint angle, clipped to the joint's range."""
        ticks = round(self.offset + self.direction * float(angle) / RAD_PER_TICK)
        return int(min(max(ticks, self.min_ticks), self.max_ticks))


@dataclass(frozen=True)
class Calibration:
    """All joints of one physical robot, in the driver's order (arm joints, then the jaw)."""

    robot: str  # the RobotSpec name ("so100")
    robot_id: str  # this physical robot ("so100-lab-left")
    joints: tuple[JointCalibration, ...]
    version: int = CALIBRATION_VERSION

    def __post_init__(self):
        if self.version != CALIBRATION_VERSION:
            raise ConfigError(f"calibration of {self.robot_id!r} has version {self.version}; "
                              f"this librobot reads version {CALIBRATION_VERSION}: recalibrate")
        names = [j.name for j in self.joints]
        ids = [j.servo_id for j in self.joints]
        for kind, values in (("joint", names), ("servo id", ids)):
            repeated = sorted({v for v in values if values.count(v) > 1})
            if repeated:
                raise ConfigError(f"calibration of {self.robot_id!r} repeats {kind}(s) "
                                  f"{repeated}; every joint needs its own servo")

    @property
    def names(self) -> list[str]:
        return [j.name for j in self.joints]

    @property
    def servo_ids(self) -> list[int]:
        return [j.servo_id for j in self.joints]

    def check_joints(self, expected: Sequence[str]) -> None:
        """Raise unless the calibration covers exactly `expected` joints in that order."""
        if self.names != list(expected):
            raise ConfigError(f"calibration of {self.robot_id!r} is for joints {self.names}, "
                              f"the robot has {list(expected)}: recalibrate this robot")

    # --- files ---------------------------------------------------------------------------------
    def to_json(self) -> str:
        return json.dumps({"version": self.version, "robot": self.robot,
                           "robot_id": self.robot_id,
                           "joints": [asdict(j) for j in self.joints]}, indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str, source: str = "<string>") -> Calibration:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise ConfigError(f"calibration file {source} is not JSON ({error}); "
                              "recalibrate or restore it") from error
        if not isinstance(data, dict) or not isinstance(data.get("joints"), list):
            raise ConfigError(f"calibration file {source} needs an object with a 'joints' list")
        fields = {"name", "servo_id", "offset", "direction", "min_ticks", "max_ticks"}
        joints = []
        for i, joint in enumerate(data["joints"]):
            if not isinstance(joint, dict) or set(joint) != fields:
                raise ConfigError(f"calibration file {source}: joint {i} must have exactly "
                                  f"the fields {sorted(fields)}, got {joint!r}")
            joints.append(JointCalibration(**joint))
        for key in ("robot", "robot_id"):
            if not isinstance(data.get(key), str):
                raise ConfigError(f"calibration file {source}: {key!r} must be a string")
        return cls(data["robot"], data["robot_id"], tuple(joints),
                   version=data.get("version", -1))

    def save(self, path: str | Path | None = None) -> Path:
        """Write the file (atomically: a crash leaves the old calibration intact)."""
        path = Path(path) if path is not None else calibration_path(self.robot_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        scratch = path.with_name(path.name + ".tmp")
        scratch.write_text(self.to_json())
        scratch.replace(path)
        return path

    @classmethod
    def load(cls, path: str | Path) -> Calibration:
        path = Path(path)
        if not path.is_file():
            raise ConfigError(f"no calibration at {path}; run `librobot calibrate so100 "
                              "--port PORT --robot-id ID` with the arm at its zero pose")
        return cls.from_json(path.read_text(), str(path))


def record_calibration(bus, robot: str, robot_id: str, joints: Sequence[str],
                       servo_ids: Sequence[int], limits: Mapping[str, tuple[float, float]],
                       ask: Callable[[str], str] = input,
                       say: Callable[[str], None] = lambda text: print(text, file=sys.stderr),
                       directions: Mapping[str, int] | None = None,
                       recentre: bool = True) -> Calibration:
    """Calibrate from the arm itself, with a person at it (`ask` / `say`, as the operator
    console's): torque off; the person poses the arm at its zero pose (module doc of the
    robot) and confirms; each servo is re-centred there (`recentre`) or its reading kept as
    the offset; then, for each joint whose direction is not given, the person moves that joint
    a little in its positive direction and the sign of the change gives the direction.
    `bus` is an open `FeetechBus`; `limits` are each joint's range in rad."""
    ids = [int(i) for i in servo_ids]
    if len(ids) != len(joints):
        raise ConfigError(f"{len(joints)} joints {list(joints)} but {len(ids)} servo ids {ids}")
    for servo_id in ids:
        bus.ping(servo_id)  # raises ReplyTimeout naming a missing servo
        bus.write(servo_id, STS3215.TORQUE_ENABLE, 0)
    say(f"Calibrating {robot_id!r}: torque is off, the arm is limp. Hold it.")
    ask("Pose the arm at its zero pose (every joint in the middle of its range), "
        "then press Enter ")
    offsets = {}
    for name, servo_id in zip(joints, ids, strict=True):
        if recentre:  # present := 2048, kept in EEPROM (unlock, write, lock)
            bus.write(servo_id, STS3215.LOCK, 0)
            bus.write(servo_id, STS3215.TORQUE_ENABLE, 128)
            bus.write(servo_id, STS3215.LOCK, 1)
        offsets[name] = bus.read(servo_id, STS3215.PRESENT_POSITION)[0]
    signs = dict(directions or {})
    for name, servo_id in zip(joints, ids, strict=True):
        while name not in signs:
            ask(f"Move {name!r} a little (10-30 deg) in its positive direction, then press "
                "Enter ")
            ticks = bus.read(servo_id, STS3215.PRESENT_POSITION)[0]
            delta = (ticks - offsets[name] + 2048) % p.TICKS_PER_TURN - 2048
            if abs(delta) >= MIN_HAND_MOVE:
                signs[name] = 1 if delta > 0 else -1
            else:
                say(f"  {name!r} moved {abs(delta)} ticks; move it further (>= "
                    f"{MIN_HAND_MOVE} ticks, 3.5 deg)")
        say(f"  {name}: servo {servo_id}, zero at {offsets[name]} ticks, direction "
            f"{signs[name]:+d}")
    return Calibration(robot, robot_id, tuple(
        JointCalibration.from_limits(name, servo_id, offsets[name], signs[name],
                                     *limits[name])
        for name, servo_id in zip(joints, ids, strict=True)))
