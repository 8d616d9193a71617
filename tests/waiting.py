"""Bounded waiting for things that happen on other threads (watchdogs, emulators, links)."""

import time


def wait_until(predicate, timeout: float = 2.0, period: float = 0.002) -> bool:
    """Poll `predicate` until it is true (True) or `timeout` s have passed (its last value)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(period)
    return bool(predicate())
