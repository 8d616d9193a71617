"""A Franka (Panda or FR3 with the Franka Hand) through franky, libfranka's Python wrapper.

    FrankyDriver(FRANKA_PANDA, host="172.16.0.2", dynamics_factor=0.2)

franky is optional: `pip install 'librobot-gym[real]'` (the `franky-control` package).

How the `Driver` calls map onto franky:

- `connect`: `franky.Robot(host)` with a conservative global relative dynamics factor
  (`dynamics_factor`, default 0.2 of the robot's velocity, acceleration and jerk limits) and
  `franky.Gripper(host)`, then `recover_from_errors()` if the robot reports errors. Idempotent;
  after a disconnect it makes new Robot/Gripper objects (libfranka's are dead after a network
  error), and while connected it runs the automatic error recovery when a fault is pending.
- `command`: each call replaces the running motion with `JointMotion(targets,
  return_when_finished=False)` started `asynchronous=True`; franky hands over to the new target
  inside its 1 kHz control loop (Ruckig keeps position, velocity and acceleration continuous, and
  the robot holds the last target when commands stop). The hand moves only when its target
  changes by more than `gripper_tolerance`, asynchronously (`move_async` to open, `grasp_async`
  with wide tolerances to close, so it keeps squeezing a grasped object), one command at a time:
  franky 2.0 waits for the running hand command before it starts another, and destroying a
  Gripper waits for its running command, both while holding the Python GIL (and franky-sim never
  answers a command a newer one replaced: the process hangs). So a newer target waits until the
  running command has ended, and a Gripper is let go only once its command has ended.
- `read_state`: a reader thread asks franky for the arm state (`Robot.state`: measured `q`,
  `dq`, robot mode, errors, robot time) and the hand's width; `read_state` waits for that
  reading at most `read_timeout` (default 20 ms) and otherwise returns the newest reading it has.
  Its `stamp` is the `time.monotonic()` at which its robot time (libfranka's 1 ms message
  counter) was first seen, so a stalled stream shows as an ageing stamp, also while a motion runs
  (franky then answers with its control loop's newest state, however old). libfranka gives up
  after 1 s without a state; the safety layer's watchdog sees the old stamp long before that.
  (A constant latency cannot be seen this way: the stamps stay fresh, the content is late.)
  A robot in Reflex, or a fault not yet recovered from, raises `RobotFault`.
- `move_to`: a blocking `JointMotion` at `homing_factor` x the global factor, `join_motion` with
  the timeout (on timeout: stop, `DriverError`), and the hand's move to its opening.
- `stop`: `Robot.stop()` from a helper thread, waited for at most `stop_timeout`, so it returns
  promptly from any thread even when the link hangs; never raises. The hand finishes its own
  move (see `command`). The next `command` or `move_to` waits (up to 2 s) until the stop has
  taken effect, then starts a new motion ("Move command preempted!", what libfranka reports for
  the stopped motion, is not a fault).

Errors: franky's NetworkException (and the bare "Net Exception" libfranka raises on a dead
link afterwards) -> `DriverDisconnected` (reconnect with `connect()`); ControlException /
CommandException (a reflex, a rejected motion) and a robot in Reflex -> `RobotFault`, whose
message says what franky reported and how to recover; anything else franky raises ->
`DriverError`. The driver's errors carry franky's message but no reference to franky's objects
(no exception chaining, no franky objects in the raising frames): a robot serves one connection
at a time, so a dead connection's Robot/Gripper must really be destroyed before `connect()` can
get a new one, even while the safety layer keeps the latched error.

`realtime=True` (franky's default) makes libfranka refuse to run without a real-time kernel;
pass `realtime=False` to accept the jitter (simulators, a first test on a desktop).

Known limit (franky-control 2.0 and its libfranka): a Franka Hand command whose connection
dies without a TCP reset (a pulled cable, a robot that powers off) waits for its answer forever.
The driver then keeps that Gripper alive rather than hang on destroying it, and at interpreter
exit the waiting thread can make the process abort ("terminate called without an active
exception").
"""

from __future__ import annotations

import atexit
import contextlib
import json
import math
import os
import threading
import time
import weakref

import numpy as np

from librobot_gym.errors import ConfigError
from librobot_gym.hardware.driver import (
    Driver,
    DriverDisconnected,
    DriverError,
    RobotFault,
    RobotState,
)
from librobot_gym.robots import RobotSpec

FRANKA_ROBOTS = ("franka_panda", "franka_fr3")
RECOVERY_HINT = ("check the cell, then recover: the driver's connect() runs franky's automatic "
                 "error recovery (Robot.recover_from_errors()); RealBackend.reset() calls it and "
                 "re-arms the safety layer (rearm())")
CLOSING_TIMEOUT = 10.0  # s connect()/close() wait for the last connection's objects to go
_CLOSING: weakref.WeakSet[threading.Thread] = weakref.WeakSet()  # of every driver


@atexit.register
def _let_go_before_exit() -> None:
    """At interpreter exit, give the threads still holding franky objects a bounded chance to
    destroy them first: a franky Robot torn down while the process exits can abort it
    ("terminate called without an active exception")."""
    deadline = time.monotonic() + CLOSING_TIMEOUT
    for thread in list(_CLOSING):
        thread.join(max(0.0, deadline - time.monotonic()))
_PREEMPTED = object()  # what _call returns for our own stop()'s "Move command preempted!"
STOP_SETTLE = 2.0  # s a motion after stop() waits for the stop to take effect
# Ruckig, franky's trajectory generator, can fail to plan one streamed target (e.g. error -111,
# synchronisation, for a target at the present posture while a joint velocity chatters); the
# robot then holds its last target. That many failures in a row are an error.
MAX_PLANNER_FAILURES = 3


def import_franky():
    """The franky module, or a ConfigError saying how to install it."""
    try:
        import franky
    except ImportError as error:
        raise ConfigError("the Franka driver needs franky (libfranka's Python wrapper): "
                          "pip install 'librobot-gym[real]' (or pip install franky-control); "
                          f"importing it failed: {error}") from error
    return franky


@contextlib.contextmanager
def _scheduling_kept():
    """Put the calling thread's scheduling policy back after a franky call. libfranka raises
    the thread that creates a Robot (or runs a motion) to SCHED_FIFO priority 99 wherever it
    may (as root, or with CAP_SYS_NICE), and leaves it there: the env's thread would then run
    physics, rendering and the policy at real-time priority and starve every other process.
    franky's 1 kHz control loop runs in a thread of its own, which keeps its priority."""
    policy, param = os.sched_getscheduler(0), os.sched_getparam(0)
    try:
        yield
    finally:
        if os.sched_getscheduler(0) != policy:
            with contextlib.suppress(OSError):
                os.sched_setscheduler(0, policy, param)


def _error_names(errors) -> list[str]:
    """franka::Errors -> the names of the flags set (franky's repr is a JSON list of them)."""
    text = repr(errors)
    try:
        return [str(name) for name in json.loads(text)]
    except ValueError:
        return [] if text in ("", "[]") else [text]


def _faulted(state: RobotState | None) -> bool:
    """The robot stopped itself (Reflex) or reports errors."""
    return state is not None and (state.extras.get("robot_mode") == "Reflex"
                                  or bool(state.extras.get("errors")))


def _preempted(error: BaseException) -> bool:
    """libfranka's answer to a StopMove: only this driver's stop() sends one (FCI has a single
    client). Not "preempted due to activated safety function!", which is a fault."""
    return "Move command preempted!" in str(error)


def _broken_link(error: BaseException) -> bool:
    """libfranka's errors on a dead link: NetworkException, then a bare "Net Exception"."""
    return type(error).__name__ == "NetworkException" or (
        isinstance(error, RuntimeError) and "net exception" in str(error).lower())


class _Reading:
    """The newest state a reader thread produced, and requests for fresher ones."""

    def __init__(self):
        self.cond = threading.Condition()
        self.state: RobotState | None = None
        self.error: BaseException | None = None  # franky's, without its traceback
        self.doing = ""  # what the reader was doing when it failed
        self.done = 0  # readings finished (ok or failed)
        self.wanted = False  # read_state asks for a reading
        self.busy = False  # a reading is under way (it may have started before the ask)
        self.halt = False  # the reader should end
        self.thread: threading.Thread | None = None  # the reader


class FrankyDriver(Driver):
    """A Franka through franky (module doc). `host`: the robot's FCI address.

    `dynamics_factor`: franky's global relative dynamics factor in (0, 1] (a fraction of the
    robot's velocity, acceleration and jerk limits) for streamed commands; `homing_factor`:
    the fraction of that `move_to` uses. `realtime`: let libfranka insist on a real-time kernel.
    `gripper`: connect to the Franka Hand; `gripper_speed` (m/s), `gripper_force` (N, when
    closing), `gripper_tolerance` (m: smaller target changes are not sent). `read_timeout` (s):
    the longest `read_state` waits for a fresh reading; `stop_timeout` (s): the longest `stop`
    waits for the robot to acknowledge.
    """

    name = "franky"

    def __init__(self, robot: RobotSpec, host: str, *, dynamics_factor: float = 0.2,
                 homing_factor: float = 0.5, realtime: bool = True, gripper: bool = True,
                 gripper_speed: float = 0.05, gripper_force: float = 20.0,
                 gripper_tolerance: float = 0.005, read_timeout: float = 0.02,
                 stop_timeout: float = 0.5):
        if robot.name not in FRANKA_ROBOTS or len(robot.joints) != 7:
            raise ConfigError(f"the franky driver drives a 7-joint Franka "
                              f"({', '.join(FRANKA_ROBOTS)}); got {robot.name!r} with "
                              f"{len(robot.joints)} joints")
        if not host:
            raise ConfigError("the franky driver needs the robot's FCI address, e.g. "
                              "'franky:172.16.0.2'")
        for label, value in (("dynamics_factor", dynamics_factor),
                             ("homing_factor", homing_factor)):
            if not 0 < value <= 1:
                raise ConfigError(f"{label} must be in (0, 1]; got {value}")
        if min(gripper_speed, gripper_force, read_timeout, stop_timeout) <= 0 or \
                gripper_tolerance < 0:
            raise ConfigError("gripper_speed, gripper_force, read_timeout and stop_timeout must "
                              f"be > 0 and gripper_tolerance >= 0; got {gripper_speed}, "
                              f"{gripper_force}, {read_timeout}, {stop_timeout}, "
                              f"{gripper_tolerance}")
        self.robot, self.host = robot, str(host)
        self.dynamics_factor, self.homing_factor = float(dynamics_factor), float(homing_factor)
        self.realtime = True  # a real robot keeps its own time (see lockstep_advance)
        self.enforce_realtime = bool(realtime)
        self.use_gripper = bool(gripper) and robot.gripper is not None
        self.max_opening = robot.gripper.max_opening if robot.gripper is not None else 0.0
        self.gripper_speed, self.gripper_force = float(gripper_speed), float(gripper_force)
        self.gripper_tolerance = float(gripper_tolerance)
        self.read_timeout, self.stop_timeout = float(read_timeout), float(stop_timeout)
        self._franky = None
        self._robot = None  # franky.Robot while connected
        self._gripper = None  # franky.Gripper while connected (and asked for)
        self._reading: _Reading | None = None
        self._lock = threading.RLock()  # connect/close and the hand bookkeeping
        self._stop_thread: threading.Thread | None = None
        self._stopped = False  # stop() ran since the last motion started
        self._closing: list[threading.Thread] = []  # threads still holding old franky objects
        self._fault: str | None = None  # a RobotFault seen and not yet recovered from
        self.planner_failures = 0  # streamed targets Ruckig could not plan, in a row
        self._hand_future = None
        self._hand_sent: float | None = None
        self._hand_pending: float | None = None

    # --- calling franky -----------------------------------------------------------------------
    def _call(self, doing: str, method: str, *args, on_gripper: bool = False,
              benign: bool = False):
        """`Robot.method(*args)` (or the Gripper's); franky's errors become the driver's,
        raised from here without a reference to franky's objects (module doc). `benign`: a
        "Move command preempted!" (our own stop()) returns `_PREEMPTED` instead of raising."""
        target = self._gripper if on_gripper else self._robot
        if target is None:
            raise self._not_connected()
        try:
            with _scheduling_kept():
                return getattr(target, method)(*args)
        except Exception as error:  # noqa: BLE001 - every franky failure is mapped
            if benign and _preempted(error):
                return _PREEMPTED
            mapped = self._map(error, doing)
        del target
        raise mapped

    def _not_connected(self) -> DriverDisconnected:
        return DriverDisconnected(f"the Franka at {self.host} is not connected; call "
                                  "connect()")

    def _map(self, error: BaseException, doing: str) -> DriverError:
        """franky's exception -> the driver's (keeping only its text), dropping a dead link."""
        kind = type(error).__name__
        if _broken_link(error):
            self._disconnect()
            return DriverDisconnected(f"lost the link to the Franka at {self.host} while "
                                      f"{doing}: franky reported {kind}: {error}. The robot "
                                      "stops by itself; check the network and the robot, then "
                                      "connect() again")
        if kind in ("ControlException", "CommandException", "GripperException"):
            self._fault = f"{kind}: {error}"
            return RobotFault(f"the Franka at {self.host} stopped while {doing}: franky "
                              f"reported {kind}: {error}; {RECOVERY_HINT}")
        return DriverError(f"franky failed while {doing}: {kind}: {error}")

    # --- connection ---------------------------------------------------------------------------
    @property
    def connected(self) -> bool:
        return self._robot is not None

    def connect(self) -> None:
        with self._lock:
            if self._robot is not None:
                try:
                    state = self._sample(timeout=1.0)
                except DriverDisconnected:  # the link died meanwhile: connect anew below
                    state = None
                if self._robot is not None:
                    if self._fault is not None or _faulted(state):
                        self.recover()
                    return
            self._await_closing()
            franky = self._franky = import_franky()
            config = franky.RealtimeConfig.Enforce if self.enforce_realtime else \
                franky.RealtimeConfig.Ignore
            try:
                with _scheduling_kept():
                    self._robot = franky.Robot(self.host, realtime_config=config,
                                               relative_dynamics_factor=self.dynamics_factor)
                    if self.use_gripper:
                        self._gripper = franky.Gripper(self.host)
            except Exception as error:  # noqa: BLE001
                mapped = self._connect_error(error, "the Franka Hand" if self._robot else
                                             "the arm")
                self._robot = self._gripper = None
            else:
                mapped = None
            if mapped is not None:
                raise mapped
            self._fault, self._stopped = None, False
            self._hand_future = self._hand_sent = self._hand_pending = None
            self._reading = reading = _Reading()
            reading.thread = threading.Thread(
                target=self._read_loop, args=(reading, self._robot, self._gripper),
                name=f"franky-reader-{self.host}", daemon=True)
            reading.thread.start()
            try:
                state = self._sample(timeout=5.0)  # the first reading, so there always is one
            except DriverError:
                self._disconnect()
                raise
            if _faulted(state):  # e.g. a reflex from before: franky's automatic recovery
                self.recover()

    def _let_go(self, timeout: float) -> bool:
        """Wait up to `timeout` for this driver's old franky objects to be destroyed."""
        deadline = time.monotonic() + timeout
        for thread in self._closing:
            thread.join(max(0.0, deadline - time.monotonic()))
        self._closing = [thread for thread in self._closing if thread.is_alive()]
        return not self._closing

    def _await_closing(self) -> None:
        """Wait until the objects of the last connection are gone: the robot serves one
        connection at a time, and franky would otherwise wait for the old one to close."""
        if not self._let_go(CLOSING_TIMEOUT):
            raise DriverDisconnected(f"the last connection to the Franka at {self.host} is still "
                                     f"closing after {CLOSING_TIMEOUT:.0f} s (a hand command or "
                                     "a stop request has not ended); try connect() again later")

    def _connect_error(self, error: BaseException, what: str) -> DriverError:
        kind = type(error).__name__
        if kind == "RealtimeException":
            return DriverError(f"franky refused to run: {error}. Use a real-time (PREEMPT_RT) "
                               "kernel, or pass realtime=False to accept timing jitter")
        if kind == "IncompatibleVersionException":
            return DriverError(f"{what} at {self.host} speaks another libfranka version: "
                               f"{error}; install the franky build for the robot's firmware")
        return DriverDisconnected(f"cannot reach {what} at {self.host}: {kind}: {error}. Is the "
                                  "robot on, its brakes open and FCI activated in Desk, and the "
                                  "network up? Then connect() again")

    def recover(self) -> None:
        """Run franky's automatic error recovery (after a reflex); `RobotFault` if it fails."""
        if not self._call("recovering from errors", "recover_from_errors"):
            raise RobotFault(f"the Franka at {self.host} still reports errors after the "
                             "automatic error recovery; check the robot in Desk (a manual "
                             "recovery, e.g. unlocking the brakes or releasing the stop button, "
                             "may be needed), then connect() again")
        self._fault = None
        # franky keeps the last motion's failure until it is polled; a motion the reflex
        # aborted while the fault was seen elsewhere (a reading) predates the recovery.
        with contextlib.suppress(DriverError):
            self._call("recovering from errors", "poll_motion", benign=True)
        self._fault = None
        reading = self._reading
        if reading is not None:
            with reading.cond:  # the readings so far predate the recovery
                reading.error, reading.state = None, None
            self.read_state(timeout=1.0)  # RobotFault if the robot still reports one

    def _disconnect(self) -> None:
        """Forget the Robot and Gripper (`connect()` makes new ones). A thread lets them go
        once their hand command and stop request have ended: destroying a Gripper whose
        asynchronous command still runs blocks forever with the GIL held (the process hangs),
        and a Robot whose stop request is unanswered blocks until libfranka gives up. Never,
        if they never end: a small leak instead of a hang."""
        with self._lock:
            reading, self._reading = self._reading, None
            if reading is not None:
                with reading.cond:
                    reading.halt = True
                    reading.cond.notify_all()
            objects = [self._robot, self._gripper, self._hand_future]
            future, stopping = self._hand_future, self._stop_thread
            self._robot = self._gripper = None
            self._hand_future = self._hand_sent = self._hand_pending = None
            if objects[0] is None and objects[1] is None:
                return

            def let_go(objects=objects, reader=reading) -> None:
                if future is not None:
                    while not future.wait(1.0):
                        pass
                if stopping is not None:
                    stopping.join()
                objects.clear()
                if reader is not None and reader.thread is not None:
                    reader.thread.join()  # the reader's own references go when it ends

            thread = threading.Thread(target=let_go, name="franky-closing", daemon=True)
            self._closing.append(thread)
            _CLOSING.add(thread)
            thread.start()

    # --- state --------------------------------------------------------------------------------
    def _read_loop(self, reading: _Reading, robot, gripper) -> None:
        """Take readings when asked until halted or the link dies (one per request)."""
        # While a motion runs franky answers with its control loop's newest state, however old:
        # a reading is stamped when its robot time (libfranka's message id, 1 ms steps) was
        # first seen, so a stalled stream shows as an ageing stamp.
        seen_time, seen_at = None, 0.0
        while True:
            with reading.cond:
                while not reading.wanted and not reading.halt:
                    reading.cond.wait()
                if reading.halt:
                    return
                reading.wanted, reading.busy = False, True
            sample = error = None
            doing = "reading the arm's state"
            try:
                state = robot.state
                now = time.monotonic()
                doing = "reading the hand's width"
                width = float(gripper.width) if gripper is not None else 0.0
                robot_time = float(state.time.to_sec())
                if robot_time != seen_time:
                    seen_time, seen_at = robot_time, now
                sample = RobotState(
                    joint_pos=np.array(state.q, dtype=np.float64).reshape(7),
                    joint_vel=np.array(state.dq, dtype=np.float64).reshape(7),
                    gripper_opening=width, stamp=seen_at,
                    extras={"robot_time": robot_time,
                            "robot_mode": state.robot_mode.name,
                            "errors": _error_names(state.current_errors),
                            "control_success_rate": float(state.control_command_success_rate),
                            "gripper_busy": self._hand_future is not None})
            except Exception as failure:  # noqa: BLE001 - handed to read_state, frames dropped
                error = failure.with_traceback(None)
            with reading.cond:
                if sample is not None:
                    reading.state = sample
                else:
                    reading.error, reading.doing = error, doing
                reading.done += 1
                reading.busy = False
                reading.cond.notify_all()
            if error is not None and _broken_link(error):
                return

    def _sample(self, timeout: float) -> RobotState:
        """The newest reading, taken after this call if one comes within `timeout` (else the
        last one, older); raises what the reader hit."""
        reading = self._reading
        if self._robot is None or reading is None:
            raise self._not_connected()
        deadline = time.monotonic() + timeout
        with reading.cond:
            target = reading.done + (2 if reading.busy else 1)
            reading.wanted = True
            reading.cond.notify_all()
            while reading.done < target and reading.error is None:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                reading.cond.wait(left)
            error, state, doing = reading.error, reading.state, reading.doing
            if error is not None and not _broken_link(error):
                reading.error = None  # reported once
        if error is not None:
            raise self._map(error, doing)
        if state is None:
            raise DriverDisconnected(f"no state from the Franka at {self.host} within "
                                     f"{timeout:.3f} s")
        return state

    def read_state(self, timeout: float | None = None) -> RobotState:
        """The newest reading: a fresh one if it comes within `timeout` (default
        `read_timeout`), else the last one with its old stamp (module doc). `RobotFault` while
        the robot reports a reflex or errors, or a fault has not been recovered from."""
        state = self._sample(self.read_timeout if timeout is None else timeout)
        if self._fault is not None:
            raise RobotFault(f"the Franka at {self.host} is stopped after a fault "
                             f"({self._fault}); {RECOVERY_HINT}")
        if _faulted(state):
            self._fault = (f"robot mode {state.extras['robot_mode']}, errors "
                           f"{state.extras['errors']}")
            raise RobotFault(f"the Franka at {self.host} reports {self._fault}; "
                             f"{RECOVERY_HINT}")
        return RobotState(state.joint_pos.copy(), state.joint_vel.copy(),
                          state.gripper_opening, state.stamp, dict(state.extras))

    # --- motion -------------------------------------------------------------------------------
    def _move(self, make_motion, doing: str) -> None:
        """Start `make_motion()` asynchronously; it replaces a running one seamlessly."""
        if self._robot is None:
            raise self._not_connected()
        if self._fault is not None:
            raise RobotFault(f"the Franka at {self.host} is stopped after a fault "
                             f"({self._fault}); {RECOVERY_HINT}")
        if self._stopped:
            self._settle_stop()
        # What the running (or last) motion failed with; our own stop() is no fault, nor is
        # an occasional target the planner could not reach smoothly (the robot holds).
        try:
            self._call("executing the last motion", "poll_motion", benign=True)
            self.planner_failures = 0
        except DriverError as error:
            if "Motion planner failed" not in str(error) or \
                    self.planner_failures + 1 >= MAX_PLANNER_FAILURES:
                raise
            self.planner_failures += 1
        if self._call(doing, "move", make_motion(), True, benign=True) is _PREEMPTED:
            self._call(doing, "move", make_motion(), True)  # a stop() ended the last one just now

    def _settle_stop(self) -> None:
        """Let the last stop() take effect before a new motion starts: franky would otherwise
        hand the new motion to the control loop the stop is ending (and the stop would end it)."""
        stopping = self._stop_thread
        if stopping is not None:
            stopping.join(STOP_SETTLE)
            if stopping.is_alive():
                raise DriverError(f"the Franka at {self.host} has not acknowledged stop() within "
                                  f"{STOP_SETTLE:.1f} s; the link may be down (connect() again "
                                  "once it answers)")
        deadline = time.monotonic() + STOP_SETTLE
        while self._robot is not None and self._robot.is_in_control and \
                time.monotonic() < deadline:
            time.sleep(0.002)
        self._stopped = False

    def command(self, joint_targets: np.ndarray, gripper_opening: float) -> None:
        targets = self._targets(joint_targets)
        self._move(lambda: self._franky.JointMotion(targets, return_when_finished=False),
                   "streaming joint targets")
        self._hand(gripper_opening)

    def move_to(self, joint_pos: np.ndarray, gripper_opening: float, timeout: float) -> None:
        targets = self._targets(joint_pos)
        deadline = time.monotonic() + float(timeout)
        self._move(lambda: self._franky.JointMotion(
            targets, relative_dynamics_factor=self.homing_factor), "moving to a posture")
        self._hand_wait(deadline)  # a running hand command first (commands are serialised)
        self._hand(gripper_opening, force=True)
        finished = self._call("moving to a posture", "join_motion",
                              max(0.0, deadline - time.monotonic()), benign=True)
        if finished is _PREEMPTED:
            raise DriverError("move_to was interrupted by stop() before the Franka reached "
                              f"{np.round(targets, 3).tolist()}")
        if not finished:
            self.stop()
            raise DriverError(f"the Franka did not reach {np.round(targets, 3).tolist()} within "
                              f"{timeout:.1f} s and was stopped; check for obstacles and the "
                              "dynamics factor")
        if not self._hand_wait(deadline):
            raise DriverError(f"the Franka Hand did not reach {gripper_opening:.3f} m within "
                              f"{timeout:.1f} s")

    def _targets(self, joint_targets) -> np.ndarray:
        targets = np.asarray(joint_targets, dtype=np.float64).reshape(-1)
        if targets.shape != (7,) or not np.all(np.isfinite(targets)):
            raise DriverError(f"the Franka needs 7 finite joint targets; got {targets}")
        if self._robot is None:
            raise self._not_connected()
        return targets

    # --- the hand -----------------------------------------------------------------------------
    def _hand(self, opening: float, force: bool = False) -> None:
        """Send the hand `opening` if it changed enough and no hand command runs; else keep it
        for later (the next command() sends it once the running one has ended)."""
        opening = float(opening)
        if not math.isfinite(opening):
            return
        target = min(max(opening, 0.0), self.max_opening)
        with self._lock:
            if self._gripper is None:
                return
            if not self._hand_finished():
                self._hand_pending = target
                return
            self._hand_pending = None
            if not force and self._hand_sent is not None and \
                    abs(target - self._hand_sent) <= self.gripper_tolerance:
                return
            reading = self._reading
            measured = reading.state.gripper_opening if reading and reading.state else None
            if measured is not None and target < measured - self.gripper_tolerance:
                # closing: squeeze whatever is in between (wide tolerances: never a "miss")
                future = self._call("commanding the hand", "grasp_async", target,
                                    self.gripper_speed, self.gripper_force, 1.0, 1.0,
                                    on_gripper=True)
            else:
                future = self._call("commanding the hand", "move_async", target,
                                    self.gripper_speed, on_gripper=True)
            self._hand_future, self._hand_sent = future, target

    def _hand_finished(self) -> bool:
        """True (and forget it) unless a hand command runs; raises the error it ended with."""
        if self._hand_future is None:
            return True
        if not self._hand_future.wait(0):
            return False
        future, self._hand_future = self._hand_future, None
        try:
            future.get()
        except Exception as error:  # noqa: BLE001
            mapped = self._map(error.with_traceback(None), "moving the hand")
        else:
            return True
        del future
        raise mapped

    def _hand_wait(self, deadline: float) -> bool:
        """Wait (until `deadline`) for the running hand command; True if none runs now."""
        with self._lock:
            future = self._hand_future
        if future is not None and not future.wait(max(0.0, deadline - time.monotonic())):
            return False
        del future
        with self._lock:
            pending = self._hand_pending
            finished = self._hand_finished()
        if finished and pending is not None:
            self._hand(pending)
        return finished

    # --- stopping -----------------------------------------------------------------------------
    def stop(self) -> None:
        try:
            with self._lock:
                robot = self._robot
                thread = self._stop_thread
                if robot is None:
                    return
                self._stopped = True
                if thread is None or not thread.is_alive():  # one stop request at a time
                    thread = threading.Thread(target=_quiet_stop, args=(robot,),
                                              name="franky-stop", daemon=True)
                    self._stop_thread = thread
                    thread.start()
                del robot
            thread.join(self.stop_timeout)
        except Exception:  # noqa: BLE001 - stop never raises
            pass

    def close(self) -> None:
        """Stop, then release the link: franky's objects are destroyed once a running hand
        command or stop request has ended (waited for up to CLOSING_TIMEOUT)."""
        self.stop()
        self._disconnect()
        self._let_go(CLOSING_TIMEOUT)


def _quiet_stop(robot) -> None:
    try:
        robot.stop()
    except Exception:  # noqa: BLE001 - a dead link: the robot stops by itself
        pass
