"""The fault relay's event loop: one daemon thread around a selector, with timers and calls from
other threads. Standard library only.

Everything the relay (`faults.py`) does to its sockets happens in this one thread, so the relay
needs no locks: delayed sends are timers (`later`), and the faults a test injects from another
thread run here too (`call`), woken through a socket pair.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import selectors
import socket
import threading
import time
from collections.abc import Callable

IDLE_WAIT = 0.05  # s the loop sleeps at most when no timer is due


class SelectorLoop:
    """A selector served by one daemon thread named `name`. Register sockets on `selector`;
    `start(on_event)` then calls `on_event(key, events)` in the thread for each ready one."""

    def __init__(self, name: str):
        self.name = name
        self.selector = selectors.DefaultSelector()
        self._timers: list[tuple[float, int, Callable[[], None]]] = []
        self._seq = itertools.count()
        self._requests: list[tuple[Callable[[], None], threading.Event]] = []
        self._requests_lock = threading.Lock()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._halt = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, on_event: Callable[[selectors.SelectorKey, int], None]) -> None:
        self.selector.register(self._wake_r, selectors.EVENT_READ, None)
        self._thread = threading.Thread(target=self._run, args=(on_event,), name=self.name,
                                        daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """End the thread (waiting up to `timeout`); the selector stays open until `close()`."""
        self._halt.set()
        self._wake()
        if self._thread is not None:
            self._thread.join(timeout=timeout)

    def close(self) -> None:
        for sock in (self._wake_r, self._wake_w):
            sock.close()
        self.selector.close()

    def call(self, action: Callable[[], None], timeout: float = 5.0) -> None:
        """Run `action` in the loop's thread and wait for it."""
        done = threading.Event()
        with self._requests_lock:
            self._requests.append((action, done))
        self._wake()
        if not done.wait(timeout):
            raise TimeoutError(f"the {self.name} thread did not respond")

    def later(self, due: float, action: Callable[[], None]) -> None:
        """Run `action` in the loop's thread at `due` (time.monotonic()), or now if that has
        passed; actions due at the same time run in the order they were given. Call it from
        the loop's thread."""
        if due <= time.monotonic():
            action()
        else:
            heapq.heappush(self._timers, (due, next(self._seq), action))

    def _wake(self) -> None:
        with contextlib.suppress(OSError):
            self._wake_w.send(b"x")

    def _run(self, on_event: Callable[[selectors.SelectorKey, int], None]) -> None:
        while not self._halt.is_set():
            now = time.monotonic()
            while self._timers and self._timers[0][0] <= now:
                _, _, action = heapq.heappop(self._timers)
                action()
            wait = IDLE_WAIT if not self._timers else max(0.0, self._timers[0][0] - now)
            for key, events in self.selector.select(timeout=wait):
                if key.fileobj is self._wake_r:
                    self._drain_requests()
                else:
                    on_event(key, events)

    def _drain_requests(self) -> None:
        with contextlib.suppress(BlockingIOError):
            self._wake_r.recv(4096)
        with self._requests_lock:
            requests, self._requests = self._requests, []
        for action, done in requests:
            try:
                action()
            finally:
                done.set()
