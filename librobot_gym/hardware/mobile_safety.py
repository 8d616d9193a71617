"""The safety layer of mobile robots: speed and acceleration limits on the base's twist, the
arms' clipping (`SafetyLayer.check`: joint steps and limits) on a mobile manipulator's arm, the
torso inside its travel, and the shared watchdog and latch (`SafetyCore`): a stall, a driver
error or `stop()` sends a zero twist and cancels the trajectories (`MobileDriver.stop`).

Twist clipping (`check_twist`, pure): a non-finite twist stops; each part is capped at its
speed limit, then slewed from the last twist sent (else the measured one) by at most its
acceleration limit times the control period, so no command asks the base for a jump.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from librobot_gym.errors import ConfigError
from librobot_gym.hardware.driver import RobotState
from librobot_gym.hardware.safety import SafetyCore, SafetyLayer, SafetyLimits
from librobot_gym.robots import RobotSpec

NO_WORKSPACE = ((-1e3, -1e3, -1e3), (1e3, 1e3, 1e3))  # mobile arms: no fixed box (it moves)


@dataclass(frozen=True)
class TwistLimits:
    """m/s, rad/s, m/s^2, rad/s^2: what the base may be asked for."""

    max_speed: float
    max_yaw_rate: float
    max_accel: float
    max_yaw_accel: float

    @classmethod
    def for_robot(cls, robot: RobotSpec, fraction: float = 1.0) -> TwistLimits:
        """The robot's published base limits (`DiffDriveSpec`), speeds scaled by `fraction`."""
        d = robot.diff_drive
        if d is None or not 0 < fraction <= 1:
            raise ConfigError(f"twist limits need a differential-drive base and a speed "
                              f"fraction in (0, 1]; {robot.name!r}, fraction {fraction}")
        return cls(d.max_speed * fraction, d.max_yaw_rate * fraction, d.max_accel,
                   d.max_yaw_accel)


def arm_limits(robot: RobotSpec, control_dt: float, margin: float = 0.02,
               velocity_fraction: float = 0.5) -> SafetyLimits:
    """The arms' limits for a mobile manipulator's arm (the robot's workspace box if it
    declares one, else none: the arm rides on a moving base)."""
    if robot.workspace is None:
        robot = _with_workspace(robot)
    return SafetyLimits.for_robot(robot, control_dt, margin=margin,
                                  velocity_fraction=velocity_fraction)


def _with_workspace(robot: RobotSpec) -> RobotSpec:
    from dataclasses import replace

    return replace(robot, workspace=NO_WORKSPACE)


class MobileSafetyLayer(SafetyCore):
    """Clips and sends a mobile robot's commands (module doc). `arm`: the arm's limits (a
    mobile manipulator), clipped by `SafetyLayer.check`; `torso_range` (m) its travel."""

    def __init__(self, driver, control_dt: float, twist: TwistLimits,
                 arm: SafetyLimits | None = None,
                 torso_range: tuple[float, float] | None = None, torso_speed: float = 0.1):
        super().__init__(driver, control_dt)
        self.twist_limits = twist
        self._arm = SafetyLayer(driver, arm, control_dt) if arm is not None else None
        self.torso_range, self.torso_speed = torso_range, torso_speed
        self._last_twist: np.ndarray | None = None
        self._last_opening: float | None = None

    def _forget_last_command(self) -> None:
        self._last_twist = None
        self._last_opening = None

    def check_twist(self, twist, last) -> tuple[np.ndarray, dict[str, float]]:
        """(safe twist, violations) for `twist` after `last` (module doc)."""
        lim, violations = self.twist_limits, {}
        asked = np.array(twist, dtype=np.float64).reshape(-1)
        if asked.shape != (2,) or not np.all(np.isfinite(asked)):
            violations["nonfinite"] = 1.0
            asked = np.zeros(2)
        capped = np.clip(asked, [-lim.max_speed, -lim.max_yaw_rate],
                         [lim.max_speed, lim.max_yaw_rate])
        if np.any(capped != asked):
            violations["speed"] = float(np.abs(capped - asked).max())
        step = np.array([lim.max_accel, lim.max_yaw_accel]) * self.control_dt
        last = np.asarray(last, dtype=np.float64)
        safe = last + np.clip(capped - last, -step, step)
        if np.any(np.abs(safe - capped) > 1e-12):
            violations["acceleration"] = float(np.abs(safe - capped).max())
        return safe, violations

    def command(self, twist, arm=None, torso: float | None = None,
                gripper: float | None = None) -> dict[str, float]:
        """Clip and send one command; returns the violations. Raises the latched fault (a
        `SafetyFault`); any exception on the way stops the robot and latches."""
        def send(state: RobotState) -> dict[str, float]:
            last = state.extras["twist"] if self._last_twist is None else self._last_twist
            safe_twist, violations = self.check_twist(twist, last)
            safe_arm = safe_torso = opening = None
            if self._arm is not None and arm is not None:
                hold = state.gripper_opening if self._last_opening is None \
                    else self._last_opening
                safe_arm, opening, arm_violations = self._arm.check(
                    arm, state.gripper_opening if gripper is None else gripper,
                    state.joint_pos, hold)
                for key, value in arm_violations.items():
                    violations[key] = violations.get(key, 0.0) + value
            if torso is not None and self.torso_range is not None:
                safe_torso, torso_violation = self._clip_torso(torso, state)
                if torso_violation:
                    violations["torso"] = torso_violation
            self.driver.command(safe_twist, safe_arm, safe_torso,
                                opening if gripper is not None else None)
            self._last_twist = safe_twist
            if opening is not None:
                self._last_opening = opening
            return violations

        return self._send(send)

    def _clip_torso(self, torso: float, state: RobotState) -> tuple[float, float]:
        low, high = self.torso_range
        now = float(state.extras.get("torso", low))
        asked = float(torso) if math.isfinite(torso) else now
        step = self.torso_speed * self.control_dt
        safe = min(max(asked, now - step, low), now + step, high)
        return safe, abs(asked - safe)
