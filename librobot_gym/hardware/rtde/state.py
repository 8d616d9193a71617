"""What the UR driver makes of the RTDE state: the fields it streams, the clock that stamps
them on our time, and the controller's faults as typed errors (a pure function of the status
words, so every fault class is checked without a robot)."""

from __future__ import annotations

import math
import time

from librobot_gym.hardware.driver import DriverError
from librobot_gym.hardware.rtde.errors import (
    EmergencyStop,
    PoweredOff,
    ProgramStopped,
    ProtectiveStop,
    RTDETimeout,
    SafetyLimitViolation,
)
from librobot_gym.hardware.rtde.modes import RobotMode, RuntimeState, SafetyStatus

VARIABLES = ["timestamp", "actual_q", "actual_qd", "target_q", "robot_mode", "safety_mode",
             "safety_status_bits", "runtime_state", "robot_status_bits", "speed_scaling"]
OFFSET_WINDOW = 5.0  # s: the clock offset is the smallest over the last two windows


class ClockOffset:
    """Controller time -> our `time.monotonic()`: the smallest (ours - theirs) seen over the
    last one to two windows, i.e. the offset of the least delayed package. A stream that
    stalls then ages on our clock; a drift between the clocks is forgotten within two windows."""

    def __init__(self):
        self.best = self.previous = math.inf
        self.window_start = time.monotonic()

    def stamp(self, controller_time: float, now: float) -> float:
        if now - self.window_start > OFFSET_WINDOW:
            self.previous, self.best, self.window_start = self.best, math.inf, now
        self.best = min(self.best, now - controller_time)
        return controller_time + min(self.best, self.previous)



def controller_fault(where: str, bits: int, runtime: int, mode: int, age: float,
                     max_age: float) -> DriverError | None:
    """The typed error for the controller's state, the worst first (an emergency stop over
    the program it stopped), or None when the arm is RUNNING its program on a fresh stream."""
    status = SafetyStatus(bits)
    if status & SafetyStatus.EMERGENCY_STOPPED:
        return EmergencyStop(f"{where} is emergency-stopped: the arm stopped and powered off; "
                             "release the button, then reset")
    if status & (SafetyStatus.VIOLATION | SafetyStatus.FAULT):
        return SafetyLimitViolation(f"{where} stopped on a safety-limit violation (category 0, "
                                    "powered off); check the pendant's log for the limit, then "
                                    "reset (the safety system restarts)")
    if status & SafetyStatus.PROTECTIVE_STOPPED:
        return ProtectiveStop(f"{where} made a protective stop; inspect its cause (pendant's "
                              "log), then reset (unlocked after the controller's 5 s)")
    if mode != RobotMode.RUNNING:
        name = RobotMode(mode).name if mode in RobotMode._value2member_map_ else str(mode)
        return PoweredOff(f"{where} is in robot mode {name}, not RUNNING; reset to power it on "
                          "and release the brakes")
    if runtime != RuntimeState.PLAYING:
        name = RuntimeState(runtime).name if runtime in RuntimeState._value2member_map_ \
            else str(runtime)
        return ProgramStopped(f"{where}: the control program stopped (runtime state {name}: "
                              "the teach pendant's stop, or the RTDE watchdog); reset to upload "
                              "it again")
    if age > max_age:
        return RTDETimeout(f"the newest RTDE package from {where} is {age * 1e3:.0f} ms old "
                           f"(limit {max_age * 1e3:.0f} ms): packages arrive late or not at "
                           "all; the robot was stopped. Check the network load and cable, then "
                           "reset")
    return None
