"""The emulated UR controller's state, without its sockets: robot and safety modes, the program's
runtime state, the general purpose registers, the arm (`arm.ArmMotion`), the gripper, the clock,
and the faults a person or the safety system brings about.

Everything changes under `lock`, in the controller's 2 ms ticks (`tick`) or when a client's
request arrives (RTDE inputs, dashboard commands, a program on the script port). Real time: a
thread ticks every 2 ms of `time.monotonic()`. Lockstep: ticks happen only in `advance(dt)`,
so simulated time stands still between steps and every run of the same requests is the same;
a command a client waits for (a blocking stop) runs the ticks it needs at once.

Safety reactions, as the e-Series controller's (stop categories per ISO 10218):
- protective stop (category 2): the arm decelerates at `STOP_DECELERATION`, the program stops;
  it may be unlocked `protective_stop_wait` s after it happened (5 s on a real controller).
- emergency stop (category 1): decelerate, then power off (brakes on); the button must be
  released before the arm may be powered on again.
- safety-limit violation (category 0): the arm stops at once and powers off, the safety mode
  is VIOLATION until the safety system is restarted (dashboard `restart safety`). The emulator
  checks its safety joint limits (`safety_limits`, narrower than the joints' if set) every tick.
- the program stopped from the pendant (or the dashboard's `stop`): category 2, power stays on.
"""

from __future__ import annotations

import threading
import time

import numpy as np

from librobot_gym.hardware.rtde.arm import TICK, ArmMotion
from librobot_gym.hardware.rtde.modes import (
    RobotMode,
    RobotStatus,
    RuntimeState,
    SafetyMode,
    safety_status_bits,
)

STOP_DECELERATION = 15.0  # rad/s^2 of a protective or program stop
EMERGENCY_DECELERATION = 25.0  # rad/s^2 of an emergency stop, before the brakes
POWER_ON_TIME = 0.5  # s from "power on" to IDLE (a real arm takes a few seconds)
BRAKE_RELEASE_TIME = 0.3  # s from "brake release" to RUNNING
CONTROLLER_VERSION = (5, 15, 0, 12345)  # PolyScope 5.15: answers ur_rtde's version checks
SERIAL_NUMBER = "20205500001"
ROBOT_MODEL = "UR5"  # what a UR5e's dashboard server says to `get robot model`


class Controller:
    """One controller and its arm, at `home` (rad), powered off (as after boot) unless
    `powered`. `lockstep`: time passes only in `advance` (module doc)."""

    def __init__(self, home, lower, upper, lockstep: bool = False, powered: bool = True,
                 protective_stop_wait: float = 5.0, safety_limits=None):
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)  # notified after each tick
        self.lockstep = lockstep
        self.arm = ArmMotion(home, lower, upper)
        self.home = np.array(home, dtype=np.float64)
        limits = (lower, upper) if safety_limits is None else safety_limits
        self.safety_lower, self.safety_upper = (np.asarray(v, float) for v in limits)
        self.protective_stop_wait = float(protective_stop_wait)
        self.robot_mode = RobotMode.RUNNING if powered else RobotMode.POWER_OFF
        self.safety_mode = SafetyMode.NORMAL
        self.runtime_state = RuntimeState.STOPPED
        self.estop_pressed = False
        self.remote_control = True
        self.speed_scaling = 1.0
        self.input_int, self.input_double = [0] * 48, [0.0] * 48
        self.output_int, self.output_double = [0] * 48, [0.0] * 48
        self.program = None  # the running program's interpreter (program.py)
        self.program_name = "<unnamed>"
        self.messages: list[str] = []  # what the controller logged (the pendant's log)
        self.unsupported: list[str] = []  # control script commands the emulator refused
        self.gripper = None  # a RobotiqGripperModel the emulator attaches
        self.ticks = 0
        self.generation = 0  # counts tick batches and restarts: publishers send on a change
        self.commands_handled = 0  # commands (non-zero) the running program took, ever
        self._epoch = time.monotonic()
        self._transition: tuple[float, RobotMode] | None = None  # power on / brake release
        self._brake_when_stopped = False  # an emergency stop: power off once at rest
        self._injected: list = []  # lockstep: faults that happen at the next tick
        self.protective_stop_at: float | None = None
        self.fault_at: dict[str, float] = {}  # fault name -> controller time it happened
        self._thread: threading.Thread | None = None
        self._running = False

    # --- the clock -----------------------------------------------------------------------------
    def now(self) -> float:
        """Controller time (s): ticks x 2 ms; RTDE's `timestamp`."""
        return self.ticks * TICK

    @property
    def epoch(self) -> float:
        return self._epoch

    def advance(self, dt: float) -> None:
        """Lockstep: let `dt` seconds pass (in 2 ms ticks)."""
        if not self.lockstep:
            raise RuntimeError("advance() is for a lockstep controller; this one runs in real "
                               "time")
        with self.lock:
            self.tick(int(round(dt / TICK)))

    def start(self) -> None:
        """Real time: tick every 2 ms in a thread (lockstep: nothing to start)."""
        if self.lockstep or self._thread is not None:
            return
        self._running = True
        self._epoch = time.monotonic() - self.now()
        self._thread = threading.Thread(target=self._run, name="ur-controller", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._running = False
        if self._thread is not None:
            self._thread.join(timeout=2.0)
            self._thread = None

    def _run(self) -> None:
        while self._running:
            due = int((time.monotonic() - self._epoch) / TICK)
            with self.lock:
                if due > self.ticks:
                    self.tick(min(due - self.ticks, 50))  # never more than 0.1 s at once
                wake = self._epoch + (self.ticks + 1) * TICK
            time.sleep(max(wake - time.monotonic(), 0.0002))  # until the next tick is due

    # --- one tick ------------------------------------------------------------------------------
    def tick(self, count: int = 1) -> None:
        """Advance `count` ticks (lock held by the caller or taken here)."""
        with self.lock:
            for _ in range(count):
                self.ticks += 1
                injected, self._injected = self._injected, []
                for fault in injected:
                    fault()
                if self.robot_mode == RobotMode.RUNNING:
                    self.arm.tick()
                elif self.arm.moving:  # powered down while moving: the brakes hold it
                    self.arm.halt()
                if self._brake_when_stopped and not self.arm.moving:
                    self._brake_when_stopped = False
                    self.arm.halt()
                    self.robot_mode, self._transition = RobotMode.POWER_OFF, None
                if self.gripper is not None:
                    self.gripper.tick(TICK)
                self._transitions()
                self._check_safety_limits()
                if self.program is not None:
                    self.program.tick()
            self.generation += 1
            self.changed.notify_all()

    def touch(self) -> None:
        """The state changed outside a tick (a request, a fault): publishers send it now."""
        with self.lock:
            self.generation += 1
            self.changed.notify_all()

    def inject(self, fault) -> None:
        """Make `fault()` happen: at once in real time; in lockstep at the next tick, so it
        happens inside the next control period, as the env's next step sees it."""
        with self.lock:
            if self.lockstep:
                self._injected.append(fault)
            else:
                fault()
                self.touch()

    def command_handled(self) -> None:
        """The program took a command (lock held): wake `wait_commands`."""
        self.commands_handled += 1
        self.changed.notify_all()

    def wait_commands(self, count: int, timeout: float = 1.0) -> bool:
        """Wait until `commands_handled` reaches `count`: how a lockstep host knows its command
        took effect before it lets time pass."""
        with self.changed:
            return self.changed.wait_for(lambda: self.commands_handled >= count, timeout)

    def run_until(self, finished, limit: float = 30.0) -> bool:
        """Lockstep: tick until `finished()` (a blocking command's end) or `limit` s of
        controller time; real time: nothing (the thread ticks). True if finished."""
        if not self.lockstep:
            return finished()
        with self.lock:
            for _ in range(int(limit / TICK)):
                if finished():
                    return True
                self.tick()
            return finished()

    def _transitions(self) -> None:
        if self._transition and self.now() >= self._transition[0]:
            self.robot_mode, self._transition = self._transition[1], None

    def _check_safety_limits(self) -> None:
        if self.safety_mode != SafetyMode.NORMAL or self.robot_mode != RobotMode.RUNNING:
            return
        q = self.arm.q
        outside = (q < self.safety_lower - 1e-9) | (q > self.safety_upper + 1e-9)
        if outside.any():
            joints = [i for i, bad in enumerate(outside) if bad]
            self.violate_safety_limit(f"joint position limit violated on joint(s) {joints}")

    # --- what RTDE publishes -----------------------------------------------------------------
    @property
    def robot_status_bits(self) -> int:
        bits = RobotStatus(0)
        if self.robot_mode in (RobotMode.POWER_ON, RobotMode.IDLE, RobotMode.RUNNING):
            bits |= RobotStatus.POWER_ON
        if self.runtime_state == RuntimeState.PLAYING:
            bits |= RobotStatus.PROGRAM_RUNNING
        return int(bits)

    @property
    def safety_status_bits(self) -> int:
        return safety_status_bits(self.safety_mode)

    def program_running(self) -> bool:
        return self.runtime_state == RuntimeState.PLAYING

    # --- programs ------------------------------------------------------------------------------
    def start_program(self, interpreter, name: str = "<unnamed>") -> str | None:
        """Run `interpreter` (replacing a running program); the reason if it cannot start."""
        with self.lock:
            why = self.cannot_run()
            if why:
                self.log(f"program not started: {why}")
                return why
            if self.program is not None:
                self.program.end()
            self.program, self.program_name = interpreter, name
            self.runtime_state = RuntimeState.PLAYING
            interpreter.begin(self)
            return None

    def cannot_run(self) -> str | None:
        if self.estop_pressed or self.safety_mode in (SafetyMode.ROBOT_EMERGENCY_STOP,
                                                      SafetyMode.SYSTEM_EMERGENCY_STOP):
            return "the emergency stop is pressed"
        if self.safety_mode != SafetyMode.NORMAL:
            return f"the safety mode is {self.safety_mode.name}"
        if self.robot_mode != RobotMode.RUNNING:
            return f"the robot mode is {self.robot_mode.name} (power on, release the brakes)"
        return None

    def stop_program(self, why: str, deceleration: float = STOP_DECELERATION) -> None:
        """End the running program; the arm decelerates to rest (category 2)."""
        with self.lock:
            if self.program is not None:
                self.program.end()
                self.program = None
                self.log(f"program stopped: {why}")
            self.runtime_state = RuntimeState.STOPPED
            if self.arm.mode != "idle" or self.arm.moving:
                self.arm.stop(deceleration)

    def log(self, message: str) -> None:
        self.messages.append(f"{self.now():.3f} {message}")

    # --- power, brakes, safety (the dashboard and the pendant) ---------------------------------
    def power_on(self) -> str | None:
        with self.lock:
            if self.estop_pressed:
                return "the emergency stop is pressed"
            if self.safety_mode != SafetyMode.NORMAL:
                return f"the safety mode is {self.safety_mode.name}"
            if self.robot_mode == RobotMode.POWER_OFF:
                self.robot_mode = RobotMode.POWER_ON
                self._transition = (self.now() + POWER_ON_TIME, RobotMode.IDLE)
            return None

    def power_off(self) -> None:
        with self.lock:
            self._brake_when_stopped = False
            self.stop_program("power off", deceleration=EMERGENCY_DECELERATION)
            self.arm.halt()
            self.robot_mode, self._transition = RobotMode.POWER_OFF, None

    def brake_release(self) -> str | None:
        with self.lock:
            if self.robot_mode == RobotMode.RUNNING:
                return None
            if self.robot_mode not in (RobotMode.IDLE, RobotMode.POWER_ON):
                return f"the robot mode is {self.robot_mode.name}; power it on first"
            target = self._transition[0] if self._transition else self.now()
            self._transition = (target + BRAKE_RELEASE_TIME, RobotMode.RUNNING)
            return None

    def unlock_protective_stop(self) -> str | None:
        """None when unlocked; the reason it cannot be yet otherwise."""
        with self.lock:
            if self.safety_mode != SafetyMode.PROTECTIVE_STOP:
                return None
            waited = self.now() - (self.protective_stop_at or 0.0)
            if waited < self.protective_stop_wait:
                return (f"Cannot unlock protective stop until {self.protective_stop_wait:g}s "
                        "after occurrence. Always inspect cause of protective stop before "
                        "unlocking")
            self.safety_mode, self.protective_stop_at = SafetyMode.NORMAL, None
            self.log("protective stop unlocked")
            return None

    def restart_safety(self) -> None:
        """The safety system restarts: a violation or fault clears, the arm is powered off."""
        with self.lock:
            if self.safety_mode in (SafetyMode.VIOLATION, SafetyMode.FAULT):
                self.safety_mode = SafetyMode.NORMAL
            self.arm.halt()
            self.robot_mode, self._transition = RobotMode.POWER_OFF, None
            self.runtime_state = RuntimeState.STOPPED

    # --- faults --------------------------------------------------------------------------------
    def protective_stop(self, cause: str = "protective stop") -> None:
        with self.lock:
            self.safety_mode = SafetyMode.PROTECTIVE_STOP
            self.protective_stop_at = self.fault_at["protective_stop"] = self.now()
            self.log(f"protective stop: {cause}")
            self.stop_program(cause)

    def emergency_stop(self) -> None:
        """The emergency stop button is pressed: category 1, then power off."""
        with self.lock:
            self.estop_pressed = True
            self.safety_mode = SafetyMode.ROBOT_EMERGENCY_STOP
            self.fault_at["emergency_stop"] = self.now()
            self.log("emergency stop pressed")
            self.stop_program("emergency stop", deceleration=EMERGENCY_DECELERATION)
            self._brake_when_stopped = True  # category 1: decelerate, then power off

    def release_emergency_stop(self) -> None:
        """The person at the robot twists the button free; the arm stays powered off."""
        with self.lock:
            self.estop_pressed = False
            if self.safety_mode in (SafetyMode.ROBOT_EMERGENCY_STOP,
                                    SafetyMode.SYSTEM_EMERGENCY_STOP):
                self.safety_mode = SafetyMode.NORMAL

    def violate_safety_limit(self, cause: str = "safety limit violated") -> None:
        """Category 0: stop at once, power off, VIOLATION until the safety system restarts."""
        with self.lock:
            self.safety_mode = SafetyMode.VIOLATION
            self.fault_at["violation"] = self.now()
            self.log(f"safety violation: {cause}")
            self.stop_program(cause)
            self.arm.halt()
            self.robot_mode, self._transition = RobotMode.POWER_OFF, None

    def restart(self, q) -> None:
        """Lockstep episodes: back to time 0, the arm at rest at `q`, the gripper open; modes,
        faults and the running program stay as they are."""
        with self.lock:
            if self.protective_stop_at is not None:  # the wait goes on from where it was
                self.protective_stop_at -= self.now()
            self.ticks = 0
            self.arm.reset(q)
            if self.gripper is not None:
                self.gripper.restart()
            if self.program is not None:
                self.program.restart()
            self.generation += 1
            self.changed.notify_all()
