"""The drive safety layer for wheeled machines (wheel loader, articulated hauler): what reaches
the drivetrain, the steering and the implement valves, on the shared watchdog (`SafetyCore`).

`DriveSafetyLayer.check` (pure) turns the `drive...` action ([throttle, brake, articulation
rad, direction, then the implement pilots normalised to [-1, 1]]) into the machine's drive
command [throttle, brake, articulation, gear, valve 1, valve 2] and keeps it safe:

- a non-finite value stops: throttle 0, brake 1, the articulation held where it is, neutral,
  implements centred (`nonfinite`);
- throttle and brake in [0, 1], the articulation inside the steering's range (`drive_range`);
  the shuttle lever becomes a gear (`DrivetrainSpec.gear`);
- speed limits: at or above the site's limit (`speed_limit`, 30 km/h unless set, never above
  the machine's top speed; `reverse_speed_limit` backwards) the throttle is cut, and past it by
  10 % the service brake is applied at least 30 % (`speed_limit`);
- no shuttle shift at speed: a gear against the motion above 0.5 m/s becomes neutral with the
  throttle cut and the brake applied (`shuttle_at_speed`);
- the implement valves go through the excavator's valve rules (`clip_valves`: range, rate
  away from neutral, soft joint limits).

A stop (the watchdog, a fault, `stop()`, close) is the driver's hold: the machine applies its
service brake, selects neutral, holds its steering where it is and centres its implements,
and it does the same by itself when the command stream stops for 100 ms.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from librobot_gym.errors import ConfigError, InvalidActionError
from librobot_gym.hardware.driver import RobotState
from librobot_gym.hardware.machine_safety import ValveLimits, clip_valves
from librobot_gym.hardware.safety import SafetyCore
from librobot_gym.robots import RobotSpec

SITE_SPEED_LIMIT = 30 / 3.6  # m/s: a typical site limit for machines under trial
OVERSPEED_MARGIN = 1.1  # past the limit by this factor the brake comes on
OVERSPEED_BRAKE = 0.3  # least brake pedal when over speed or shifting at speed
REVERSAL_SPEED = 0.5  # m/s: above it the transmission is not shuttled against the motion


@dataclass(frozen=True, eq=False)
class DriveLimits:
    """What the drive safety layer lets through (module doc)."""

    gear_of: object  # the drivetrain spec's shuttle: direction -> gear
    max_articulation: float  # rad
    speed_limit: float  # m/s forward
    reverse_speed_limit: float  # m/s backwards
    valves: ValveLimits  # the implement valves, in the action's order

    def __post_init__(self):
        if not (self.max_articulation > 0 and self.speed_limit > 0
                and self.reverse_speed_limit > 0):
            raise ConfigError(f"DriveLimits: the articulation range and the speed limits must "
                              f"be > 0; got {self}")

    @classmethod
    def for_robot(cls, robot: RobotSpec, control_dt: float, control_mode: str,
                  speed_limit: float = SITE_SPEED_LIMIT) -> DriveLimits:
        """The machine's steering range and top speeds (capped by `speed_limit`), and the
        excavator's valve rules for its implements (joints after the articulation)."""
        spec = robot.drivetrain
        if spec is None:
            raise ConfigError(f"{robot.name!r} has no drivetrain: drive limits are for wheeled "
                              "machines")
        valves = ValveLimits.for_robot(robot, control_dt, control_mode)
        implements = len(robot.control_mode(control_mode).dims) - 4
        valves = dataclasses.replace(valves, joint_of_valve=tuple(range(1, 1 + implements)))
        return cls(spec.gear, spec.max_articulation, min(speed_limit, spec.max_speed),
                   min(speed_limit, spec.max_reverse_speed), valves)


def clip_drive(lim: DriveLimits, action, previous_pilots, joint_pos, speed: float
               ) -> tuple[np.ndarray, np.ndarray, dict[str, float]]:
    """(drive command [throttle, brake, articulation, gear, valve 1, valve 2], the implement
    pilots sent, violations) for `action` at `joint_pos` moving at `speed` (m/s, + forward),
    after `previous_pilots` were sent. Pure."""
    action = np.array(action, dtype=np.float64).reshape(-1)
    joints = np.asarray(joint_pos, dtype=np.float64).reshape(-1)
    n = len(lim.valves.joint_of_valve)
    if action.shape != (4 + n,):
        raise InvalidActionError(f"a drive action has {4 + n} values [throttle, brake, "
                                 f"articulation, direction, {n} valves], got {action.shape}")
    violations: dict[str, float] = {}
    if not np.all(np.isfinite(action[:4])):
        violations["nonfinite"] = float((~np.isfinite(action[:4])).sum())
        articulation = float(np.clip(joints[0], -lim.max_articulation, lim.max_articulation))
        throttle, brake, gear = 0.0, 1.0, 0
    else:
        throttle, brake = (float(np.clip(v, 0.0, 1.0)) for v in action[:2])
        articulation = float(np.clip(action[2], -lim.max_articulation, lim.max_articulation))
        excess = max(abs(throttle - action[0]), abs(brake - action[1]),
                     abs(articulation - action[2]))
        if excess > 0:
            violations["drive_range"] = float(excess)
        gear = lim.gear_of(float(action[3]))
    limit = lim.speed_limit if speed >= 0 else lim.reverse_speed_limit
    if abs(speed) >= limit and throttle > 0:
        violations["speed_limit"] = abs(speed) - limit
        throttle = 0.0
    if abs(speed) > OVERSPEED_MARGIN * limit:
        violations["speed_limit"] = abs(speed) - limit
        throttle, brake = 0.0, max(brake, OVERSPEED_BRAKE)
    if gear != 0 and gear * speed < -REVERSAL_SPEED:
        violations["shuttle_at_speed"] = abs(speed)
        throttle, brake, gear = 0.0, max(brake, OVERSPEED_BRAKE), 0
    pilots = np.zeros(0)
    if n:  # the `drive` mode has no implement valves (they stay closed)
        pilots, valve_violations = clip_valves(lim.valves, action[4:], previous_pilots, joints)
        violations.update(valve_violations)
    command = np.zeros(6)
    command[:4] = throttle, brake, articulation, gear
    command[4:4 + n] = pilots
    return command, pilots, violations


class DriveSafetyLayer(SafetyCore):
    """Clips and sends drive commands to a wheeled machine's driver, watches it, latches
    faults (module doc)."""

    def __init__(self, driver, limits: DriveLimits, control_dt: float):
        super().__init__(driver, control_dt)
        self.limits = limits
        self._forget_last_command()

    def _forget_last_command(self) -> None:
        self._last_pilots = np.zeros(len(self.limits.valves.joint_of_valve))

    def check(self, action, previous_pilots, state: RobotState
              ) -> tuple[np.ndarray, np.ndarray, dict[str, float]]:
        """`clip_drive` at the machine's measured posture and ground speed. Pure."""
        return clip_drive(self.limits, action, previous_pilots, state.joint_pos,
                          float(state.extras.get("ground_speed", 0.0)))

    def command(self, action) -> dict[str, float]:
        """Clip and send one drive command; returns the violations. Raises the latched fault;
        any exception on the way stops the machine and latches."""
        def send(state: RobotState) -> dict[str, float]:
            command, pilots, violations = self.check(action, self._last_pilots, state)
            self.driver.command(command)
            self._last_pilots = pilots
            return violations

        return self._send(send)
