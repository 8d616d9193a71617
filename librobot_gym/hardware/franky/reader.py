"""The Franka driver's state reader: a thread that asks franky for the arm's state and the hand's
width when `read_state` wants a reading, so that a hung link never blocks the caller.

`read_state` waits for a fresh reading at most its timeout and otherwise takes the newest one
there is. A reading's `stamp` is the `time.monotonic()` at which its robot time (libfranka's 1 ms
message counter) was first seen: while a motion runs franky answers with its control loop's
newest state, however old, so a stalled stream shows as an ageing stamp. libfranka gives up after
1 s without a state; the safety layer's watchdog sees the old stamp long before that. (A
constant latency cannot be seen this way: the stamps stay fresh, the content is late.)

The reader holds franky's Robot and Gripper only as its thread's arguments: they go when the
thread ends (after `halt()`), which the driver waits for before a new connection.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import numpy as np

from librobot_gym.hardware.driver import RobotState
from librobot_gym.hardware.franky.errors import broken_link, error_names


class StateReader:
    """The newest state the reader thread produced, and requests for fresher ones.

    The thread starts with `start(...)` and ends after `halt()` or a dead link."""

    def __init__(self, host: str):
        self.host = host
        self.cond = threading.Condition()
        self.state: RobotState | None = None
        self.error: BaseException | None = None  # franky's, without its traceback
        self.doing = ""  # what the reader was doing when it failed
        self.done = 0  # readings finished (ok or failed)
        self.wanted = False  # read_state asks for a reading
        self.busy = False  # a reading is under way (it may have started before the ask)
        self.stopping = False  # the reader should end
        self.thread: threading.Thread | None = None  # the reader

    @property
    def opening(self) -> float | None:
        """The hand's opening in the newest reading, if there is one."""
        state = self.state
        return state.gripper_opening if state is not None else None

    def start(self, robot, gripper, hand_busy: Callable[[], bool]) -> None:
        """Read `robot` and `gripper` (None: no hand) in a thread; `hand_busy()` says whether a
        hand command runs (the reading's `gripper_busy` extra)."""
        self.thread = threading.Thread(target=self._loop, args=(robot, gripper, hand_busy),
                                       name=f"franky-reader-{self.host}", daemon=True)
        self.thread.start()

    def halt(self) -> None:
        """Ask the thread to end (it does once a reading under way has finished)."""
        with self.cond:
            self.stopping = True
            self.cond.notify_all()

    def forget(self) -> None:
        """Drop the readings so far (they predate a recovery)."""
        with self.cond:
            self.error, self.state = None, None

    def sample(self, timeout: float) -> tuple[RobotState | None, BaseException | None, str]:
        """(newest reading, franky's error, what failed): the reading is taken after this call
        if one comes within `timeout`, else it is the last one (older, or None). An error that
        is not a dead link is reported once."""
        deadline = time.monotonic() + timeout
        with self.cond:
            target = self.done + (2 if self.busy else 1)
            self.wanted = True
            self.cond.notify_all()
            while self.done < target and self.error is None:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self.cond.wait(left)
            error, state, doing = self.error, self.state, self.doing
            if error is not None and not broken_link(error):
                self.error = None  # reported once
        return state, error, doing

    def _loop(self, robot, gripper, hand_busy: Callable[[], bool]) -> None:
        """Take readings when asked until halted or the link dies (one per request)."""
        seen_time, seen_at = None, 0.0  # robot time, and when it was first seen (module doc)
        while True:
            with self.cond:
                while not self.wanted and not self.stopping:
                    self.cond.wait()
                if self.stopping:
                    return
                self.wanted, self.busy = False, True
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
                            "errors": error_names(state.current_errors),
                            "control_success_rate": float(state.control_command_success_rate),
                            "gripper_busy": hand_busy()})
            except Exception as failure:  # noqa: BLE001 - handed to read_state, frames dropped
                error = failure.with_traceback(None)
            with self.cond:
                if sample is not None:
                    self.state = sample
                else:
                    self.error, self.doing = error, doing
                self.done += 1
                self.busy = False
                self.cond.notify_all()
            if error is not None and broken_link(error):
                return
