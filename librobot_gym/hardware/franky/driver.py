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
  changes by more than `gripper_tolerance`, asynchronously and one command at a time (`hand.py`
  says why).
- `read_state`: a reader thread (`reader.py`) asks franky for the arm state (`Robot.state`:
  measured `q`, `dq`, robot mode, errors, robot time) and the hand's width; `read_state` waits
  for that reading at most `read_timeout` (default 20 ms) and otherwise returns the newest
  reading it has, whose `stamp` ages while the stream is stalled. A robot in Reflex, or a fault
  not yet recovered from, raises `RobotFault`.
- `move_to`: a blocking `JointMotion` at `homing_factor` x the global factor, `join_motion` with
  the timeout (on timeout: stop, `DriverError`), and the hand's move to its opening.
- `stop`: `Robot.stop()` from a helper thread, waited for at most `stop_timeout`, so it returns
  promptly from any thread even when the link hangs; never raises. The hand finishes its own
  move (see `command`). The next `command` or `move_to` waits (up to 2 s) until the stop has
  taken effect, then starts a new motion ("Move command preempted!", what libfranka reports for
  the stopped motion, is not a fault).

Errors (`errors.py`): franky's NetworkException (and the bare "Net Exception" libfranka raises
on a dead link afterwards) -> `DriverDisconnected` (reconnect with `connect()`);
ControlException / CommandException (a reflex, a rejected motion) and a robot in Reflex ->
`RobotFault`, whose message says what franky reported and how to recover; anything else franky
raises -> `DriverError`. The driver's errors carry franky's message but no reference to franky's
objects (`calls.py`), and a dead connection's objects are destroyed by a thread once that cannot
hang (`closing.py`): a robot serves one connection at a time.

`realtime=True` (franky's default) makes libfranka refuse to run without a real-time kernel;
pass `realtime=False` to accept the jitter (simulators, a first test on a desktop).
"""

from __future__ import annotations

import contextlib
import threading
import time

import numpy as np

from librobot_gym.errors import ConfigError
from librobot_gym.hardware.driver import (
    Driver,
    DriverDisconnected,
    DriverError,
    RobotFault,
    RobotState,
    check_joint_targets,
)
from librobot_gym.hardware.franky.calls import PREEMPTED, call, scheduling_kept
from librobot_gym.hardware.franky.closing import CLOSING_TIMEOUT, Closing
from librobot_gym.hardware.franky.errors import (
    FAULT_KINDS,
    MAX_PLANNER_FAILURES,
    RECOVERY_HINT,
    broken_link,
    connect_error,
    faulted,
    planner_failed,
)
from librobot_gym.hardware.franky.hand import FrankaHand
from librobot_gym.hardware.franky.reader import StateReader
from librobot_gym.robots import RobotSpec

FRANKA_ROBOTS = ("franka_panda", "franka_fr3")
STOP_SETTLE = 2.0  # s a motion after stop() waits for the stop to take effect


def import_franky():
    """The franky module, or a ConfigError saying how to install it."""
    try:
        import franky
    except ImportError as error:
        raise ConfigError("the Franka driver needs franky (libfranka's Python wrapper): "
                          "pip install 'librobot-gym[real]' (or pip install franky-control); "
                          f"importing it failed: {error}") from error
    return franky


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
        self.read_timeout, self.stop_timeout = float(read_timeout), float(stop_timeout)
        self._franky = None
        self._robot = None  # franky.Robot while connected
        self._reader: StateReader | None = None
        self._lock = threading.RLock()  # connect/close and the hand bookkeeping
        self._hand = FrankaHand(
            self._lock, self._map, self._measured_opening, speed=float(gripper_speed),
            force=float(gripper_force), tolerance=float(gripper_tolerance),
            max_opening=robot.gripper.max_opening if robot.gripper is not None else 0.0)
        self._stop_thread: threading.Thread | None = None
        self._stopped = False  # stop() ran since the last motion started
        self._closing = Closing()  # threads still holding old franky objects
        self._fault: str | None = None  # a RobotFault seen and not yet recovered from
        self.planner_failures = 0  # streamed targets Ruckig could not plan, in a row

    # --- calling franky -----------------------------------------------------------------------
    def _call(self, doing: str, method: str, *args, benign: bool = False):
        """`Robot.method(*args)`; franky's errors become the driver's (`calls.call`). `benign`:
        a "Move command preempted!" (our own stop()) returns `PREEMPTED` instead of raising."""
        if self._robot is None:
            raise self._not_connected()
        return call(self._robot, method, args, doing, self._map, benign)

    def _not_connected(self) -> DriverDisconnected:
        return DriverDisconnected(f"the Franka at {self.host} is not connected; call "
                                  "connect()")

    def _map(self, error: BaseException, doing: str) -> DriverError:
        """franky's exception -> the driver's (keeping only its text), dropping a dead link."""
        kind = type(error).__name__
        if broken_link(error):
            self._disconnect()
            return DriverDisconnected(f"lost the link to the Franka at {self.host} while "
                                      f"{doing}: franky reported {kind}: {error}. The robot "
                                      "stops by itself; check the network and the robot, then "
                                      "connect() again")
        if kind in FAULT_KINDS:
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
                    if self._fault is not None or faulted(state):
                        self.recover()
                    return
            self._await_closing()
            franky = self._franky = import_franky()
            config = franky.RealtimeConfig.Enforce if self.enforce_realtime else \
                franky.RealtimeConfig.Ignore
            gripper = None
            try:
                with scheduling_kept():
                    self._robot = franky.Robot(self.host, realtime_config=config,
                                               relative_dynamics_factor=self.dynamics_factor)
                    if self.use_gripper:
                        gripper = franky.Gripper(self.host)
            except Exception as error:  # noqa: BLE001
                mapped = connect_error(error, "the Franka Hand" if self._robot else "the arm",
                                       self.host)
                self._robot = gripper = None
            else:
                mapped = None
            if mapped is not None:
                raise mapped
            self._fault, self._stopped = None, False
            self._hand.attach(gripper)
            self._reader = reader = StateReader(self.host)
            reader.start(self._robot, gripper, self._hand.running)
            del gripper
            try:
                state = self._sample(timeout=5.0)  # the first reading, so there always is one
            except DriverError:
                self._disconnect()
                raise
            if faulted(state):  # e.g. a reflex from before: franky's automatic recovery
                self.recover()

    def _await_closing(self) -> None:
        """Wait until the objects of the last connection are gone: the robot serves one
        connection at a time, and franky would otherwise wait for the old one to close."""
        if not self._closing.wait(CLOSING_TIMEOUT):
            raise DriverDisconnected(f"the last connection to the Franka at {self.host} is still "
                                     f"closing after {CLOSING_TIMEOUT:.0f} s (a hand command or "
                                     "a stop request has not ended); try connect() again later")

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
        reader = self._reader
        if reader is not None:
            reader.forget()  # the readings so far predate the recovery
            self.read_state(timeout=1.0)  # RobotFault if the robot still reports one

    def _disconnect(self) -> None:
        """Forget the Robot and Gripper (`connect()` makes new ones); a thread lets them go
        once their hand command and stop request have ended (`closing.py`)."""
        with self._lock:
            reader, self._reader = self._reader, None
            if reader is not None:
                reader.halt()
            gripper, future = self._hand.release()
            objects = [self._robot, gripper, future]
            stopping = self._stop_thread
            self._robot = gripper = None
            if objects[0] is None and objects[1] is None:
                return
            self._closing.let_go_later(objects, future, stopping, reader)

    # --- state --------------------------------------------------------------------------------
    def _measured_opening(self) -> float | None:
        reader = self._reader
        return reader.opening if reader is not None else None

    def _sample(self, timeout: float) -> RobotState:
        """The newest reading, taken after this call if one comes within `timeout` (else the
        last one, older); raises what the reader hit."""
        reader = self._reader
        if self._robot is None or reader is None:
            raise self._not_connected()
        state, error, doing = reader.sample(timeout)
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
        if faulted(state):
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
            if not planner_failed(error) or self.planner_failures + 1 >= MAX_PLANNER_FAILURES:
                raise
            self.planner_failures += 1
        if self._call(doing, "move", make_motion(), True, benign=True) is PREEMPTED:
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
        targets = self._targets(joint_targets, gripper_opening)
        self._move(lambda: self._franky.JointMotion(targets, return_when_finished=False),
                   "streaming joint targets")
        self._hand.send(gripper_opening)

    def move_to(self, joint_pos: np.ndarray, gripper_opening: float, timeout: float) -> None:
        targets = self._targets(joint_pos, gripper_opening)
        deadline = time.monotonic() + float(timeout)
        self._move(lambda: self._franky.JointMotion(
            targets, relative_dynamics_factor=self.homing_factor), "moving to a posture")
        self._hand.wait(deadline)  # a running hand command first (commands are serialised)
        self._hand.send(gripper_opening, force=True)
        finished = self._call("moving to a posture", "join_motion",
                              max(0.0, deadline - time.monotonic()), benign=True)
        if finished is PREEMPTED:
            raise DriverError("move_to was interrupted by stop() before the Franka reached "
                              f"{np.round(targets, 3).tolist()}")
        if not finished:
            self.stop()
            raise DriverError(f"the Franka did not reach {np.round(targets, 3).tolist()} within "
                              f"{timeout:.1f} s and was stopped; check for obstacles and the "
                              "dynamics factor")
        if not self._hand.wait(deadline):
            raise DriverError(f"the Franka Hand did not reach {gripper_opening:.3f} m within "
                              f"{timeout:.1f} s")

    def _targets(self, joint_targets, gripper_opening: float) -> np.ndarray:
        """The targets, refused (`LimitViolation`) unless finite and inside the Franka's joint
        limits and the hand's range: libfranka would reject them mid-motion as a reflex."""
        targets, _ = check_joint_targets(self.robot, joint_targets, gripper_opening,
                                         f"the Franka at {self.host}")
        if self._robot is None:
            raise self._not_connected()
        return targets

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
                    thread.start()
                    self._stop_thread = thread  # readers outside the lock join started ones
                del robot
            thread.join(self.stop_timeout)
        except Exception:  # noqa: BLE001 - stop never raises
            pass

    def close(self) -> None:
        """Stop, then release the link: franky's objects are destroyed once a running hand
        command or stop request has ended (waited for up to CLOSING_TIMEOUT)."""
        self.stop()
        self._disconnect()
        self._closing.wait(CLOSING_TIMEOUT)


def _quiet_stop(robot) -> None:
    try:
        robot.stop()
    except Exception:  # noqa: BLE001 - a dead link: the robot stops by itself
        pass
