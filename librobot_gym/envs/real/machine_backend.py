"""The real-hardware backend for hydraulic machines (`family == "heavy"`): a `MachineDriver`
behind the valve safety layer, cameras, the operator console and the machine's own model.

A machine is not an arm: it is told valve (pilot) commands, not joint targets. One control step
turns the `hydraulic` action (physical units) back into the six normalised pilot commands the
simulator's valves take, lets `ValveSafetyLayer` clip and send them, waits out the control
period (or lets a lockstep emulator advance it, `lockstep_advance`), then reads angles, rates
and pressures. The world state is what a machine measures: the bucket pose by forward
kinematics of its MJCF, the payload from the boom cylinder's pressure
(`MachineKinematics.payload_kg`), the hydraulic energy (measured pressures x rates), no base
localisation (the machine's frame at the start of the episode is the world frame: `base_pose`
is zero). A bare site measures no material, so the operator sets the truck up, confirms the
start and labels success and progress at the end of the episode, as on an arm cell without a
detector. An instrumented site (`MachineDriver.scene()` returns a `SiteReport`: the truck
surveyed where the reset placed it, a weighbridge under it, the pile surveyed) places and
reports the scene itself; then the task judges, and obs_mode "state" works.
"""

from __future__ import annotations

import math
import time

import numpy as np

from librobot_gym.envs.real.cell import CellBackend, connect_driver
from librobot_gym.envs.tasks.base import MaterialPile, TaskReset, WorldState
from librobot_gym.errors import ConfigError
from librobot_gym.hardware.cameras import FrameSource
from librobot_gym.hardware.console import OperatorConsole
from librobot_gym.hardware.driver import DriverError, RobotState
from librobot_gym.hardware.machine import MachineDriver, SiteReport
from librobot_gym.hardware.machine_kinematics import MachineKinematics
from librobot_gym.hardware.machine_safety import ValveLimits, ValveSafetyLayer
from librobot_gym.robots import RobotSpec
from librobot_gym.scene import canonical_quat

HOME_TIMEOUT = 60.0  # s for the between-episode move to the carry posture
HOME_TOLERANCE = 0.03  # rad
HOME_TIME_CONSTANT = 0.5  # s: the homing loop's proportional gain is 1 / this
HOME_AUTHORITY = 0.4  # largest pilot command while homing
HOME_MIN_PILOT = 0.08  # just past the valves' 5% deadband, so small errors still move


def pile_mass_kg(pile: MaterialPile) -> float:
    """A surveyed pile's mass: the paraboloid mound's volume pi r^2 h / 2 times its density."""
    return math.pi * pile.radius**2 * pile.height / 2 * pile.density


class MachineBackend(CellBackend):
    """What `RobotEnv` needs of a backend, for a hydraulic machine reached through `driver` (a
    `MachineDriver` or a spec such as "j1939:can0"); `cameras` and `operator` as for
    `RealBackend`."""

    def __init__(self, robot: RobotSpec, task, control_mode: str, control_hz: float,
                 driver: MachineDriver | str | None,
                 cameras: dict[str, int | str | FrameSource] | None = None,
                 operator: OperatorConsole | str | None = None,
                 limits: ValveLimits | None = None):
        self._check_mode(robot, control_mode)
        self.robot, self.task = robot, task
        self.control_dt = 1.0 / control_hz
        dims = robot.control_mode(control_mode).dims
        self._full_scale = np.array([d.high for d in dims])
        self._max_speed = np.array([j.max_velocity for j in robot.joints])
        self._piles_kg = {p.name: pile_mass_kg(p) for p in task.scene()
                          if isinstance(p, MaterialPile)}
        self._valve_joint = [robot.joint_names.index(d.name) if d.name in robot.joint_names
                             else -1 for d in dims]
        self._open_cell(robot, task, control_mode, cameras, operator)  # specs checked first
        self.driver = connect_driver(driver, robot, task)
        self.kinematics = MachineKinematics(robot)
        self.safety = self._safety_layer(robot, control_mode, limits)
        self.violations: dict[str, float] = {}
        self.missed_deadlines = 0
        self.tare_pa = 0.0  # empty-bucket calibration of the boom pressure
        self.energy_j = 0.0  # hydraulic output energy this episode, from measurements
        self.automatic_site = False  # the site placed the truck itself at the last reset
        self._state: RobotState | None = None
        self._site: SiteReport | None = None
        self._deadline = 0.0
        try:
            self.driver.connect()
            self.safety.start()
            self._read()
        except BaseException:
            self.close()  # do not leave the machine connected behind a refused env
            raise

    @staticmethod
    def _check_mode(robot: RobotSpec, control_mode: str) -> None:
        if control_mode != "hydraulic":
            raise ConfigError(f"a machine takes valve commands: control_mode='hydraulic', not "
                              f"{control_mode!r}")

    def _safety_layer(self, robot: RobotSpec, control_mode: str, limits):
        """The safety layer every command passes (the excavator's: valves)."""
        return ValveSafetyLayer(
            self.driver, limits or ValveLimits.for_robot(robot, self.control_dt, control_mode),
            self.control_dt)

    # --- episode -------------------------------------------------------------------------------
    def reset(self, joint_pos: np.ndarray, gripper_command: float, task_reset: TaskReset,
              seed: int | None = None) -> None:
        """The site (instrumented) or the operator sets the truck up, the machine homes, the
        operator confirms (on a bare site). `seed` restarts a lockstep stand-in's machine
        (`start_episode`)."""
        self.safety.end_episode()
        self.driver.connect()  # no-op when connected; reconnects after a disconnect
        self.driver.start_episode(seed)
        if self.scene_render is not None:
            self.scene_render.reset(joint_pos, task_reset)
        self.automatic_site = self.driver.reset_scene(
            task_reset.poses, dict(self._piles_kg), base_pose=task_reset.base_pose,
            payload_kg=task_reset.payload_kg)
        if not self.automatic_site:
            self.operator.reset_scene(task_reset.instruction, task_reset.poses)
        if self.safety.faulted:
            self.safety.rearm()
        with self.safety.guard():
            self._home(np.asarray(joint_pos, dtype=np.float64))
        if not self.automatic_site:
            self.operator.confirm_start()
        self._read()
        self.violations = {}
        self.energy_j = 0.0
        self.safety.begin_episode()
        self._deadline = time.monotonic() + self.control_dt

    def _home(self, target: np.ndarray) -> None:
        """Bring the attachment to `target` with a slow proportional loop through the safety
        layer (the swing the short way round), then centre the valves. Timed on the driver's
        clock (simulated seconds for a lockstep emulator)."""
        clock = getattr(self.driver, "now", time.monotonic)
        give_up = clock() + HOME_TIMEOUT
        self._deadline = time.monotonic() + self.control_dt
        while True:
            error = target - self._read().joint_pos
            error = (error + np.pi) % (2 * np.pi) - np.pi
            if np.all(np.abs(error) < HOME_TOLERANCE):
                break
            if clock() > give_up:
                raise DriverError(f"the machine did not reach its start posture {target} within "
                                  f"{HOME_TIMEOUT:.0f} s (error {error} rad); check the "
                                  "hydraulics and the pilot lockout")
            valves = np.zeros(len(self._valve_joint))
            for i, joint in enumerate(self._valve_joint):
                if joint >= 0 and abs(error[joint]) >= HOME_TOLERANCE:
                    pilot = error[joint] / (HOME_TIME_CONSTANT * self._max_speed[joint])
                    valves[i] = np.sign(pilot) * np.clip(abs(pilot), HOME_MIN_PILOT,
                                                         HOME_AUTHORITY)
            self.safety.command(valves)
            self._next_period()
        self.safety.command(np.zeros(len(self._valve_joint)))

    def step(self, physical_action: np.ndarray) -> bool:
        """One control period on the machine. Driver and safety faults raise (typed)."""
        self.violations = self.safety.command(self._to_command(physical_action))
        with self.safety.guard():
            self._next_period()
            self._read()
        self.energy_j += self._hydraulic_power() * self.control_dt
        return True

    def _to_command(self, physical_action: np.ndarray) -> np.ndarray:
        """What the safety layer takes: the action over its full scale (normalised valves)."""
        return np.asarray(physical_action, dtype=np.float64) / self._full_scale

    def _read(self) -> RobotState:
        self._state = state = self.driver.read_state()
        self._site = self.driver.scene()
        return state

    def _hydraulic_power(self) -> float:
        """W: |torque x rate| summed over the joints, torque from the measured pressures (as
        the simulator sums |force x speed| over its actuators)."""
        pressures, _ = self._pressures()
        torque = pressures * self.kinematics.piston_area * self.kinematics.moment_arm
        return float(np.abs(torque * self._state.joint_vel).sum())

    def _posture(self) -> tuple[RobotState | None, SiteReport | None]:
        return self._state, self._site

    # --- reading the world ---------------------------------------------------------------------
    def _pressures(self) -> tuple[np.ndarray, int]:
        """(pressures Pa with missing ones as 0, how many were missing)."""
        pressures = np.asarray(self._state.extras.get("pressure_pa", np.full(4, np.nan)),
                               dtype=np.float64)
        missing = ~np.isfinite(pressures)
        return np.where(missing, 0.0, pressures), int(missing.sum())

    def world_state(self, privileged: bool = False) -> WorldState:
        if privileged:  # no site measures the terrain, instrumented or not
            raise self.privileged_refusal("and a real site reports no material heights "
                                          "(terrain)")
        state, site = self._state, self._site
        self.kinematics.set_posture(state.joint_pos)
        tip, _, rotation = self.kinematics.bucket_pose()
        pressures = np.asarray(state.extras.get("pressure_pa", np.full(4, np.nan)))
        payload = self.kinematics.payload_kg(state.joint_pos, pressures, self.tare_pa)
        extras = {"energy_j": self.energy_j}
        if payload is not None:
            extras["payload_kg"] = payload
        if site is not None:  # what the task judges by (an unknown payload reads 0, flagged)
            extras.update(delivered_kg=float(site.delivered_kg),
                          spilled_kg=float(site.spilled_kg), pile_kg=float(site.pile_kg))
            if payload is None:
                extras.update(payload_kg=0.0, payload_unknown=1.0)
        return self._world(tip, rotation, extras)

    def _world(self, tip: np.ndarray, rotation: np.ndarray, extras: dict) -> WorldState:
        """The world state at the latest reading: the tool at `tip` / `rotation`, the site's
        objects (none without a site), `extras` for the task."""
        state, site = self._state, self._site
        lower, upper = self.robot.joint_lower, self.robot.joint_upper
        return WorldState(
            time=state.stamp, ee_pos=tip, ee_rot=rotation, gripper_opening=0.0,
            object_pos={} if site is None else dict(site.object_pos),
            object_quat={} if site is None else {n: canonical_quat(q)
                                                  for n, q in site.object_quat.items()},
            grasped={}, robot_contacts=frozenset(),
            near_joint_limit=bool(np.any(state.joint_pos < lower + 0.01)
                                  or np.any(state.joint_pos > upper - 0.01)),
            joint_pos=state.joint_pos.copy(), extras=extras)

    def proprio(self, state: WorldState) -> list[np.ndarray]:
        """As the simulator's `HydraulicController.proprio`, from measurements: missing
        pressures read 0 and an unknown payload 0, each counted in `info["safety"]`."""
        measured = self._state
        pressures, missing = self._pressures()
        if missing:
            self.violations["pressure_not_available"] = float(missing)
        if "payload_kg" not in state.extras or state.extras.get("payload_unknown"):
            self.violations["payload_unknown"] = 1.0
        self.kinematics.set_posture(measured.joint_pos)
        tip, quat, _ = self.kinematics.bucket_pose()
        forces = pressures * self.kinematics.piston_area
        return [measured.joint_pos, measured.joint_vel, forces / 1e3, pressures / 1e6, tip, quat,
                np.zeros(3), np.array([state.extras.get("payload_kg", 0.0) / 1e3])]
