"""`FeetechDriver`: an arm of Feetech STS3215 bus servos (the SO-100) as a `Driver`.

The joints (arm joints, then the gripper's jaw) map to servos through a `Calibration`
(`calibration.py`); all bus traffic goes through the vendor SDK (`bus.py`) under one lock, so
the control loop, the safety watchdog's polls and `stop()` from any thread never interleave on
the half-duplex wire.

- `connect()`: open the port (1 Mbps), ping every servo (a silent one is named), write each
  goal := its present position (torque on drives to the goal register, which may be stale),
  then torque on. Also what re-arms after a fault: it re-runs while the driver is not ready.
- `read_state()`: one SYNC_READ of present position, speed, load, voltage and temperature
  (addresses 56..63); position and speed become rad and rad/s, the jaw angle an opening (m)
  through `robot.gripper.opening_from_joints`; load, temperature, voltage and the status bits
  go to `RobotState.extras`.
- `command()`: one SYNC_WRITE of the goal positions (the opening becomes a jaw angle through
  `robot.gripper.joints_from_opening`), clipped to each joint's calibrated range of ticks.
  Targets outside the joint limits or the jaw's range are refused (`LimitViolation`) first.
- `move_to()`: a smoothstep trajectory at `move_speed` rad/s (default 0.6) sent every 20 ms,
  then waits until the arm is within `REACHED` rad of the target; `stop()` interrupts it.
- `stop()`: goal := present position on every servo that answers (hold; a silent one keeps
  its goal: a stale reading would move the arm back). Never raises; waits at most
  `STOP_LOCK_TIMEOUT` for the bus and spends at most `STOP_BUDGET` asking silent servos.
- `close()`: stop, then torque off (`release_on_close`, the default). Torque off, not holding,
  because a hobby servo left holding a posture with nobody watching stalls against gravity and
  overheats, and the operator expects an arm they can move by hand after a session (LeRobot
  disconnects the same way). The arm sags when released: home it to a resting posture before
  closing. `release_on_close=False` keeps it holding (a bridge that restarts).

Errors: a status error bit (overload, overheat, voltage, overcurrent, angle sensor) on any
reply raises `RobotFault` naming the joint, the servo and the fix; `max_failures` consecutive
failed transactions (no reply, corrupt replies after retries) raise `DriverDisconnected`; until
then a failed read returns the previous state with its old stamp, so the safety layer's
watchdog sees it age. A single corrupt reply is retried by the bus and only counted
(`extras["corrupt_replies"]`). A status fault first stops the robot; a silent bus cannot carry
a stop (the servos hold their last goal by themselves), so its `DriverDisconnected` is raised
at once and the safety layer's stop follows.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np

from librobot_gym.errors import ConfigError
from librobot_gym.hardware.driver import (
    Driver,
    DriverDisconnected,
    DriverError,
    RobotFault,
    RobotState,
    SceneReport,
    StandIn,
    check_joint_targets,
    spec_options,
)
from librobot_gym.hardware.feetech import protocol as p
from librobot_gym.hardware.feetech.bus import BAUD_RATE, BusError, FeetechBus
from librobot_gym.hardware.feetech.calibration import (
    RAD_PER_TICK,
    Calibration,
    JointCalibration,
    calibration_path,
)
from librobot_gym.hardware.feetech.protocol import STS3215, StatusError
from librobot_gym.robots import RobotSpec

MOVE_PERIOD = 0.02  # s between set points of move_to
REACHED = 0.05  # rad: move_to is done when every arm joint is this close
STOP_LOCK_TIMEOUT = 0.5  # s stop() waits for the bus before giving up
STOP_BUDGET = 0.08  # s stop() spends asking silent servos one by one (a timeout is 34 ms)
JAW_MARGIN = 0.1  # rad of jaw range beyond closed and fully open
# On a lockstep emulator simulated time stands still between steps, so a reply that missed the
# SDK's 34 ms timeout (a loaded host, not a silent servo) is asked for again this many times.
LOCKSTEP_READ_ATTEMPTS = 5

FIXES = {
    StatusError.OVERLOAD: "the joint is blocked or carries too much and the servo switched its "
                          "torque off; free the joint, lighten the load",
    StatusError.OVERHEAT: "the servo is above its temperature limit and switched its torque "
                          "off; let it cool down, then run shorter or lighter episodes",
    StatusError.VOLTAGE: "the supply voltage is outside the servo's limits; check the power "
                         "supply (7.4 V for the STS3215 C001, 12 V for C018) and its wiring",
    StatusError.OVERCURRENT: "the servo drew too much current; check for a stalled joint or a "
                             "short in the cable",
    StatusError.ANGLE: "the servo's magnetic angle sensor failed; replace the servo",
}


def default_calibration(robot: RobotSpec, servo_ids=None, robot_id: str = "emulator"
                        ) -> Calibration:
    """Zero at 2048 ticks, direction +1, ids 1..n in joint order: what `record_calibration`
    gives for re-centred servos mounted the positive way (the emulator's arm)."""
    names, limits = joint_names_and_limits(robot)
    ids = list(servo_ids or range(1, len(names) + 1))
    return Calibration(robot.name, robot_id, tuple(
        JointCalibration.from_limits(name, servo_id, 2048, 1, *limits[name])
        for name, servo_id in zip(names, ids, strict=True)))


def joint_names_and_limits(robot: RobotSpec) -> tuple[list[str], dict[str, tuple[float, float]]]:
    """Arm joints then gripper joints, with their ranges in rad; a gripper joint's range runs
    from closed to fully open (through the gripper's own conversion) plus `JAW_MARGIN`."""
    limits = {j.name: (j.lower, j.upper) for j in robot.joints}
    names = list(robot.joint_names)
    if robot.gripper is not None:
        closed = robot.gripper.joints_from_opening(0.0)
        opened = robot.gripper.joints_from_opening(robot.gripper.max_opening)
        for name, a, b in zip(robot.gripper.joints, closed, opened, strict=True):
            limits[name] = (min(a, b) - JAW_MARGIN, max(a, b) + JAW_MARGIN)
            names.append(name)
    return names, limits


class FeetechDriver(Driver):
    """An arm of STS3215 servos on the serial bus at `port` (module doc).

    `calibration`: a `Calibration`, a path to its JSON file, or None for the file of
    `robot_id` (default: the robot's name) in the calibration directory.
    """

    name = "feetech"
    realtime = True

    def __init__(self, robot: RobotSpec, port: str,
                 calibration: Calibration | str | Path | None = None,
                 robot_id: str | None = None, baud_rate: int = BAUD_RATE,
                 max_failures: int = 3, move_speed: float = 0.6,
                 release_on_close: bool = True, emulator=None, static_scene: bool = False):
        if calibration is None:
            calibration = calibration_path(robot_id or robot.name)
        if not isinstance(calibration, Calibration):
            calibration = Calibration.load(calibration)
        names, _ = joint_names_and_limits(robot)
        calibration.check_joints(names)
        if max_failures < 1 or move_speed <= 0:
            raise ConfigError(f"max_failures must be >= 1 and move_speed > 0, got "
                              f"{max_failures} and {move_speed}")
        self.robot, self.calibration = robot, calibration
        self.joints = calibration.joints
        self.ids = calibration.servo_ids
        self.n_arm = len(robot.joint_names)
        # An emulator answers from a process on this host: on a loaded host a reply can miss
        # the SDK's 34 ms (a busy CPU, not a silent servo), so set-up asks again as reads do.
        self.bus = FeetechBus(port, baud_rate, timeout_retries=1 if emulator is None
                              else LOCKSTEP_READ_ATTEMPTS)
        self.max_failures, self.move_speed = int(max_failures), float(move_speed)
        self.release_on_close = release_on_close
        self.emulator = emulator  # an owned ServoBusEmulator (`feetech:emulator`), else None
        self.static_scene = static_scene
        self._scene: SceneReport | None = None
        self.models: dict[int, int] = {}
        self.failures = 0  # consecutive failed transactions
        self.last_stop_error: BaseException | None = None
        self._ready = False
        self._suspect = False  # a transaction failed since connect(): servos may have rebooted
        self._state: RobotState | None = None
        self._ticks: dict[int, int] = {}  # latest present positions
        self._stopping = threading.Event()
        if emulator is not None and emulator.lockstep:  # simulated time (module doc)
            self.realtime = False
            self.now = emulator.now

    def advance(self, dt: float) -> bool:
        """Let a lockstep emulator run `dt` s (see `lockstep_advance`); False on a real bus."""
        if self.realtime:
            return False
        self.emulator.advance(dt)
        return True

    def _sync_write(self, register: p.Register, values: dict[int, int]) -> None:
        """One sync write (bus lock held). Nobody answers it, so on a lockstep emulator this
        waits until the emulator has handled it: it takes effect before the next `advance`,
        not during or after it (the emulator's thread reads the wire on its own)."""
        handled = self.emulator.frames_handled if not self.realtime else 0
        self.bus.sync_write(register, values)
        if not self.realtime:
            self.emulator.wait_handled(handled + 1)

    def start_episode(self, seed: int | None) -> None:
        """Lockstep emulator: the arm restarts at rest in the robot's home posture, gripper
        open, the clock at 0 (`ServoBusEmulator.restart`), so every episode's homing move
        starts from the same posture and is short (the emulator has no noise to seed). A real
        bus: nothing."""
        if self.realtime:
            return
        gripper = self.robot.gripper
        self.emulator.restart(self._goals(np.asarray(self.robot.home_qpos, dtype=np.float64),
                                          gripper.max_opening if gripper else 0.0))
        self.read_state()

    def _clock(self) -> float:
        return time.monotonic() if self.realtime else self.emulator.now()

    def _pause(self, dt: float) -> None:
        if not self.advance(dt):
            time.sleep(dt)

    @property
    def stand_in(self) -> StandIn | None:
        """On the emulator: a stand-in that simulates only the arm's servos (no table, no cup),
        so the env refuses the expert and success claims there (module `envs/real/cell.py`);
        None on a real bus."""
        if self.emulator is None:
            return None
        spec = "feetech:emulator" + (":lockstep" if self.emulator.lockstep else "")
        if self.static_scene:
            return StandIn(spec + "?scene=static", "only the arm's servos; its placeholder "
                           "scene reports the cup where the reset put it and never moves it",
                           objects=False)
        return StandIn(spec, "only the arm's servos: no table, no cup", objects=False)

    @classmethod
    def emulated(cls, robot: RobotSpec, calibration: Calibration | str | Path | None = None,
                 robot_id: str = "emulator", lockstep: bool = False,
                 static_scene: bool = False, **options) -> FeetechDriver:
        """A driver on an in-process `ServoBusEmulator` holding the arm at its zero pose (the
        default calibration's servos, re-centred, unless a calibration is given). A bare
        cell by default: the operator sets up and labels, as at a real arm; `static_scene`
        gives it a placeholder scene (`reset_scene`). `lockstep`: the emulator's time passes
        only as the env advances it (`advance`), one control period per step, with no
        wall-clock waits."""
        from librobot_gym.hardware.feetech.emulator import ServoBusEmulator

        if calibration is None:
            calibration = default_calibration(robot, robot_id=robot_id)
        elif not isinstance(calibration, Calibration):
            calibration = Calibration.load(calibration)
        emulator = ServoBusEmulator(
            calibration.servo_ids, {j.servo_id: j.offset for j in calibration.joints},
            lockstep=lockstep).start()
        return cls(robot, emulator.port, calibration=calibration, emulator=emulator,
                   static_scene=static_scene, **options)

    # --- the cell ------------------------------------------------------------------------------
    def reset_scene(self, poses, colours) -> bool:
        """With `static_scene` (`feetech:emulator?scene=static`) the cell "places" the objects
        itself and reports them where they were put, never moved or grasped: a placeholder
        for interface tests of state observations, which measures nothing (the env judges no
        success there: `stand_in`). Else False: the operator sets the scene up."""
        if not self.static_scene:
            return False
        self._scene = SceneReport.at_rest(poses)
        return True

    def scene(self) -> SceneReport | None:
        """The static scene; before the first `reset_scene`, a cup 0.25 m in front of the base
        (PickCup's object: envs size their observations before any reset)."""
        if not self.static_scene:
            return None
        return self._scene or SceneReport({"cup": np.array([0.25, 0.0, 0.0])},
                                          {"cup": np.array([1.0, 0.0, 0.0, 0.0])},
                                          {"cup": False})

    @classmethod
    def from_spec(cls, spec: str, robot: RobotSpec, **options) -> FeetechDriver:
        """The driver for the part of a driver spec after "feetech:": a port path or
        "emulator[:lockstep]", optionally followed by `?robot_id=ID&calibration=PATH` (and
        for the emulator `scene=static|none`); keyword `options` win."""
        where, params = spec_options("feetech", spec, "?robot_id=ID&calibration=PATH")
        if "scene" in params:
            scene = params.pop("scene")
            if scene not in ("static", "none"):
                raise ConfigError(f"driver 'feetech:{spec}': scene is 'static' or 'none'")
            params["static_scene"] = scene == "static"
        unknown = sorted(set(params) - {"robot_id", "calibration", "static_scene"})
        if unknown or not where:
            raise ConfigError(f"driver 'feetech:{spec}': expected 'feetech:PORT' or "
                              "'feetech:emulator[:lockstep]', options robot_id, calibration "
                              f"(and scene for the emulator); got {unknown or 'no port'}")
        options = {**params, **options}
        if where in ("emulator", "emulator:lockstep"):
            return cls.emulated(robot, lockstep=where.endswith("lockstep"), **options)
        return cls(robot, where, **options)

    # --- link ----------------------------------------------------------------------------------
    def _joint(self, servo_id: int) -> str:
        return next(j.name for j in self.joints if j.servo_id == servo_id)

    def connect(self) -> None:
        with self.bus.lock:
            if self._ready and self.bus.is_open and not self._suspect:
                return
            if self.emulator is not None and not self.emulator.port:
                self.emulator.start()
                self.bus.port_name = self.emulator.port
            self.bus.open()
            try:
                for joint in self.joints:
                    self.models[joint.servo_id], error = self.bus.ping(joint.servo_id)
                    self._raise_status(joint.servo_id, error)
                state = self._read()
                self._sync_write(STS3215.GOAL_POSITION, dict(self._ticks))
                for joint in self.joints:
                    self._raise_status(joint.servo_id,
                                       self.bus.write(joint.servo_id, STS3215.TORQUE_ENABLE, 1))
            except BusError as error:
                raise DriverDisconnected(
                    f"the servo bus at {self.bus.port_name} does not answer as expected: "
                    f"{error}. Check the servos' power supply and cables, and that ids "
                    f"{self.ids} are set (`librobot calibrate`)") from error
            self._state, self.failures, self._ready, self._suspect = state, 0, True, False

    # --- reading -------------------------------------------------------------------------------
    def _raise_status(self, servo_id: int, error: int) -> None:
        if not error:
            return
        bits = StatusError(error)
        fixes = "; ".join(fix for bit, fix in FIXES.items() if bits & bit)
        self._ready = False
        self.stop()
        raise RobotFault(f"servo {servo_id} ({self._joint(servo_id)}) reports "
                         f"{p.describe_error(error)}: {fixes}. Then reset the episode (the "
                         "driver re-enables torque once the servo reports no error)")

    def _read(self) -> RobotState:
        """Sync read, decode, raise on status bits (bus lock held)."""
        replies = self.bus.sync_read(self.ids, *p.STATE_BLOCK)
        stamp = self._clock()
        ticks, speed, load, volts, temps, status = ([] for _ in range(6))
        for servo_id in self.ids:
            data, error = replies[servo_id]
            ticks.append(int.from_bytes(data[0:2], "little"))
            speed.append(p.decode_value(STS3215.PRESENT_SPEED, data[2:4]))
            load.append(p.decode_value(STS3215.PRESENT_LOAD, data[4:6]) / 1000.0)
            volts.append(data[6] / 10.0)
            temps.append(float(data[7]))
            status.append(error)
        self._ticks = dict(zip(self.ids, ticks, strict=True))
        for servo_id, error in zip(self.ids, status, strict=True):
            self._raise_status(servo_id, error)
        q = np.array([j.to_rad(t) for j, t in zip(self.joints, ticks, strict=True)])
        qd = np.array([j.direction * s * RAD_PER_TICK
                       for j, s in zip(self.joints, speed, strict=True)])
        gripper = self.robot.gripper
        opening = gripper.opening_from_joints(q[self.n_arm:]) if gripper is not None else 0.0
        extras = {"servo_ids": list(self.ids), "load": np.array(load),
                  "temperature_c": np.array(temps), "voltage_v": np.array(volts),
                  "status": np.array(status, dtype=int), "gripper_joint_pos": q[self.n_arm:],
                  "corrupt_replies": self.bus.corrupt_replies, "timeouts": self.bus.timeouts}
        return RobotState(q[: self.n_arm], qd[: self.n_arm], float(opening), stamp, extras)

    def read_state(self) -> RobotState:
        with self.bus.lock:
            if not self._ready:
                raise DriverDisconnected("the Feetech driver is not connected (or stopped "
                                         "after a fault); call connect()")
            attempts = 1 if self.realtime else LOCKSTEP_READ_ATTEMPTS
            for attempt in range(attempts):
                try:
                    self._state = self._read()
                    self.failures = 0
                    break
                except BusError as error:
                    if attempt + 1 == attempts:
                        self._failed(error)
            return self._state

    def _failed(self, error: BusError) -> None:
        """Count a failed transaction; the `max_failures`-th in a row is a disconnect."""
        self.failures += 1
        self._suspect = True  # the next connect() checks every servo again (torque, goals)
        if self.failures < self.max_failures and self._state is not None:
            return
        # No stop() here: a bus this silent cannot carry it (each try costs a reply timeout,
        # and read_state must return within a period); the servos hold their last goal by
        # themselves, and the safety layer's stop() follows the error.
        self._ready = False
        raise DriverDisconnected(
            f"{self.failures} failed transactions in a row on the servo bus at "
            f"{self.bus.port_name} (last: {error}); check the servos' power and cables, "
            "then reset the episode (connect() pings every servo again)") from error

    # --- commanding ----------------------------------------------------------------------------
    def _goals(self, joint_pos: np.ndarray, gripper_opening: float) -> dict[int, int]:
        q = np.asarray(joint_pos, dtype=np.float64).reshape(-1)
        if self.robot.gripper is not None:
            q = np.concatenate([q, self.robot.gripper.joints_from_opening(gripper_opening)])
        if q.shape != (len(self.joints),) or not np.all(np.isfinite(q)):
            raise DriverError(f"joint targets must be {len(self.joints)} finite values (arm "
                              f"and jaw), got {q}")
        return {j.servo_id: j.to_ticks(angle) for j, angle in zip(self.joints, q, strict=True)}

    def command(self, joint_targets: np.ndarray, gripper_opening: float) -> None:
        """Goals for every servo; targets outside the joint limits or the jaw's range are
        refused (`LimitViolation`), not clipped to the servos' ranges."""
        goals = self._goals(*check_joint_targets(self.robot, joint_targets, gripper_opening,
                                                 "the Feetech arm"))
        with self.bus.lock:
            if not self._ready:
                raise DriverDisconnected("the Feetech driver is not connected; call connect()")
            self._sync_write(STS3215.GOAL_POSITION, goals)

    def move_to(self, joint_pos: np.ndarray, gripper_opening: float, timeout: float) -> None:
        target, gripper_opening = check_joint_targets(self.robot, joint_pos, gripper_opening,
                                                      "the Feetech arm's move_to")
        self._stopping.clear()
        start_state = self.read_state()
        start = start_state.joint_pos
        jaw_from = start_state.extras["gripper_joint_pos"]
        jaw_to = (self.robot.gripper.joints_from_opening(gripper_opening)
                  if self.robot.gripper is not None else jaw_from)
        span = max(float(np.max(np.abs(target - start), initial=0.0)),
                   float(np.max(np.abs(jaw_to - jaw_from), initial=0.0)))
        duration = max(span / self.move_speed, MOVE_PERIOD)
        began = self._clock()
        deadline = began + timeout
        while True:
            if self._stopping.is_set():
                raise DriverError("move_to was interrupted by stop(); the arm holds where it is")
            now = self._clock()
            if now > deadline:
                self.stop()
                raise DriverError(f"move_to did not reach {np.round(target, 3)} within "
                                  f"{timeout} s (at {np.round(self._state.joint_pos, 3)}); "
                                  "check for an obstruction or a servo without torque")
            s = min((now - began) / duration, 1.0)
            s = s * s * (3 - 2 * s)  # smoothstep: zero velocity at both ends
            jaw = jaw_from + s * (jaw_to - jaw_from)
            goals = self._goals(start + s * (target - start), 0.0)
            if self.robot.gripper is not None:
                goals[self.joints[-1].servo_id] = self.joints[-1].to_ticks(float(jaw[0]))
            with self.bus.lock:
                if not self._ready:
                    raise DriverDisconnected("the servo bus went away during move_to")
                self._sync_write(STS3215.GOAL_POSITION, goals)
            state = self.read_state()
            if s >= 1.0 and np.all(np.abs(state.joint_pos - target) <= REACHED):
                return
            self._pause(MOVE_PERIOD)

    def stop(self) -> None:
        """Hold every servo at its present position (module doc). Never raises."""
        self._stopping.set()
        if not self.bus.lock.acquire(timeout=STOP_LOCK_TIMEOUT):
            self.last_stop_error = TimeoutError("the bus stayed busy; stop() was not sent")
            return
        try:
            if not self.bus.is_open:
                return
            # Fresh positions only: a goal from an old reading would move the arm back. A
            # servo that does not answer gets no goal (it keeps its last one).
            deadline = time.monotonic() + STOP_BUDGET
            replies = self.bus.sync_read(self.ids, *STS3215_POSITION, partial=True)
            holds = {i: int.from_bytes(d, "little") for i, (d, _) in replies.items()}
            for servo_id in self.ids:
                if servo_id not in holds and time.monotonic() < deadline:
                    try:
                        holds[servo_id] = self.bus.read(servo_id, STS3215.PRESENT_POSITION)[0]
                    except BusError:
                        pass
            if holds:
                self._sync_write(STS3215.GOAL_POSITION, holds)
        except BaseException as error:  # noqa: BLE001 - stop() must never raise
            self.last_stop_error = error
        finally:
            self.bus.lock.release()

    def close(self) -> None:
        self.stop()
        with self.bus.lock:
            try:
                if self.release_on_close and self.bus.is_open:
                    self._sync_write(STS3215.TORQUE_ENABLE, dict.fromkeys(self.ids, 0))
            except DriverError:
                pass
            finally:
                self._ready = False
                self.bus.close()
                if self.emulator is not None:
                    self.emulator.stop()
                    self.emulator.port = ""


STS3215_POSITION = (STS3215.PRESENT_POSITION.address, STS3215.PRESENT_POSITION.size)
