"""`URDriver`: a Universal Robots e-Series arm (the UR5e) and its gripper as a `Driver`, through
the maintained client library ur-rtde (SDU Robotics), unmodified.

- `connect()`: the dashboard server brings the arm to RUNNING (`recovery.py`: remote control,
  emergency stop, protective stop unlock, safety restart, power on, brake release); then
  `RTDEReceiveInterface` streams the state at `frequency` (500 Hz); `RTDEControlInterface`
  uploads ur_rtde's control script over the script port (30003) and drives it through RTDE
  input registers; its RTDE watchdog (`watchdog_hz`) stops the program if this process stops
  talking; the gripper is activated on its URCap socket (63352). Idempotent; it re-uploads the
  program if it stopped, and rebuilds a lost link.
- `read_state()`: joint positions and velocities from RTDE, the gripper's position from its
  socket. The controller's clock stamps each state: its offset from ours is the smallest seen
  (the least delayed package), so a stalled stream ages on our clock. A reading raises the
  controller's faults as typed errors (`errors.py`), and `RTDETimeout` when the newest
  package is older than `max_state_age`.
- `command()`: `servoJ(q, t, lookahead, gain)` streaming, and `SET POS` to the gripper when its
  target changes by a register step or more.
- `move_to()`: `speedJ` towards the posture (a velocity the controller ramps at
  `move_acceleration`, straight in joint space, at most `move_speed`), then `speedStop`.
- `stop()`: `speedJ(0, a)`: decelerate and hold, without waiting (see `stop`); never raises.
  The blocking stops (`speedStop`, `servoStop`) end a mode when the stream is fresh: before
  `servoJ` after a move, before `speedJ` after servoing.
- `close()`: stop, stop the control script (when the stream is fresh), disconnect everything.

`URDriver.emulated(robot, lockstep=...)` runs the same code on the controller emulator
(`emulator_process.py`); in lockstep the emulator's time passes only in `advance(dt)`, and
each command is known to have reached it before time passes.
"""

from __future__ import annotations

import math
import threading
import time

import numpy as np

from librobot_gym.errors import ConfigError
from librobot_gym.hardware.driver import (
    Driver,
    DriverDisconnected,
    DriverError,
    RobotState,
    SceneReport,
    StandIn,
    check_joint_targets,
)
from librobot_gym.hardware.rtde import robotiq
from librobot_gym.hardware.rtde.errors import (
    ConnectionLost,
    GripperError,
    ProgramStopped,
    RTDETimeout,
)
from librobot_gym.hardware.rtde.recovery import Dashboard, ur_rtde
from librobot_gym.hardware.rtde.rtde_server import SEQUENCE_REGISTER
from librobot_gym.hardware.rtde.state import VARIABLES, ClockOffset, controller_fault
from librobot_gym.robots import RobotSpec

SEQUENCE = int(SEQUENCE_REGISTER.rsplit("_", 1)[1])  # its number, for getOutputIntRegister
MOVE_PERIOD = 0.02  # s between speedJ set points of move_to
REACHED = 0.002  # rad: move_to is done when every joint is this close
# s (wall) a lockstep read waits for the package of the present time, and a command for the
# emulator to take it: bounds for a broken emulator, generous for a loaded host
LOCKSTEP_WAIT = 5.0


class URDriver(Driver):
    """A UR arm at `host` (module doc). `gripper`: "robotiq" (its URCap socket at
    `gripper_port`) or "none"."""

    name = "ur"
    realtime = True

    def __init__(self, robot: RobotSpec, host: str, frequency: float = 500.0,
                 lookahead: float = 0.1, gain: float = 300.0, watchdog_hz: float = 5.0,
                 max_state_age: float = 0.1, gripper: str = "robotiq",
                 gripper_port: int = robotiq.PORT, move_speed: float = 0.6,
                 move_acceleration: float = 1.5, stop_deceleration: float = 3.0,
                 unlock_timeout: float = 10.0, power_timeout: float = 30.0, emulator=None,
                 static_scene: bool = False):
        if gripper not in ("robotiq", "none"):
            raise ConfigError(f"driver 'ur:{host}': gripper is 'robotiq' or 'none', not "
                              f"{gripper!r}")
        if not (0 < frequency <= 500 and 0.03 <= lookahead <= 0.2 and 100 <= gain <= 2000
                and watchdog_hz > 0 and max_state_age > 0 and move_speed > 0):
            raise ConfigError(f"driver 'ur:{host}': frequency must be in (0, 500] Hz, "
                              "lookahead in [0.03, 0.2] s, gain in [100, 2000] (ur_rtde's "
                              "ranges), watchdog_hz, max_state_age and move_speed > 0")
        self.robot, self.host = robot, host
        self.frequency, self.lookahead, self.gain = float(frequency), lookahead, gain
        self.watchdog_hz, self.max_state_age = float(watchdog_hz), float(max_state_age)
        self.move_speed, self.move_acceleration = float(move_speed), float(move_acceleration)
        self.stop_deceleration = float(stop_deceleration)
        self.unlock_timeout, self.power_timeout = unlock_timeout, power_timeout
        self.gripper_kind, self.gripper_port = gripper, int(gripper_port)
        self.emulator = emulator  # an owned EmulatorProcess (`ur:emulator`), else None
        self.static_scene = static_scene
        self.receive = self.control = None
        self.gripper: robotiq.RobotiqSocket | None = None
        self.dashboard: Dashboard | None = None
        self.mode: str | None = None  # "servo" or "speed" while streaming
        self.recovery_steps: list[str] = []
        self._ready = False
        self._state: RobotState | None = None
        self._clock = ClockOffset()
        self._control_lock = threading.RLock()
        self._last_sent = time.monotonic()
        self._gripper_target: int | None = None
        self._scene: SceneReport | None = None
        self._stopping = threading.Event()
        self._halt = threading.Event()
        self._keepalive: threading.Thread | None = None
        self._sim_now = 0.0
        if emulator is not None and emulator.lockstep:  # simulated time (module doc)
            self.realtime = False
            self.now = lambda: self._sim_now

    # --- the emulated robot --------------------------------------------------------------------
    @classmethod
    def emulated(cls, robot: RobotSpec, lockstep: bool = False, static_scene: bool = False,
                 protective_stop_wait: float = 5.0, **options) -> URDriver:
        """A driver on a `URControllerEmulator` of `robot` in its own process, the arm at its
        home posture. A bare cell by default (the operator sets up and labels, as at a robot);
        `static_scene` gives it a placeholder scene (`reset_scene`)."""
        from librobot_gym.hardware.rtde.emulator_process import EmulatorProcess

        emulator = EmulatorProcess(home=robot.home_qpos, lower=robot.joint_lower,
                                   upper=robot.joint_upper, lockstep=lockstep,
                                   protective_stop_wait=protective_stop_wait)
        return cls(robot, "", emulator=emulator, static_scene=static_scene, **options)

    @property
    def stand_in(self) -> StandIn | None:
        """On the emulator: a stand-in that simulates only the arm and its gripper (no table,
        no cup), so the env refuses the expert and success claims there (`envs/real/cell.py`);
        None on a robot."""
        if self.emulator is None:
            return None
        spec = "ur:emulator" + (":lockstep" if self.emulator.lockstep else "")
        if self.static_scene:
            return StandIn(spec + "?scene=static", "only the arm and its gripper; its "
                           "placeholder scene reports the cup where the reset put it and never "
                           "moves it", objects=False)
        return StandIn(spec, "only the arm and its gripper: no table, no cup", objects=False)

    def advance(self, dt: float) -> bool:
        """Lockstep emulator: let `dt` s pass; False on a robot (see `lockstep_advance`)."""
        if self.realtime:
            return False
        self._sim_now = self.emulator.advance(dt)
        return True

    def _pause(self, seconds: float) -> None:
        if not self.advance(seconds):
            time.sleep(seconds)

    def start_episode(self, seed: int | None) -> None:
        """Lockstep emulator: time 0, the arm at rest in its home posture, the gripper open (the
        emulator has no noise to seed). A robot: nothing."""
        if self.realtime:
            return
        self._sim_now = self.emulator.restart(list(self.robot.home_qpos))
        self._gripper_target = None
        self.read_state()

    # --- the cell --------------------------------------------------------------------------------
    def reset_scene(self, poses, colours) -> bool:
        """With `static_scene` (`ur:emulator?scene=static`) the cell "places" the objects and
        reports them where they were put, never moved or grasped: a placeholder for interface
        tests of state observations, which measures nothing (the env judges no success there:
        `stand_in`). Else False: the operator sets the scene up."""
        if not self.static_scene:
            return False
        self._scene = SceneReport.at_rest(poses)
        return True

    def scene(self) -> SceneReport | None:
        if not self.static_scene:
            return None
        return self._scene or SceneReport({"cup": np.array([0.5, 0.0, 0.05])},
                                          {"cup": np.array([1.0, 0.0, 0.0, 0.0])},
                                          {"cup": False})

    # --- link ---------------------------------------------------------------------------
    def connect(self) -> None:
        with self._control_lock:
            self.recovery_steps = []
            if self._ready and self._linked():
                try:  # the state stream agrees (the control interface's view may lag it)
                    self._state = self._read()
                    return
                except DriverError:
                    pass  # recover below
            self._ready = False
            # After a fault the side links may be dead without knowing it: reopen them (cheap;
            # the RTDE interfaces are kept while they are connected).
            if self.gripper is not None:
                self.gripper.close()
            if self.dashboard is not None:
                self.dashboard.close()
            if self.emulator is not None and not self.emulator.alive:
                self.emulator.start()
                if self.emulator.host != self.host:  # a new emulator: a new address, anew
                    self.host, self.dashboard, self.gripper = self.emulator.host, None, None
                    self.receive = self.control = None
            self.dashboard = self.dashboard or Dashboard(self.host, self._pause)
            self.recovery_steps = self.dashboard.recover(self.unlock_timeout,
                                                         self.power_timeout)
            if self.gripper_kind == "robotiq":  # first: activating lets time pass
                self._connect_gripper()
            self._connect_rtde()
            self._clock = ClockOffset()
            self._ready = True
            self.mode = None
            self._state = self._read()
            if self.realtime and (self._keepalive is None or not self._keepalive.is_alive()):
                self._halt.clear()
                self._keepalive = threading.Thread(target=self._keep_alive, daemon=True,
                                                   name="ur-watchdog-kick")
                self._keepalive.start()

    def _linked(self) -> bool:
        try:
            return bool(self.receive.isConnected() and self.control.isConnected()
                        and self.control.isProgramRunning())
        except (AttributeError, RuntimeError):
            return False

    def _connect_rtde(self) -> None:
        rtde_control, rtde_receive = ur_rtde("rtde_control"), ur_rtde("rtde_receive")
        try:
            # A lost interface is replaced; its destructor disconnects it (ur_rtde's
            # disconnect() waits 0.5 s, and the destructor calls it again: once is enough).
            if self.receive is None or not self.receive.isConnected():
                again = self.receive is not None
                self.receive = None
                variables = VARIABLES if self.realtime else VARIABLES + [SEQUENCE_REGISTER]
                self.receive = rtde_receive.RTDEReceiveInterface(self.host, self.frequency,
                                                                 variables)
                if again:
                    self.recovery_steps.append("reconnected the RTDE stream")
            if self.control is None or not self.control.isConnected():
                again = self.control is not None
                self.control = None
                self.control = rtde_control.RTDEControlInterface(self.host, self.frequency)
                if again:
                    self.recovery_steps.append("reconnected the control interface")
            elif not self.control.isProgramRunning():
                self.control.reuploadScript()
                self._wait(self.control.isProgramRunning, 5.0, "the control script to start")
                self.recovery_steps.append("uploaded the control script again")
            if not self.control.setWatchdog(self.watchdog_hz):
                raise DriverError("the control script did not accept its RTDE watchdog")
        except RuntimeError as error:
            raise DriverDisconnected(
                f"ur_rtde could not connect to the UR at {self.host} ({error}); check the "
                "network, that no other RTDE client (a fieldbus adapter, another session) "
                "holds the input registers, and the teach pendant for a message") from error
        self._last_sent = time.monotonic()

    def _connect_gripper(self) -> None:
        g = self.gripper
        try:
            if g is None or not g.connected:
                g = self.gripper = robotiq.RobotiqSocket(self.host, self.gripper_port)
                g.connect()
            if g.get("STA") != 3:  # not active: activate (the gripper opens and closes)
                g.set(ACT=0)
                g.set(ACT=1)
                self._wait(lambda: g.get("STA") == 3, 10.0, "the gripper to activate")
            fault = g.get("FLT")
            if fault:
                raise GripperError(f"the gripper reports fault {fault:#04x} (FLT; Robotiq's "
                                   "manual lists them): check its cable and power, clear it "
                                   "from the URCap's toolbar, then reset")
            g.set(GTO=1, SPE=255, FOR=robotiq.force_register(100.0))
        except robotiq.GripperError as error:
            raise GripperError(f"{error}: is Robotiq's URCap installed and the gripper plugged "
                               "in (README, 'UR5e: the gripper')?") from error
        self._gripper_target = None

    def _wait(self, done, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not done():
            if time.monotonic() > deadline:
                raise DriverError(f"timed out after {timeout:g} s waiting for {what} on the UR "
                                  f"at {self.host}")
            self._pause(0.01)

    def _keep_alive(self) -> None:
        """Real time: kick the RTDE watchdog whenever nothing else was sent for a third of its
        period (between episodes, while the operator works), so only a dead process trips it."""
        period = 1.0 / (3.0 * self.watchdog_hz)
        while not self._halt.wait(period):
            if not self._ready or time.monotonic() - self._last_sent < period:
                continue
            if self._control_lock.acquire(timeout=period):
                try:
                    if self._ready:
                        self.control.kickWatchdog()
                        self._last_sent = time.monotonic()
                except RuntimeError:
                    pass
                finally:
                    self._control_lock.release()

    # --- reading ---------------------------------------------------------------------------
    def read_state(self) -> RobotState:
        if not self._ready:
            raise DriverDisconnected(f"the UR driver is not connected to {self.host} (or "
                                     "stopped after a fault); reset to reconnect")
        self._state = self._read()
        return self._state

    def _read(self) -> RobotState:
        r = self.receive
        if not r.isConnected():
            self._ready = False
            raise ConnectionLost(f"the RTDE connection to the UR at {self.host} was lost; "
                                 "check the cable, then reset (the driver reconnects)")
        if not self.realtime:  # the package of the emulator's present time and latest change
            target = self.emulator.generation()
            deadline = time.monotonic() + LOCKSTEP_WAIT
            while (r.getOutputIntRegister(SEQUENCE) < target
                   or abs(r.getTimestamp() - self._sim_now) > 1e-9) \
                    and time.monotonic() < deadline:
                time.sleep(0.0002)
        controller_time = r.getTimestamp()
        q, qd = np.array(r.getActualQ()), np.array(r.getActualQd())
        bits, runtime, mode = r.getSafetyStatusBits(), r.getRuntimeState(), r.getRobotMode()
        now = time.monotonic()
        stamp = controller_time if not self.realtime else self._clock.stamp(controller_time, now)
        age = (self._sim_now if not self.realtime else now) - stamp
        self._check(int(bits), int(runtime), int(mode), age)
        opening, gripper_extras = self._read_gripper()
        extras = {"controller_time": controller_time, "safety_status_bits": int(bits),
                  "runtime_state": int(runtime), "robot_mode": int(mode),
                  "target_q": np.array(r.getTargetQ()), **gripper_extras}
        return RobotState(q, qd, opening, stamp, extras)

    def _check(self, bits: int, runtime: int, mode: int, age: float) -> None:
        """Raise the controller's fault, if any, as its typed error (the robot has stopped
        itself; for a stale stream, stop it from here first)."""
        error = controller_fault(f"the UR at {self.host}", bits, runtime, mode, age,
                                 self.max_state_age)
        if error is not None:
            if isinstance(error, RTDETimeout):
                self.stop()
            if self.emulator is not None and not isinstance(error, RTDETimeout):
                error = self._with_emulator_log(error)
            raise error

    def _with_emulator_log(self, error: DriverError) -> DriverError:
        """The error, with what the emulated controller logged last (why it stopped)."""
        try:
            log = self.emulator.state()["messages"][-2:]
        except Exception:  # noqa: BLE001 - a dead emulator: the error as it is
            return error
        return type(error)(f"{error} [the emulator's log: {'; '.join(log)}]")

    def _read_gripper(self) -> tuple[float, dict]:
        if self.gripper is None:
            return 0.0, {}
        try:
            position = self.gripper.get("POS")
            return robotiq.position_to_opening(position), {"gripper_position": position}
        except robotiq.GripperError as error:
            self._ready = False
            raise self._gripper_failed(error) from error

    def _gripper_failed(self, error: Exception) -> DriverDisconnected:
        """The gripper's socket failed: the whole link (the dashboard server does not answer
        either: `ConnectionLost`) or the gripper alone (`GripperError`)."""
        import socket

        try:  # the dashboard server greets every client at once
            with socket.create_connection((self.host, 29999), timeout=0.1) as probe:
                if not probe.recv(1):
                    raise OSError("closed")
        except OSError:
            return ConnectionLost(f"the link to the UR at {self.host} is down (its gripper "
                                  "socket and dashboard server fail); check the cable, then "
                                  "reset (the driver reconnects)")
        return GripperError(f"{error}; check the gripper's cable and URCap, then reset")

    # --- commanding ---------------------------------------------------------------------------
    def _send(self, call, *args) -> bool:
        """One ur_rtde control call; in lockstep, returns once the emulator has applied it."""
        with self._control_lock:
            handled = self.emulator.commands_handled() if not self.realtime else 0
            try:
                ok = call(*args)
            except RuntimeError as error:
                self._ready = False
                raise DriverDisconnected(f"the RTDE control link to {self.host} failed "
                                         f"({error}); reset to reconnect") from error
            self._last_sent = time.monotonic()
            if not self.realtime and ok is not False:
                now = self.emulator.wait_commands(handled + 1, LOCKSTEP_WAIT)
                if now is None:
                    raise RTDETimeout(f"the emulator at {self.host} did not take a command "
                                      f"within {LOCKSTEP_WAIT:g} s")
                self._sim_now = now  # a blocking command lets simulated time pass
        return ok is not False

    def _stream_fresh(self) -> bool:
        """True when the newest RTDE package is at most `max_state_age` old: a blocking
        ur_rtde call (one that waits for the control script's answer) may be made."""
        try:
            if self.receive is None or not self.receive.isConnected():
                return False
            controller_time = self.receive.getTimestamp()
        except RuntimeError:
            return False
        if not self.realtime:
            return controller_time >= self._sim_now - self.max_state_age
        now = time.monotonic()
        return now - self._clock.stamp(controller_time, now) <= self.max_state_age

    def _end_mode(self) -> None:
        """Leave servo or speed mode with ur_rtde's blocking stop for it (servoStop,
        speedStop), which ends the control script's thread; only on a fresh stream."""
        if self.mode is None:
            return
        if not self._stream_fresh():
            raise RTDETimeout(f"the RTDE stream from {self.host} is late: the driver will not "
                              "wait on it to switch modes; reset to reconnect")
        call = self.control.servoStop if self.mode == "servo" else self.control.speedStop
        self._send(call, self.stop_deceleration)
        self.mode = None

    def _refused(self, what: str) -> DriverError:
        """Why the control script refused a command: the controller's fault, else a stop."""
        self._state = self._read()  # raises the typed fault when there is one
        return ProgramStopped(f"the UR at {self.host} refused {what}: the control program is "
                              "not ready; reset to upload it again")

    def command(self, joint_targets: np.ndarray, gripper_opening: float) -> None:
        targets, opening = check_joint_targets(self.robot, joint_targets, gripper_opening,
                                               "the UR driver")
        if not self._ready:
            raise DriverDisconnected(f"the UR driver is not connected to {self.host}; reset")
        if self.mode == "speed":
            self._end_mode()
        if not self._send(self.control.servoJ, targets.tolist(), 0.5, 0.5,
                          1.0 / self.frequency, self.lookahead, self.gain):
            raise self._refused("servoJ")
        self.mode = "servo"
        self._command_gripper(opening)

    def _command_gripper(self, opening: float) -> None:
        if self.gripper is None:
            return
        position = robotiq.opening_to_position(opening)
        if position != self._gripper_target:
            try:
                self.gripper.set(POS=position)
            except robotiq.GripperError as error:
                self._ready = False
                raise self._gripper_failed(error) from error
            self._gripper_target = position

    def move_to(self, joint_pos: np.ndarray, gripper_opening: float, timeout: float) -> None:
        target, opening = check_joint_targets(self.robot, joint_pos, gripper_opening,
                                              "the UR driver's move_to")
        self._stopping.clear()
        if self.mode == "servo":
            self._end_mode()
        self._command_gripper(opening)
        deadline = time.monotonic() + timeout
        try:
            while True:
                if self._stopping.is_set():
                    raise DriverError("move_to was interrupted by stop(); the arm holds where "
                                      "it is")
                state = self.read_state()
                error = target - state.joint_pos
                span = float(np.max(np.abs(error)))
                if span < REACHED:
                    break
                if time.monotonic() > deadline:
                    raise DriverError(f"move_to did not reach {np.round(target, 3)} within "
                                      f"{timeout} s (at {np.round(state.joint_pos, 3)}); "
                                      "check for an obstruction")
                # Straight in joint space; slow down to arrive (the speed that stops in time,
                # and a first-order approach over the last few centimetres).
                speed = min(self.move_speed, math.sqrt(self.move_acceleration * span),
                            4.0 * span)
                if not self._send(self.control.speedJ, (error / span * speed).tolist(),
                                  self.move_acceleration, MOVE_PERIOD):
                    raise self._refused("speedJ")
                self.mode = "speed"
                self._pause(MOVE_PERIOD)
        finally:
            if self.mode == "speed" and self._ready:
                self._end_mode()

    def stop(self) -> None:
        """Decelerate to rest and hold: `speedJ(0, stop_deceleration)`. Never raises, never
        waits for the arm: a realtime command returns once sent, where ur_rtde's blocking
        stops (stopJ, servoStop) wait for the controller's answer on the RTDE stream, holding
        the interpreter's lock; with that stream late they would freeze this process (the
        safety layer's watchdog included) until it resumed."""
        self._stopping.set()
        if not self._control_lock.acquire(timeout=0.5):
            return
        try:
            if self.control is not None and self.control.isConnected():
                if self._send(self.control.speedJ, [0.0] * 6, self.stop_deceleration, 0.0):
                    self.mode = "speed"
        except BaseException:  # noqa: BLE001 - stop() must never raise
            pass
        finally:
            self._control_lock.release()

    def close(self) -> None:
        self.stop()
        self._halt.set()
        self._ready = False
        with self._control_lock:
            try:
                # stopJ and stopScript wait for their answer on the RTDE stream: only when it
                # flows (otherwise the RTDE watchdog stops the program once we are gone).
                if self._stream_fresh() and self.control.isProgramRunning():
                    self.control.stopJ(self.stop_deceleration, False)
                    self.control.stopScript()
            except (AttributeError, RuntimeError):
                pass
            self.control = self.receive = None  # their destructors disconnect them
            if self.gripper is not None:
                self.gripper.close()
                self.gripper = None
            if self.dashboard is not None:
                self.dashboard.close()
                self.dashboard = None
            if self.emulator is not None:
                self.emulator.stop()
