"""An asyncio server that can also run on a background thread: what the policy server and the
robot bridge share. A subclass implements `run(on_ready)` (serve until `self._stopping` is set,
calling `on_ready(url)` once bound) and gets `serve_forever`, `start`, `stop` and `with`."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable


class ThreadedServer:
    url: str
    thread_name = "server"

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._thread: threading.Thread | None = None

    async def run(self, on_ready: Callable[[str], None] | None = None) -> None:
        raise NotImplementedError

    def _begin(self) -> asyncio.Event:
        """Call first in `run`: the event that `stop()` sets, on this loop."""
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        return self._stopping

    def serve_forever(self, on_ready: Callable[[str], None] | None = None) -> None:
        """Serve on this thread until interrupted (KeyboardInterrupt propagates)."""
        asyncio.run(self.run(on_ready))

    def start(self, timeout: float = 10.0):
        """Serve on a daemon thread; returns once the port is bound (or raises why it failed)."""
        if self._thread is not None:
            raise RuntimeError(f"{self.thread_name} on {self.url} is already running")
        ready, failure = threading.Event(), []

        def target() -> None:
            try:
                asyncio.run(self.run(lambda _: ready.set()))
            except BaseException as exc:  # reported to start(); the thread then ends
                failure.append(exc)
                ready.set()

        self._thread = threading.Thread(target=target, name=self.thread_name, daemon=True)
        self._thread.start()
        if not ready.wait(timeout) or failure:
            self._thread = None
            raise failure[0] if failure else TimeoutError(
                f"{self.thread_name} did not start in {timeout}s")
        return self._started()

    def _started(self):
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Close the connections (code 1001), free the port and end the serving thread."""
        if self._thread is None:
            return
        if self._loop is not None and self._stopping is not None:
            self._loop.call_soon_threadsafe(self._stopping.set)
        self._thread.join(timeout)
        self._thread = None

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
