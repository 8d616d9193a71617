"""The emulated controller's arm: a kinematic model of six joints driven the ways URScript drives
them, integrated in the controller's 2 ms ticks. Deterministic: the same commands at the same
ticks give the same motion.

- `servo(q, lookahead, gain)` (servoj): each joint follows its target as a first-order lag with
  time constant `lookahead * 300 / gain` (UR's defaults, 0.1 s and 300, give 0.1 s: a larger
  gain follows harder, a longer lookahead smooths more).
- `speed(qd, a)` (speedj): joint velocities ramp to `qd` at `a` rad/s^2.
- `move(q, v, a)` (movej): a trapezoidal profile in joint space, the joints synchronised, at
  most `v` rad/s and `a` rad/s^2.
- `stop(a)` (stopj, and the controller's own stops): decelerate at `a` to rest; `halt()` stops
  at once (a category 0 stop: power cut, brakes).

Every velocity is capped at the joints' 180 deg/s, and positions at the joint limits (where the
joint stops). `done` says whether the present motion has finished (a blocking command's end).
"""

from __future__ import annotations

import math

import numpy as np

TICK = 0.002  # s: the e-Series controller's 500 Hz loop
MAX_SPEED = math.pi  # rad/s: 180 deg/s, every UR5e joint
MAX_ACCELERATION = 40.0  # rad/s^2: the largest a ur_rtde command accepts


class ArmMotion:
    """Six joints at `q`; one motion at a time (a new command replaces the present one)."""

    def __init__(self, q, lower, upper):
        self.q = np.array(q, dtype=np.float64)
        self.qd = np.zeros(6)
        self.lower, self.upper = np.asarray(lower, float), np.asarray(upper, float)
        self.mode = "idle"
        self.target = self.q.copy()
        self.time_constant = 0.1
        self.velocity_target = np.zeros(6)
        self.acceleration = 1.4
        self.speed = 1.05
        self.done = True

    def reset(self, q) -> None:
        """At rest at `q`, nothing commanded."""
        self.q[:] = q
        self.qd[:] = 0.0
        self.target[:] = q
        self.mode, self.done = "idle", True

    # --- commands ---------------------------------------------------------------------------
    def servo(self, target, lookahead: float, gain: float) -> None:
        self.mode, self.done = "servo", False
        self.target[:] = target
        self.time_constant = max(float(lookahead) * 300.0 / max(float(gain), 1.0), TICK)

    def speed_to(self, velocity, acceleration: float) -> None:
        self.mode, self.done = "speed", False
        self.velocity_target[:] = np.clip(velocity, -MAX_SPEED, MAX_SPEED)
        self.acceleration = _accel(acceleration)

    def move(self, target, speed: float, acceleration: float) -> None:
        self.mode, self.done = "move", False
        self.target[:] = np.clip(target, self.lower, self.upper)
        self.speed = min(max(float(speed), 1e-3), MAX_SPEED)
        self.acceleration = _accel(acceleration)

    def stop(self, deceleration: float) -> None:
        self.mode, self.done = "stop", False
        self.acceleration = _accel(deceleration)

    def halt(self) -> None:
        """Stop at once (category 0)."""
        self.qd[:] = 0.0
        self.mode, self.done = "idle", True

    @property
    def moving(self) -> bool:
        return bool(np.any(np.abs(self.qd) > 1e-9))

    # --- integration ------------------------------------------------------------------------
    def tick(self, dt: float = TICK) -> None:
        if self.mode == "servo":
            wanted = (self.target - self.q) / self.time_constant
            self.qd[:] = np.clip(wanted, -MAX_SPEED, MAX_SPEED)
        elif self.mode == "speed":
            self.qd += np.clip(self.velocity_target - self.qd, -self.acceleration * dt,
                               self.acceleration * dt)
        elif self.mode == "move":
            self._move_tick(dt)
        elif self.mode == "stop":
            self.qd -= np.clip(self.qd, -self.acceleration * dt, self.acceleration * dt)
            if not self.moving:
                self.mode, self.done = "idle", True
        self.q += self.qd * dt
        hit = (self.q < self.lower) | (self.q > self.upper)
        if hit.any():  # a joint at its limit stops there
            self.q[:] = np.clip(self.q, self.lower, self.upper)
            self.qd[hit] = 0.0

    def _move_tick(self, dt: float) -> None:
        error = self.target - self.q
        span = float(np.max(np.abs(error)))
        if span < 1e-6:
            self.q[:] = self.target
            self.qd[:] = 0.0
            self.mode, self.done = "idle", True
            return
        direction = error / span  # the longest joint moves at the profile's speed
        now = float(np.max(np.abs(self.qd)))
        allowed = min(self.speed, math.sqrt(2.0 * self.acceleration * span),
                      now + self.acceleration * dt, span / dt)
        self.qd[:] = direction * allowed


def _accel(value: float) -> float:
    return min(max(float(value), 1e-3), MAX_ACCELERATION)


# Universal Robots' published DH table of the UR5e (standard convention): a, d, alpha.
UR5E_DH = (
    (0.0, 0.1625, math.pi / 2),
    (-0.425, 0.0, 0.0),
    (-0.3922, 0.0, 0.0),
    (0.0, 0.1333, math.pi / 2),
    (0.0, 0.0997, -math.pi / 2),
    (0.0, 0.0996, 0.0),
)


def flange_pose(q, tcp_offset: float = 0.0) -> list[float]:
    """The tool pose as the controller reports it (`actual_TCP_pose`): [x, y, z, rx, ry, rz],
    base frame, m and a rotation vector (rad), `tcp_offset` m along the flange's z axis."""
    transform = np.eye(4)
    for (a, d, alpha), theta in zip(UR5E_DH, q, strict=True):
        ct, st, ca, sa = math.cos(theta), math.sin(theta), math.cos(alpha), math.sin(alpha)
        transform = transform @ np.array([[ct, -st * ca, st * sa, a * ct],
                                          [st, ct * ca, -ct * sa, a * st],
                                          [0.0, sa, ca, d], [0.0, 0.0, 0.0, 1.0]])
    position = transform[:3, 3] + transform[:3, 2] * tcp_offset
    return [*position.tolist(), *rotation_vector(transform[:3, :3]).tolist()]


def rotation_vector(rotation: np.ndarray) -> np.ndarray:
    """Axis times angle (rad) of a rotation matrix."""
    angle = math.acos(min(max((np.trace(rotation) - 1.0) / 2.0, -1.0), 1.0))
    if angle < 1e-9:
        return np.zeros(3)
    if math.pi - angle < 1e-6:  # a half turn: the axis from the diagonal
        axis = np.sqrt(np.maximum((np.diag(rotation) + 1.0) / 2.0, 0.0))
        signs = np.sign([1.0, rotation[0, 1] + rotation[1, 0], rotation[0, 2] + rotation[2, 0]])
        axis = axis * np.where(signs == 0, 1.0, signs)
        return axis / np.linalg.norm(axis) * angle
    axis = np.array([rotation[2, 1] - rotation[1, 2], rotation[0, 2] - rotation[2, 0],
                     rotation[1, 0] - rotation[0, 1]]) / (2.0 * math.sin(angle))
    return axis * angle
