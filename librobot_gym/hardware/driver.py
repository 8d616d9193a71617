"""What the real backend asks of a robot driver, and the errors drivers raise.

A driver is the thin layer between `RobotEnv(backend="real")` and one robot family's protocol
(franky/libfranka for the Franka, the bridge's wire format, the PyBullet twin). It speaks joint
space only: the backend turns end-effector deltas into joint targets with its own kinematics
model, so every driver gets the same checked command and the safety layer
(`hardware/safety.py`) clips it in one place.

Units: rad, rad/s, metres, seconds. Times are `time.monotonic()` on the driver's machine.
"""

from __future__ import annotations

import urllib.parse
from abc import ABC, abstractmethod
from dataclasses import dataclass, field

import numpy as np

from librobot_gym.errors import InvalidActionError, LibrobotError
from librobot_gym.scene import canonical_quat


class DriverError(LibrobotError, RuntimeError):
    """The robot or its link failed; the robot has been asked to stop."""


class DriverDisconnected(DriverError):
    """The link to the robot (or to the bridge) is gone; reconnect with `connect()`."""


class RobotFault(DriverError):
    """The robot itself reported an error (a reflex, a limit violation) and stopped."""


class LimitViolation(DriverError, InvalidActionError):
    """A target outside the robot's limits (joint range, gripper range, workspace, valve
    range): refused, nothing was sent. Send it through the safety layer, which clips."""


LIMIT_TOLERANCE = 1e-6  # rad or m a target may stray past a limit (rounding)


def check_joint_targets(robot, joint_targets, gripper_opening: float,
                        who: str) -> tuple[np.ndarray, float]:
    """(targets as float64 [n], opening) when they are finite, one per joint of `robot`,
    inside its joint limits and its gripper's range; else `LimitViolation` saying which. What
    every arm driver checks itself before it moves anything."""
    targets = np.array(joint_targets, dtype=np.float64).reshape(-1)
    count = len(robot.joints)
    opening = float(gripper_opening)
    if targets.shape != (count,) or not np.all(np.isfinite(targets)) \
            or not np.isfinite(opening):
        raise LimitViolation(f"{who} takes {count} finite joint targets and a finite gripper "
                             f"opening; got {np.round(targets, 4).tolist()} and {opening}")
    lower, upper = robot.joint_lower, robot.joint_upper
    outside = (targets < lower - LIMIT_TOLERANCE) | (targets > upper + LIMIT_TOLERANCE)
    if outside.any():
        names = [j.name for j, bad in zip(robot.joints, outside, strict=True) if bad]
        raise LimitViolation(
            f"{who} refused joint targets outside {robot.name}'s limits: "
            + ", ".join(f"{n} {t:.4g} not in [{lo:.4g}, {hi:.4g}]" for n, t, lo, hi in
                        zip(names, targets[outside], lower[outside], upper[outside],
                            strict=True)))
    widest = robot.gripper.max_opening if robot.gripper is not None else 0.0
    if not -LIMIT_TOLERANCE <= opening <= widest + LIMIT_TOLERANCE:
        raise LimitViolation(f"{who} refused a gripper opening of {opening:.4g} m; "
                             f"{robot.name}'s gripper opens 0 to {widest:.4g} m")
    return targets, opening


QUAT_TOLERANCE = 1e-3  # how far from 1 a quaternion's norm may be (it is then normalised)


def checked_pose(name: str, pos, quat) -> tuple[np.ndarray, np.ndarray]:
    """An object's (position [3], unit quaternion wxyz [4]) as float64, the quaternion
    normalised; `LimitViolation` unless both are finite and the quaternion's norm is 1."""
    pos = np.array(pos, dtype=np.float64).reshape(-1)
    quat = np.array(quat, dtype=np.float64).reshape(-1)
    if pos.shape != (3,) or quat.shape != (4,) or not (np.all(np.isfinite(pos))
                                                      and np.all(np.isfinite(quat))):
        raise LimitViolation(f"the pose of {name!r} needs a finite position [3] and "
                             f"quaternion [4]; got {pos.tolist()} and {quat.tolist()}")
    norm = float(np.linalg.norm(quat))
    if abs(norm - 1.0) > QUAT_TOLERANCE:
        raise LimitViolation(f"the quaternion of {name!r} must have norm 1 (wxyz); got "
                             f"{quat.tolist()} with norm {norm:.4g}")
    return pos, quat / norm


def checked_colour(name: str, rgba) -> tuple[float, ...]:
    """An object's colour as four floats in [0, 1] (RGBA); `LimitViolation` otherwise."""
    values = np.array(rgba, dtype=np.float64).reshape(-1)
    if values.shape != (4,) or not np.all((values >= 0.0) & (values <= 1.0)):
        raise LimitViolation(f"the colour of {name!r} must be four values in [0, 1] (RGBA); "
                             f"got {values.tolist()}")
    return tuple(float(v) for v in values)


@dataclass
class RobotState:
    """One reading of the robot: arm joints, their velocities, the gripper opening."""

    joint_pos: np.ndarray  # [n] rad
    joint_vel: np.ndarray  # [n] rad/s
    gripper_opening: float  # m between the fingers
    stamp: float  # time.monotonic() when it was measured
    extras: dict = field(default_factory=dict)


@dataclass
class SceneReport:
    """What an instrumented cell (the twin, a lab with a motion-capture rig) can say about the
    scene: object poses in the robot base frame and its own success verdict. A real cell without
    sensors reports nothing and the operator console labels the episode instead."""

    object_pos: dict[str, np.ndarray] = field(default_factory=dict)
    object_quat: dict[str, np.ndarray] = field(default_factory=dict)
    grasped: dict[str, bool] = field(default_factory=dict)

    @classmethod
    def at_rest(cls, poses: dict[str, tuple[np.ndarray, np.ndarray]], **extra):
        """The objects where `poses` (name -> (position, quaternion)) put them, none grasped:
        what a stand-in cell that places the task's objects and never moves them reports."""
        return cls(object_pos={n: np.array(p[0], dtype=np.float64) for n, p in poses.items()},
                   object_quat={n: canonical_quat(p[1]) for n, p in poses.items()},
                   grasped=dict.fromkeys(poses, False), **extra)


@dataclass(frozen=True)
class StandIn:
    """What a driver that stands in for a robot (an emulator, a twin, a simulator) simulates
    besides the robot, declared so that the env refuses what the stand-in cannot do with a
    one-line error instead of scoring what nobody measured. A real robot's driver declares
    none (`Driver.stand_in` is None): what its cell reports (`scene()`) counts as measured.

    `spec` is how users name it ("feetech:emulator"); `simulates` says, for messages, what
    its world holds ("only the arm's servos: no table, no cup"); `objects` is True when the
    task's objects are simulated as they move, so the task's success test, its reward, state
    observations and the scripted expert mean something there."""

    spec: str
    simulates: str
    objects: bool

    def as_wire(self) -> dict:
        """The declaration as plain values (what a bridge server sends in its info)."""
        return {"spec": self.spec, "simulates": self.simulates, "objects": self.objects}

    @classmethod
    def from_wire(cls, value) -> StandIn | None:
        """A declaration from `as_wire`'s values; None for anything else (an older server)."""
        if not isinstance(value, dict):
            return None
        spec, simulates, objects = (value.get(k) for k in ("spec", "simulates", "objects"))
        if not (isinstance(spec, str) and isinstance(simulates, str)
                and isinstance(objects, bool)):
            return None
        return cls(spec, simulates, objects)


class Driver(ABC):
    """One robot behind its protocol. Every method may raise `DriverError`; `stop` never does."""

    name: str = "driver"
    stand_in: StandIn | None = None  # a real robot; stand-ins say what they simulate

    @abstractmethod
    def connect(self) -> None:
        """Open the link (idempotent); raises `DriverDisconnected` when the robot is unreachable."""

    @abstractmethod
    def read_state(self) -> RobotState:
        """The latest state. Must not block for longer than one control period."""

    @abstractmethod
    def command(self, joint_targets: np.ndarray, gripper_opening: float) -> None:
        """Track these joint positions (rad) and gripper opening (m) from now on. Already
        checked by the safety layer; a driver sends it as it is."""

    @abstractmethod
    def move_to(self, joint_pos: np.ndarray, gripper_opening: float, timeout: float) -> None:
        """Blocking move to a posture (homing between episodes), at a slow, safe speed."""

    @abstractmethod
    def stop(self) -> None:
        """Stop moving now and hold. Safe from any thread, at any time, more than once."""

    @abstractmethod
    def close(self) -> None:
        """Stop, then release the link."""

    def start_episode(self, seed: int | None) -> None:
        """A new episode begins (`env.reset(seed=...)`; called after `connect`, before
        `reset_scene` and the homing move). A stand-in that simulates the robot in lockstep
        restarts its simulated world here (posture, clock, queues) and, given a seed, its
        noise, so that the same seed and actions replay the same episode; a real robot has
        nothing to do (the default)."""
        return None

    # --- optional: cells that can set up or observe the scene themselves ---------------------
    def reset_scene(self, poses: dict[str, tuple[np.ndarray, np.ndarray]],
                    colours: dict[str, tuple[float, ...]]) -> bool:
        """Place the task's objects; False (the default) means a person has to do it."""
        return False

    def scene(self) -> SceneReport | None:
        """Object poses and grasps if the cell can measure them, else None."""
        return None

    def camera_frames(self, size: tuple[int, int]) -> dict[str, np.ndarray] | None:
        """Frames [H, W, 3] uint8 per camera if the driver has its own cameras (the twin)."""
        return None


def spec_options(kind: str, rest: str, example: str) -> tuple[str, dict[str, str]]:
    """The address and the `?key=value&...` options of the part of a driver spec after
    "KIND:": "emulator?scene=none" -> ("emulator", {"scene": "none"}); malformed options raise
    a ConfigError showing `example`."""
    from librobot_gym.errors import ConfigError

    where, _, query = rest.partition("?")
    try:
        return where, (dict(urllib.parse.parse_qsl(query, strict_parsing=True)) if query else {})
    except ValueError as error:
        raise ConfigError(f"driver '{kind}:{rest}': bad options {query!r} ({error}); write "
                          f"{example}") from error


def scheme_options(kind: str, rest: str, example: str, types: dict, robot, robot_name: str,
                   robot_label: str, options: dict, missing: str = "no address"
                   ) -> tuple[str, dict]:
    """`spec_options` for a scheme that drives one robot and takes typed `?key=value`
    options: the address and `options` with the spec's options converted by `types` (keyword
    options given in code win). ConfigError when an option is unknown or not of its type, the
    address is empty (`missing` says what it lacks) or `robot` is not `robot_name`."""
    from librobot_gym.errors import ConfigError

    where, params = spec_options(kind, rest, example)
    unknown = sorted(set(params) - set(types))
    if unknown or not where:
        raise ConfigError(f"driver '{kind}:{rest}': expected {example} with options "
                          f"{sorted(types)}; got {unknown or missing}")
    if robot.name != robot_name:
        raise ConfigError(f"driver '{kind}:{rest}' drives the {robot_label}; {robot.name!r} is "
                          f"not one (its drivers: {', '.join(robot.drivers) or 'none'})")
    options = dict(options)
    for key, convert in types.items():
        if key in params:
            try:
                options.setdefault(key, convert(params[key]))
            except ValueError:
                raise ConfigError(f"driver '{kind}:{rest}': {key} takes a number") from None
    return where, options


def lockstep_advance(driver: Driver, dt: float) -> bool:
    """Let a simulated robot that runs in lockstep (a twin) advance `dt`; True if it did. Real
    robots keep their own time: the backend then waits out the control period on the clock."""
    advance = getattr(driver, "advance", None)
    if advance is None:
        return False
    return bool(advance(dt))
