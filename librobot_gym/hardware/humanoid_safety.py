"""The safety layer for humanoids: what an arm's layer clips (`safety.py`), plus the torque
each PD target asks for and a fall check, on the shared watchdog and latch (`SafetyCore`).

Clipping (`HumanoidSafetyLayer.check`, pure): non-finite targets hold the joint where it is;
each joint moves at most `velocity_fraction` of its velocity limit per control period; targets
stay inside the joint limits (the MJCF's, shrunk by a margin); and the PD law's stiffness term
stays inside each motor's torque limit: |kp (q* - q)| <= effort, i.e. q* within
q +- effort / kp, so no target asks a motor for more than it has (the MJCF's forcerange).

Falls: the trunk's tilt from the IMU quaternion (`extras["imu_quat"]`, wxyz) beyond
`max_tilt` raises `FallDetected` and the robot is stopped, which on a humanoid is its damping
mode (the driver's `stop`), never a freeze; the latch then holds until `rearm()`, which the
env calls at the next reset (after the operator has the robot back on its feet in the harness).
"""

from __future__ import annotations

import math

import numpy as np

from librobot_gym.errors import InvalidActionError
from librobot_gym.hardware.driver import RobotState
from librobot_gym.hardware.safety import SafetyCore, SafetyFault
from librobot_gym.robots import RobotSpec

MAX_TILT = 0.6  # rad (34 deg): the trunk tilted further is falling


class FallDetected(SafetyFault):
    """The trunk tilted past the fall limit: the robot was put in damping mode (its safe
    stop); lift it back on its feet in the harness, then reset."""


def tilt_of(quat) -> float:
    """The angle (rad) between a body's z axis and the vertical, from its quaternion wxyz."""
    w, x, y, z = (float(v) for v in quat)
    norm = w * w + x * x + y * y + z * z or 1.0
    up_z = 1.0 - 2.0 * (x * x + y * y) / norm
    return math.acos(min(max(up_z, -1.0), 1.0))


class HumanoidSafetyLayer(SafetyCore):
    """Clips and sends a humanoid's joint targets (module doc). `kp`, `effort`: per joint of
    `robot.joints` (N m/rad, N m), the gains its motors run and their torque limits."""

    def __init__(self, driver, robot: RobotSpec, control_dt: float, kp, effort,
                 margin: float = 0.02, velocity_fraction: float = 0.5,
                 max_tilt: float = MAX_TILT):
        super().__init__(driver, control_dt)
        self.lower = robot.joint_lower + margin
        self.upper = robot.joint_upper - margin
        self.max_step = velocity_fraction * np.array([j.max_velocity for j in robot.joints]) \
            * self.control_dt
        self.kp, self.effort = np.asarray(kp, dtype=np.float64), np.asarray(effort, float)
        self.max_tilt = float(max_tilt)

    def check(self, joint_targets, state: RobotState) -> tuple[np.ndarray, dict[str, float]]:
        """(safe targets, violations) for a command from the measured `state`; raises
        `FallDetected` when the trunk tilts past the limit."""
        tilt = tilt_of(state.extras.get("imu_quat", (1.0, 0.0, 0.0, 0.0)))
        if tilt > self.max_tilt:
            raise FallDetected(f"the trunk tilts {tilt:.2f} rad (limit {self.max_tilt} rad): "
                               "the robot is falling and was put in damping mode; stand it up "
                               "in its harness, then reset")
        current = np.asarray(state.joint_pos, dtype=np.float64)
        targets = np.array(joint_targets, dtype=np.float64).reshape(-1)
        if targets.shape != current.shape:
            raise InvalidActionError(f"{current.size} joint targets expected, got "
                                     f"{targets.shape}")
        violations: dict[str, float] = {}
        bad = ~np.isfinite(targets)
        if bad.any():
            targets[bad] = current[bad]
            violations["nonfinite"] = float(bad.sum())
        stepped = np.clip(targets, current - self.max_step, current + self.max_step)
        low = np.clip(self.lower, current - self.max_step, current + self.max_step)
        high = np.clip(self.upper, current - self.max_step, current + self.max_step)
        limited = np.clip(stepped, low, high)
        reach = np.where(self.kp > 0, self.effort / np.maximum(self.kp, 1e-9), np.inf)
        safe = np.clip(limited, current - reach, current + reach)
        for key, amount in (("joint_step", np.abs(targets - stepped).max()),
                            ("joint_limit", np.abs(stepped - limited).max()),
                            ("torque", np.abs(limited - safe).max())):
            if amount > 0:
                violations[key] = float(amount)
        return safe, violations

    def command(self, joint_targets) -> dict[str, float]:
        """Clip and send one command; returns the violations (latched faults raise)."""
        def send(state: RobotState) -> dict[str, float]:
            safe, violations = self.check(joint_targets, state)
            self.driver.command(safe, 0.0)
            return violations

        return self._send(send)

    def _fall(self, state: RobotState) -> FallDetected | None:
        tilt = tilt_of(state.extras.get("imu_quat", (1.0, 0.0, 0.0, 0.0)))
        if tilt <= self.max_tilt:
            return None
        return FallDetected(f"the trunk tilts {tilt:.2f} rad (limit {self.max_tilt} rad): the "
                            "robot is falling and was put in damping mode; stand it up in its "
                            "harness, then reset")

    def watch_fall(self, state: RobotState) -> None:
        """Between commands: a trunk past the tilt limit stops the robot now and latches
        `FallDetected` (the walking backend calls it on every state it reads, so a fall that
        ends the episode leaves the robot damped, not walking)."""
        fall = self._fall(state)
        if fall is not None and self.fault is None:
            self._trip(fall)

    def walk(self, velocity, bounds, duration: float) -> dict[str, float]:
        """`base_velocity` on a robot whose own walking controller runs (the H1's loco
        service): the fall check on the fresh state, then (vx, vy, yaw rate) clipped into
        `bounds` ((vx lo, vx hi), vy max, yaw rate max: the robot's `WalkLayout`; non-finite
        values become 0) and sent with the driver's `walk`. A fall stops the robot (the
        driver's stop: loco Damp) and latches, as for joint targets."""
        def send(state: RobotState) -> dict[str, float]:
            fall = self._fall(state)
            if fall is not None:
                raise fall
            asked = np.array(velocity, dtype=np.float64).reshape(-1)
            if asked.shape != (3,):
                raise InvalidActionError(f"a walking command is (vx, vy, yaw rate); got "
                                         f"{asked.shape}")
            violations: dict[str, float] = {}
            bad = ~np.isfinite(asked)
            if bad.any():
                asked[bad] = 0.0
                violations["nonfinite"] = float(bad.sum())
            (lo, hi), vy_max, yaw_max = bounds
            safe = np.clip(asked, (lo, -vy_max, -yaw_max), (hi, vy_max, yaw_max))
            if np.abs(safe - asked).max() > 0:
                violations["velocity"] = float(np.abs(safe - asked).max())
            self.driver.walk(*(float(v) for v in safe), duration)
            return violations

        return self._send(send)
