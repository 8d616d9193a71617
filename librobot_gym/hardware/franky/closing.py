"""Closing a franky connection without hanging: a thread lets go of its Robot and Gripper once
their last hand command and stop request have ended.

Destroying a Gripper whose asynchronous command still runs blocks forever with the GIL held (the
process hangs), and a Robot whose stop request is unanswered blocks until libfranka gives up. So
the driver forgets them at once and `let_go_later` destroys them in a thread when that is safe;
never, if the command never ends: a small leak instead of a hang (franky-control 2.0 and its
libfranka: a hand command whose connection dies without a TCP reset waits for its answer
forever). At interpreter exit these threads get a bounded chance to finish first: a franky
Robot torn down while the process exits can abort it ("terminate called without an active
exception").
"""

from __future__ import annotations

import atexit
import threading
import time
import weakref

from librobot_gym.hardware.franky.reader import StateReader

CLOSING_TIMEOUT = 10.0  # s connect()/close() wait for the last connection's objects to go
_CLOSING: weakref.WeakSet[threading.Thread] = weakref.WeakSet()  # of every driver


@atexit.register
def _let_go_before_exit() -> None:
    """At interpreter exit, give the threads still holding franky objects a bounded chance to
    destroy them first (module doc)."""
    deadline = time.monotonic() + CLOSING_TIMEOUT
    for thread in list(_CLOSING):
        thread.join(max(0.0, deadline - time.monotonic()))


class Closing:
    """One driver's threads that still hold an old connection's franky objects."""

    def __init__(self) -> None:
        self.threads: list[threading.Thread] = []

    def let_go_later(self, objects: list, future, stopping: threading.Thread | None,
                     reader: StateReader | None) -> None:
        """Start a thread that drops `objects` (the last references to a connection's franky
        objects) once the hand command `future` and the stop request `stopping` have ended,
        then waits for `reader`'s thread, which holds its own references."""

        def let_go(objects=objects, reader=reader) -> None:
            if future is not None:
                while not future.wait(1.0):
                    pass
            if stopping is not None:
                stopping.join()
            objects.clear()
            if reader is not None and reader.thread is not None:
                reader.thread.join()  # the reader's own references go when it ends

        thread = threading.Thread(target=let_go, name="franky-closing", daemon=True)
        self.threads.append(thread)
        _CLOSING.add(thread)
        thread.start()

    def wait(self, timeout: float) -> bool:
        """Wait up to `timeout` for the old franky objects to be destroyed; True if they are."""
        deadline = time.monotonic() + timeout
        for thread in self.threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self.threads = [thread for thread in self.threads if thread.is_alive()]
        return not self.threads
