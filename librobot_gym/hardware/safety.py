"""The safety layer every real-hardware env shares: one place that clips what a robot is told,
a watchdog that stops it when the loop or the link stalls, and a latch that keeps it stopped.

Clipping (`SafetyLayer.check`, a pure function): non-finite joint targets hold the present
posture; each joint moves at most `max_joint_step` per control period (so at most
`max_joint_velocity`); targets stay inside the joint limits (shrunk by a margin); and, given
forward kinematics, the tool centre point stays inside a workspace box. What was clipped is
returned as a dict of named amounts (the env's `info["safety"]`).

Watchdog: `start()` runs a daemon thread that polls `driver.read_state()` every quarter of a
control period. It stops the robot and latches a `WatchdogTimeout` when the newest state is
older than two periods (the link stalled) or, during an episode (`begin_episode()` ..
`end_episode()`), when no `command()` arrived for two periods (the control loop stalled). State
stamps are compared with `driver.now()` where a driver has one (a twin's clock), else with
`time.monotonic()`. A driver that keeps simulated time (`driver.realtime is False`, the lockstep
twin) cannot move while nobody advances it, so no thread polls it: its readings stay
deterministic, and `command()` still checks the age of the state it reads.

Latch: after any fault (watchdog, driver error, an exception inside `guard()`, `stop()`),
nothing is sent until `rearm()`, which checks that the robot reports a fresh state first.

The watchdog, the latch, `guard()` and `rearm()` live in `SafetyCore`, which every safety layer
shares; what differs is the clipping policy. `SafetyLayer` clips joint targets for arms;
`hardware/machine_safety.py` clips valve commands for hydraulic machines on the same core.
"""

from __future__ import annotations

import contextlib
import math
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from librobot_gym.errors import ConfigError, InvalidActionError
from librobot_gym.hardware.driver import Driver, DriverError, RobotState
from librobot_gym.robots import RobotSpec

STALE_PERIODS = 2.0  # the state may be this many control periods old, a command this late
POLLS_PER_PERIOD = 4  # watchdog readings per control period
BISECTION_STEPS = 8  # workspace shrinking resolution: 1/256 of the step


class SafetyFault(DriverError):
    """The safety layer stopped the robot; nothing is sent until `rearm()`."""


class WatchdogTimeout(SafetyFault):
    """The robot state or the control loop stalled for too long; the robot was stopped."""


@dataclass(frozen=True, eq=False)
class SafetyLimits:
    """What the safety layer lets through. Joint values in rad, velocities in rad/s, the
    workspace box (tool centre point, robot base frame) and the gripper opening in metres."""

    joint_lower: np.ndarray
    joint_upper: np.ndarray
    max_joint_step: np.ndarray  # rad per control period, per joint
    max_joint_velocity: np.ndarray  # rad/s per joint
    workspace_lower: np.ndarray  # (3,)
    workspace_upper: np.ndarray  # (3,)
    max_gripper_opening: float

    def __post_init__(self):
        joints = ("joint_lower", "joint_upper", "max_joint_step", "max_joint_velocity")
        for name in (*joints, "workspace_lower", "workspace_upper"):
            value = np.array(getattr(self, name), dtype=np.float64).reshape(-1)
            value.flags.writeable = False  # frozen means frozen
            object.__setattr__(self, name, value)
        n = self.joint_lower.shape
        if (any(getattr(self, name).shape != n for name in joints)
                or self.workspace_lower.shape != (3,) or self.workspace_upper.shape != (3,)
                or np.any(self.joint_lower > self.joint_upper)
                or np.any(self.workspace_lower > self.workspace_upper)
                or np.any(self.max_joint_step < 0) or np.any(self.max_joint_velocity < 0)
                or not self.max_gripper_opening >= 0):
            raise ConfigError("SafetyLimits: the joint arrays need one shape, the workspace "
                              "bounds 3 values, lower <= upper, and steps, velocities and the "
                              f"gripper opening >= 0; got {self}")

    @classmethod
    def for_robot(cls, robot: RobotSpec, control_dt: float, workspace=None,
                  margin: float = 0.02, velocity_fraction: float = 0.5) -> SafetyLimits:
        """Limits from the robot's published ones: joint limits shrunk by `margin` (rad), a
        velocity cap of `velocity_fraction` of each joint's max velocity, hence a step of at
        most that cap times `control_dt`, and a workspace box for the tool (`robot.workspace`
        unless given)."""
        workspace = workspace or robot.workspace
        if workspace is None:
            raise ConfigError(f"robot {robot.name!r} declares no workspace box; pass "
                              "workspace=((x, y, z), (x, y, z)) in metres, base frame")
        velocity = velocity_fraction * np.array([j.max_velocity for j in robot.joints])
        return cls(joint_lower=robot.joint_lower + margin, joint_upper=robot.joint_upper - margin,
                   max_joint_step=velocity * control_dt, max_joint_velocity=velocity,
                   workspace_lower=np.asarray(workspace[0]),
                   workspace_upper=np.asarray(workspace[1]),
                   max_gripper_opening=robot.gripper.max_opening if robot.gripper else 0.0)


def _excess(position: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> float:
    """How far (m) a point lies outside a box; 0 inside or on it."""
    return float(np.linalg.norm(np.maximum(lower - position, 0) + np.maximum(position - upper, 0)))


class SafetyCore:
    """The watchdog, the fault latch, `guard()` and `rearm()` (module doc), for any driver with
    `read_state()` and `stop()`. Subclasses add a clipping policy and a `command()` that sends
    through `_send()`."""

    def __init__(self, driver, control_dt: float):
        self.driver, self.control_dt = driver, float(control_dt)
        self.timeout = STALE_PERIODS * self.control_dt
        self._driver_clock = getattr(driver, "now", None) or time.monotonic
        self._polls = getattr(driver, "realtime", True) is not False
        self._fault: BaseException | None = None
        self._fault_lock = threading.Lock()  # guards _fault only, never held during driver calls
        self._running = False  # inside an episode: commands are due every period
        self._last_command = time.monotonic()
        self._halt = threading.Event()
        self._thread: threading.Thread | None = None
        self._closed = False

    def _forget_last_command(self) -> None:
        """Hook: drop what the clipping remembers of the last command (a new episode, a rearm)."""

    def _send(self, send: Callable[[RobotState], dict[str, float]]) -> dict[str, float]:
        """Run `send(fresh state) -> violations` under the latch: raises the latched fault (a
        `SafetyFault`) if there is one; any exception on the way stops the robot and latches."""
        self._raise_if_faulted()
        try:
            violations = send(self._read_fresh_state())
            self._last_command = time.monotonic()
        except BaseException as error:
            self._trip(error)
            raise
        if self._fault is not None:  # the watchdog fired while we were sending
            self.driver.stop()
            self._raise_if_faulted()
        return violations

    def _read_fresh_state(self) -> RobotState:
        state = self.driver.read_state()
        age = self._driver_clock() - state.stamp
        if age > self.timeout:
            raise WatchdogTimeout(
                f"the newest robot state is {age:.3f} s old (limit {self.timeout:.3f} s): the "
                "link to the robot stalled and the robot was stopped; check the connection, "
                "then call rearm()")
        return state

    def _raise_if_faulted(self) -> None:
        fault = self._fault
        if fault is None:
            return
        if isinstance(fault, SafetyFault):
            raise fault.with_traceback(None)  # the same fault each time, not a growing trace
        raise SafetyFault(f"the robot was stopped after {fault!r}; nothing is sent until "
                          "rearm() (call it after checking the robot)") from fault

    def _trip(self, error: BaseException) -> None:
        """Latch `error` (the first fault wins) and stop the robot."""
        with self._fault_lock:
            if self._fault is None:
                self._fault = error
        self.driver.stop()

    # --- episodes, watchdog, latch ----------------------------------------------------------
    def begin_episode(self) -> None:
        """Commands are due every control period from now on (the watchdog checks)."""
        self._last_command = time.monotonic()
        self._forget_last_command()
        self._running = True

    def end_episode(self) -> None:
        """No more commands are due (homing, the operator resetting the scene)."""
        self._running = False

    def start(self) -> None:
        """Start the watchdog thread (idempotent; none for a lockstep driver, see module doc)."""
        if self._closed:
            raise SafetyFault("this safety layer was closed; make a new SafetyLayer")
        if self._polls and (self._thread is None or not self._thread.is_alive()):
            self._halt.clear()
            self._thread = threading.Thread(target=self._watch, name="safety-watchdog",
                                            daemon=True)
            self._thread.start()

    @property
    def watching(self) -> bool:
        """True while the watchdog thread runs."""
        return self._thread is not None and self._thread.is_alive()

    def _watch(self) -> None:
        while not self._halt.wait(self.control_dt / POLLS_PER_PERIOD):
            if self._fault is not None:
                continue  # already stopped and latched
            try:
                self._read_fresh_state()
                late = time.monotonic() - self._last_command
                if self._running and late > self.timeout:
                    raise WatchdogTimeout(
                        f"no command for {late:.3f} s (limit {self.timeout:.3f} s) during an "
                        "episode: the control loop stalled and the robot was stopped; check "
                        "the policy and the loop, then call rearm()")
            except BaseException as error:  # a stale state, a late loop or a driver error
                self._trip(error)

    def stop(self) -> None:
        """Stop the robot now and latch, so nothing moves it until `rearm()` (idempotent)."""
        self._trip(SafetyFault("stop() was called; call rearm() to command the robot again"))

    def rearm(self) -> None:
        """Clear the latched fault once the driver reads without error and the state is fresh;
        otherwise raise (`DriverError` from the driver, `WatchdogTimeout`) and stay latched."""
        if self._closed:
            raise SafetyFault("this safety layer was closed; make a new SafetyLayer")
        self._read_fresh_state()
        with self._fault_lock:
            self._last_command = time.monotonic()
            self._forget_last_command()
            self._fault = None

    @property
    def fault(self) -> BaseException | None:
        """The latched fault, or None when armed."""
        return self._fault

    @property
    def faulted(self) -> bool:
        return self._fault is not None

    @contextlib.contextmanager
    def guard(self) -> Iterator[SafetyCore]:
        """Any exception inside (KeyboardInterrupt included) stops the robot, latches, re-raises."""
        try:
            yield self
        except BaseException as error:
            self._trip(error)
            raise

    def close(self) -> None:
        """Stop the watchdog thread, then the robot; the layer stays latched for good."""
        self._closed = True
        self._halt.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=1.0)
        self._trip(SafetyFault("the safety layer was closed; make a new one"))

    def __enter__(self) -> SafetyCore:
        self.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


class SafetyLayer(SafetyCore):
    """Clips and sends joint commands to an arm's `driver`, watches it, and latches faults."""

    def __init__(self, driver: Driver, limits: SafetyLimits, control_dt: float,
                 forward_kinematics: Callable[[np.ndarray], np.ndarray] | None = None):
        super().__init__(driver, control_dt)
        self.limits = limits
        self.forward_kinematics = forward_kinematics
        self._last_opening: float | None = None

    def _forget_last_command(self) -> None:
        self._last_opening = None

    # --- clipping ---------------------------------------------------------------------------
    def check(self, joint_targets, gripper_opening, current_joint_pos,
              hold_opening: float = 0.0) -> tuple[np.ndarray, float, dict[str, float]]:
        """(safe targets, safe opening, violations) for a command from `current_joint_pos`.
        Pure: the same inputs give the same outputs. `hold_opening` replaces a non-finite
        opening (`command()` passes the last opening it sent, else the measured one)."""
        lim = self.limits
        current = np.asarray(current_joint_pos, dtype=np.float64).reshape(-1)
        targets = np.array(joint_targets, dtype=np.float64).reshape(-1)
        if targets.shape != current.shape or current.shape != lim.joint_lower.shape:
            raise InvalidActionError(f"joint targets {targets.shape} and current posture "
                                     f"{current.shape} must both have the limits' shape "
                                     f"{lim.joint_lower.shape}")
        if not np.all(np.isfinite(current)):
            raise SafetyFault(f"the robot reported joint positions {current}; a driver must "
                              "report finite ones (check the driver, then call rearm())")
        violations: dict[str, float] = {}
        bad = ~np.isfinite(targets)
        if bad.any():  # hold those joints where they are
            targets[bad] = current[bad]
            violations["nonfinite"] = float(bad.sum())
        step = np.minimum(lim.max_joint_step, lim.max_joint_velocity * self.control_dt)
        stepped = np.clip(targets, current - step, current + step)
        # The joint limits inside the step window; a posture more than a step outside the
        # limits moves one step towards them rather than jumping back.
        low = np.clip(lim.joint_lower, current - step, current + step)
        high = np.clip(lim.joint_upper, current - step, current + step)
        safe = np.clip(stepped, low, high)
        for key, amount in (("joint_step", np.abs(targets - stepped).max()),
                            ("joint_limit", np.abs(stepped - safe).max())):
            if amount > 0:
                violations[key] = float(amount)
        if self.forward_kinematics is not None:
            safe = self._keep_in_workspace(np.clip(current, low, high), safe, low, high,
                                           violations)

        opening = float(np.asarray(gripper_opening, dtype=np.float64).reshape(()))
        if not math.isfinite(opening):
            violations["nonfinite"] = violations.get("nonfinite", 0.0) + 1.0
            opening = float(hold_opening) if math.isfinite(hold_opening) else 0.0
        clipped = min(max(opening, 0.0), lim.max_gripper_opening)
        if clipped != opening:
            violations["gripper"] = abs(opening - clipped)
        return safe, clipped, violations

    def _keep_in_workspace(self, anchor: np.ndarray, target: np.ndarray, low: np.ndarray,
                           high: np.ndarray, violations: dict[str, float]) -> np.ndarray:
        """Shrink the move anchor -> target until the tool is inside the workspace box, or at
        least no further outside than at the anchor (the present posture, within the joint
        limits): a robot outside the box may only move back in. Reports the fraction removed."""
        lower, upper = self.limits.workspace_lower, self.limits.workspace_upper
        allowed = _excess(self.forward_kinematics(anchor), lower, upper)

        def blend(fraction: float) -> np.ndarray:  # clipped: rounding must not leave [low, high]
            return np.clip(anchor + fraction * (target - anchor), low, high)

        def ok(fraction: float) -> bool:
            return _excess(self.forward_kinematics(blend(fraction)), lower, upper) <= allowed

        if ok(1.0):
            return blend(1.0)
        good, bad = 0.0, 1.0  # bisection; `good` only ever holds a checked fraction
        for _ in range(BISECTION_STEPS):
            middle = (good + bad) / 2
            good, bad = (middle, bad) if ok(middle) else (good, middle)
        violations["workspace"] = 1.0 - good
        return blend(good)

    # --- commanding -------------------------------------------------------------------------
    def command(self, joint_targets, gripper_opening) -> dict[str, float]:
        """Clip and send one command; returns the violations. Raises the latched fault (a
        `SafetyFault`) if there is one; any exception on the way stops the robot and latches."""
        def send(state: RobotState) -> dict[str, float]:
            hold = state.gripper_opening if self._last_opening is None else self._last_opening
            targets, opening, violations = self.check(joint_targets, gripper_opening,
                                                      state.joint_pos, hold)
            self.driver.command(targets, opening)
            self._last_opening = opening
            return violations

        return self._send(send)
