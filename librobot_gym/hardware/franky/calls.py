"""How the Franka driver calls franky: with the calling thread's scheduling kept, and franky's
exceptions turned into the driver's without a reference to franky's objects.

Two things every call into franky needs, whichever object (Robot, Gripper) it goes to:

- libfranka raises the thread that creates a Robot (or runs a motion) to SCHED_FIFO priority 99
  wherever it may (as root, or with CAP_SYS_NICE), and leaves it there: the env's thread would
  then run physics, rendering and the policy at real-time priority and starve every other
  process. `scheduling_kept()` puts the policy back. (franky's 1 kHz control loop runs in a
  thread of its own, which keeps its priority.)
- A robot serves one connection at a time, so a dead connection's Robot/Gripper must really be
  destroyed before `connect()` can get a new one, even while the safety layer keeps the latched
  error: `call()` raises the mapped error outside the `except` (no exception chaining) and drops
  its reference to the franky object first, so no raising frame keeps one alive.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable

from librobot_gym.hardware.driver import DriverError
from librobot_gym.hardware.franky.errors import preempted

PREEMPTED = object()  # what call() returns for our own stop()'s "Move command preempted!"


@contextlib.contextmanager
def scheduling_kept():
    """Put the calling thread's scheduling policy back after a franky call (module doc)."""
    policy, param = os.sched_getscheduler(0), os.sched_getparam(0)
    try:
        yield
    finally:
        if os.sched_getscheduler(0) != policy:
            with contextlib.suppress(OSError):
                os.sched_setscheduler(0, policy, param)


def call(target, method: str, args: tuple, doing: str,
         map_error: Callable[[BaseException, str], DriverError], benign: bool = False):
    """`target.method(*args)` with the scheduling kept; franky's error becomes
    `map_error(error, doing)`, raised from here without a reference to `target` (module doc).
    `benign`: a "Move command preempted!" (our own stop()) returns `PREEMPTED` instead."""
    try:
        with scheduling_kept():
            return getattr(target, method)(*args)
    except Exception as error:  # noqa: BLE001 - every franky failure is mapped
        if benign and preempted(error):
            return PREEMPTED
        mapped = map_error(error, doing)
    del target
    raise mapped
