"""The safety layer for hydraulic machines: what reaches the valves, on the shared watchdog.

A machine is commanded with valve (pilot) commands, not joint targets, so its clipping policy
differs from an arm's while the watchdog, the latch, `guard()` and `rearm()` are the same
(`SafetyCore` in `hardware/safety.py`). `ValveSafetyLayer.check` (pure) makes every command:

- finite: a non-finite valve command becomes neutral (0: the spool centres and the load holds);
- in [-1, 1];
- rate limited: a valve may move towards neutral freely (slowing down is always safe, and the
  spool's own dynamics smooth it) but away from it by at most `max_step` per control period,
  i.e. the command stays in [min(previous, 0) - max_step, max(previous, 0) + max_step];
- inside the soft joint limits: a valve that would drive its joint further past a soft limit
  (the hard limit shrunk by a margin that covers a period of travel at full speed) is zeroed.

What was changed is returned as named amounts (the env's `info["safety"]`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from librobot_gym.errors import ConfigError, InvalidActionError
from librobot_gym.hardware.driver import RobotState
from librobot_gym.hardware.safety import SafetyCore, SafetyFault
from librobot_gym.robots import RobotSpec

VALVE_RATE = 5.0  # 1/s: full stroke from neutral in 0.2 s, faster than an operator's lever
MARGIN_PERIODS = 1.5  # soft-limit margin, in control periods of travel at full speed
MIN_MARGIN = 0.05  # rad


@dataclass(frozen=True, eq=False)
class ValveLimits:
    """What the valve safety layer lets through. `joint_of_valve[i]` is the index (in
    `robot.joints` order) of the joint valve i drives, or -1 (a travel motor: no joint)."""

    max_step: float  # per control period, away from neutral
    joint_of_valve: tuple[int, ...]
    soft_lower: np.ndarray  # rad, robot.joints order (-inf: none)
    soft_upper: np.ndarray

    def __post_init__(self):
        for name in ("soft_lower", "soft_upper"):
            value = np.array(getattr(self, name), dtype=np.float64).reshape(-1)
            value.flags.writeable = False
            object.__setattr__(self, name, value)
        n = self.soft_lower.shape[0]
        if (self.soft_upper.shape != (n,) or np.any(self.soft_lower > self.soft_upper)
                or not self.max_step > 0 or any(not -1 <= j < n for j in self.joint_of_valve)):
            raise ConfigError(f"ValveLimits: soft limits need one shape with lower <= upper, a "
                              f"step > 0 and joint indices in [-1, {n}); got {self}")

    @classmethod
    def for_robot(cls, robot: RobotSpec, control_dt: float, control_mode: str = "hydraulic",
                  valve_rate: float = VALVE_RATE, margin_periods: float = MARGIN_PERIODS
                  ) -> ValveLimits:
        """Limits from the machine's spec: valves named after joints drive them; the soft limits
        are the joint limits shrunk by `margin_periods` periods at full speed (>= 5 cm rad)."""
        names = robot.joint_names
        dims = robot.control_mode(control_mode).dims
        speed = np.array([j.max_velocity for j in robot.joints])
        margin = np.maximum(MIN_MARGIN, margin_periods * speed * control_dt)
        return cls(max_step=valve_rate * control_dt,
                   joint_of_valve=tuple(names.index(d.name) if d.name in names else -1
                                        for d in dims),
                   soft_lower=robot.joint_lower + margin, soft_upper=robot.joint_upper - margin)


def clip_valves(lim: ValveLimits, valves, previous, joint_pos
                ) -> tuple[np.ndarray, dict[str, float]]:
    """(safe valves, violations) for `valves` after `previous` was sent, at `joint_pos`, under
    `lim` (module doc). Pure: the same inputs give the same outputs."""
    command = np.array(valves, dtype=np.float64).reshape(-1)
    previous = np.asarray(previous, dtype=np.float64).reshape(-1)
    joints = np.asarray(joint_pos, dtype=np.float64).reshape(-1)
    n = len(lim.joint_of_valve)
    if command.shape != (n,) or previous.shape != (n,) or joints.shape != lim.soft_lower.shape:
        raise InvalidActionError(f"valve commands {command.shape} and the last command "
                                 f"{previous.shape} need ({n},), joint positions "
                                 f"{joints.shape} need {lim.soft_lower.shape}")
    if not np.all(np.isfinite(joints)):
        raise SafetyFault(f"the machine reported joint positions {joints}; a driver must "
                          "report finite ones (check the driver, then call rearm())")
    violations: dict[str, float] = {}
    bad = ~np.isfinite(command)
    if bad.any():
        command[bad] = 0.0
        violations["nonfinite"] = float(bad.sum())
    clipped = np.clip(command, -1.0, 1.0)
    low = np.minimum(previous, 0.0) - lim.max_step
    high = np.maximum(previous, 0.0) + lim.max_step
    stepped = np.clip(clipped, low, high)
    for key, amount in (("valve_range", np.abs(command - clipped).max()),
                        ("valve_rate", np.abs(clipped - stepped).max())):
        if amount > 0:
            violations[key] = float(amount)
    valve_joint = np.array(lim.joint_of_valve)
    drives = valve_joint >= 0
    index = np.where(drives, valve_joint, 0)
    q, lower, upper = joints[index], lim.soft_lower[index], lim.soft_upper[index]
    past = drives & (((q >= upper) & (stepped > 0)) | ((q <= lower) & (stepped < 0)))
    if past.any():
        stepped[past] = 0.0
        violations["soft_limit"] = float(past.sum())
    return stepped, violations


class ValveSafetyLayer(SafetyCore):
    """Clips and sends valve commands to a `MachineDriver`, watches it, latches faults."""

    def __init__(self, driver, limits: ValveLimits, control_dt: float):
        super().__init__(driver, control_dt)
        self.limits = limits
        self._last_valves = np.zeros(len(limits.joint_of_valve))

    def _forget_last_command(self) -> None:
        self._last_valves = np.zeros(len(self.limits.joint_of_valve))  # stopped = neutral

    @property
    def last_valves(self) -> np.ndarray:
        """The last command sent (neutral after a stop or a rearm)."""
        return self._last_valves.copy()

    def check(self, valves, previous, joint_pos) -> tuple[np.ndarray, dict[str, float]]:
        """(safe valves, violations): `clip_valves` under this layer's limits. Pure."""
        return clip_valves(self.limits, valves, previous, joint_pos)

    def command(self, valves) -> dict[str, float]:
        """Clip and send one valve command; returns the violations. Raises the latched fault (a
        `SafetyFault`) if there is one; any exception on the way stops the machine and latches."""
        def send(state: RobotState) -> dict[str, float]:
            safe, violations = self.check(valves, self._last_valves, state.joint_pos)
            self.driver.command(safe)
            self._last_valves = safe
            return violations

        return self._send(send)
