"""The Franka Hand's side of the Franka driver: its asynchronous commands, one at a time.

The hand moves only when its target changes by more than `tolerance`, asynchronously:
`move_async` to open, `grasp_async` with wide tolerances to close (so it keeps squeezing a
grasped object and never reports a "miss"). One command at a time, because franky 2.0 waits
for the running hand command before it starts another, and destroying a Gripper waits for its
running command, both while holding the Python GIL (and franky-sim never answers a command a
newer one replaced: the process hangs). So a newer target waits (`pending`) until the running
command has ended, and the driver lets a Gripper go only once its command has ended
(`release()` hands both over).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

from librobot_gym.hardware.driver import DriverError
from librobot_gym.hardware.franky.calls import call


class FrankaHand:
    """The hand's command in flight and the target waiting for it, for one driver.

    `lock`: the driver's lock (connect/close and this bookkeeping); `map_error`: the driver's
    mapping of franky's exceptions; `measured()`: the hand's opening in the newest reading (None
    before the first). `speed` (m/s), `force` (N, when closing), `tolerance` (m: smaller target
    changes are not sent), `max_opening` (m: targets are clipped to [0, max_opening]).
    """

    def __init__(self, lock: threading.RLock,
                 map_error: Callable[[BaseException, str], DriverError],
                 measured: Callable[[], float | None], *, speed: float, force: float,
                 tolerance: float, max_opening: float):
        self.lock, self.map_error, self.measured = lock, map_error, measured
        self.speed, self.force, self.tolerance = speed, force, tolerance
        self.max_opening = max_opening
        self.gripper = None  # franky.Gripper while connected (and asked for)
        self.future = None  # the running command's franky future
        self.sent: float | None = None  # the last target sent
        self.pending: float | None = None  # the target waiting for the running command

    def attach(self, gripper) -> None:
        """Command `gripper` (a new connection's franky.Gripper, or None: no hand)."""
        with self.lock:
            self.gripper = gripper
            self.future = self.sent = self.pending = None

    def release(self) -> tuple:
        """Forget the Gripper and its running command; returns them (gripper, future) for the
        driver to let go of once the command has ended."""
        with self.lock:
            gripper, future = self.gripper, self.future
            self.gripper = self.future = self.sent = self.pending = None
            return gripper, future

    def running(self) -> bool:
        """Whether a hand command runs (or has ended unnoticed)."""
        return self.future is not None

    def send(self, opening: float, force: bool = False) -> None:
        """Send the hand `opening` if it changed enough and no hand command runs; else keep it
        for later (the next `send` or `wait` sends it once the running one has ended). `force`:
        send it even if it is the last target sent."""
        opening = float(opening)
        if not math.isfinite(opening):
            return
        target = min(max(opening, 0.0), self.max_opening)
        with self.lock:
            if self.gripper is None:
                return
            if not self.finished():
                self.pending = target
                return
            self.pending = None
            if not force and self.sent is not None and \
                    abs(target - self.sent) <= self.tolerance:
                return
            measured = self.measured()
            if measured is not None and target < measured - self.tolerance:
                # closing: squeeze whatever is in between (wide tolerances: never a "miss")
                future = call(self.gripper, "grasp_async",
                              (target, self.speed, self.force, 1.0, 1.0),
                              "commanding the hand", self.map_error)
            else:
                future = call(self.gripper, "move_async", (target, self.speed),
                              "commanding the hand", self.map_error)
            self.future, self.sent = future, target

    def finished(self) -> bool:
        """True (and forget it) unless a hand command runs; raises the error it ended with."""
        if self.future is None:
            return True
        if not self.future.wait(0):
            return False
        future, self.future = self.future, None
        try:
            future.get()
        except Exception as error:  # noqa: BLE001
            mapped = self.map_error(error.with_traceback(None), "moving the hand")
        else:
            return True
        del future
        raise mapped

    def wait(self, deadline: float) -> bool:
        """Wait (until `deadline`, monotonic) for the running hand command; True if none runs
        now (a target kept for later is sent then)."""
        with self.lock:
            future = self.future
        if future is not None and not future.wait(max(0.0, deadline - time.monotonic())):
            return False
        del future
        with self.lock:
            pending = self.pending
            finished = self.finished()
        if finished and pending is not None:
            self.send(pending)
        return finished
