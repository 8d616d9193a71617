"""The real-hardware backend for wheeled machines (wheel loader, articulated hauler): a
`WheeledJ1939Driver` (or any `MachineDriver` with its state) behind the drive safety layer.

It is `MachineBackend` (cameras, the operator, the site, episodes, the watchdog) with the
`drive`, `drive+hydraulic` and `drive+dump` actions: one control step sends [throttle, brake,
articulation, direction] and the implement valves (normalised by their full stroke) through
`DriveSafetyLayer`, waits out the period (or lets a lockstep emulator advance it), and reads
the machine back. The world state is what the machine measures: its pose and ground speed from
the site positioning (SITE_POSE, in the site's frame, which is the task's), the bucket or body
by forward kinematics of its MJCF at that pose, the payload from its weighing system, the
energy from the implement pressures and the drivetrain's rimpull x speed. The proprioception
has the simulator's layout (`WheeledMachineController.proprio`).

Between episodes the machine homes its implements and steering with the service brake applied
(`_home`); it does not drive itself to the start: the site (a stand-in parks it where the
reset asks) or the operator does.
"""

from __future__ import annotations

import time

import numpy as np

from librobot_gym.envs.real.machine_backend import HOME_TIMEOUT, HOME_TOLERANCE, MachineBackend
from librobot_gym.envs.tasks.base import WorldState
from librobot_gym.errors import ConfigError
from librobot_gym.hardware.driver import DriverError
from librobot_gym.hardware.machine_drive_safety import DriveLimits, DriveSafetyLayer
from librobot_gym.robots import RobotSpec

HOME_GAIN = 2.0  # 1/s: implement pilot per rad of error, over the valve's full speed


class DriveBackend(MachineBackend):
    """`MachineBackend` for a wheeled machine (module doc)."""

    @staticmethod
    def _check_mode(robot: RobotSpec, control_mode: str) -> None:
        if robot.drivetrain is None or not control_mode.startswith("drive"):
            raise ConfigError(f"{robot.name!r} is driven with its drive modes "
                              f"({', '.join(robot.control_modes)}), not {control_mode!r}")

    def _safety_layer(self, robot: RobotSpec, control_mode: str, limits):
        self.implements = len(robot.control_mode(control_mode).dims) - 4
        return DriveSafetyLayer(
            self.driver, limits or DriveLimits.for_robot(robot, self.control_dt, control_mode),
            self.control_dt)

    # --- episode -------------------------------------------------------------------------------
    def _home(self, target: np.ndarray) -> None:
        """Steering and implements to `target` (robot.joints order) with the service brake on
        and the transmission in neutral, through the drive safety layer; timed on the
        driver's clock."""
        clock = getattr(self.driver, "now", time.monotonic)
        give_up = clock() + HOME_TIMEOUT
        self._deadline = time.monotonic() + self.control_dt
        n = self.implements
        speed = self._max_speed[1:1 + n]
        while True:
            error = target - self._read().joint_pos
            if np.all(np.abs(error[:1 + n]) < HOME_TOLERANCE):
                break
            if clock() > give_up:
                raise DriverError(f"the machine did not reach its start posture {target} within "
                                  f"{HOME_TIMEOUT:.0f} s (error {error} rad); check the "
                                  "steering, the implement hydraulics and the pilot lockout")
            pilots = np.clip(HOME_GAIN * error[1:1 + n] / speed, -0.4, 0.4)
            pilots[np.abs(error[1:1 + n]) < HOME_TOLERANCE] = 0.0
            self.safety.command(np.concatenate([[0.0, 1.0, target[0], 0.0], pilots]))
            self._next_period()
        self.safety.command(np.concatenate([[0.0, 1.0, target[0], 0.0], np.zeros(n)]))

    def _to_command(self, physical_action: np.ndarray) -> np.ndarray:
        """[throttle, brake, articulation rad, direction] as they are, the implement valves
        over their full stroke."""
        action = np.array(physical_action, dtype=np.float64)
        action[4:] = action[4:] / self._full_scale[4:]
        return action

    def _hydraulic_power(self) -> float:
        """W: the implements' |torque x rate| from the measured pressures, and the drivetrain's
        rimpull x ground speed (as the simulator integrates its motors and cylinders)."""
        pressures, _ = self._pressures()
        torque = pressures * self.kinematics.piston_area * self.kinematics.moment_arm
        state = self._state.extras
        drive = abs(_finite(state.get("rimpull_n")) * _finite(state.get("ground_speed")))
        return float(np.abs(torque[1:] * self._state.joint_vel[1:]).sum()) + drive

    def _pressures(self) -> tuple[np.ndarray, int]:
        pressures = np.asarray(self._state.extras.get("pressure_pa"), dtype=np.float64)
        missing = ~np.isfinite(pressures)
        return np.where(missing, 0.0, pressures), int(missing.sum())

    # --- reading the world ---------------------------------------------------------------------
    def world_state(self, privileged: bool = False) -> WorldState:
        if privileged:
            raise self.privileged_refusal("and a real site reports no material heights "
                                          "(terrain)")
        state, site = self._state, self._site
        x = state.extras
        pose = np.asarray(x["base_pose"], dtype=np.float64)
        self.kinematics.set_posture(state.joint_pos, pose)
        tip, _, rotation = self.kinematics.bucket_pose()
        extras = {"energy_j": self.energy_j, "base_x": float(pose[0]), "base_y": float(pose[1]),
                  "base_yaw": float(pose[2]), "ground_speed": float(x["ground_speed"]),
                  "gear": _finite(x.get("gear")),
                  "payload_kg": _finite(x.get("payload_kg"))}
        if site is not None:
            extras.update(delivered_kg=float(site.delivered_kg),
                          spilled_kg=float(site.spilled_kg), pile_kg=float(site.pile_kg))
        return self._world(tip, rotation, extras)

    def proprio(self, state: WorldState) -> list[np.ndarray]:
        """The simulator's layout from measurements; missing values read 0, counted in
        `info["safety"]`."""
        measured = self._state
        pressures, missing = self._pressures()
        if missing:
            self.violations["pressure_not_available"] = float(missing)
        x = measured.extras
        self.kinematics.set_posture(measured.joint_pos, x["base_pose"])
        tip, quat, _ = self.kinematics.bucket_pose()
        forces = pressures * self.kinematics.piston_area
        return [measured.joint_pos, measured.joint_vel, forces / 1e3, pressures / 1e6, tip, quat,
                np.asarray(x["base_pose"], dtype=np.float64), np.array([x["ground_speed"]]),
                np.array([_finite(x.get("gear")), _finite(x.get("rimpull_n")) / 1e3]),
                np.array([_finite(x.get("payload_kg")) / 1e3])]


def _finite(value) -> float:
    """A measured number, 0 where the machine reported none."""
    return float(value) if value is not None and np.isfinite(value) else 0.0
