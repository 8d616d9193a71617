"""The UR controller emulator in a process of its own, and its handle here.

ur_rtde's calls hold the Python interpreter's lock while they wait for the controller (its
constructors, `servoJ` waiting for the control script's "ready"), so the emulator's servers
cannot run in the client's process: `EmulatorProcess` starts `python -m
librobot_gym.hardware.rtde.emulator_process` and talks to it over a socket pair with pickled
(method, arguments) calls, each answered with its result or the error it raised. Every public
method of `URControllerEmulator` (the faults, `advance`, `restart`, `state`) is one call
(`handle.protective_stop()`). The child exits when its parent does or the pair closes.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from multiprocessing.connection import Connection

from librobot_gym.errors import LibrobotError

START_TIMEOUT = 30.0  # s for the child to import, bind its ports and say where
CALLS = frozenset({
    "now", "epoch", "generation", "advance", "restart", "commands_handled", "wait_commands",
    "protective_stop", "emergency_stop", "release_emergency_stop", "violate_safety_limit",
    "stop_program", "set_remote_control", "drop_connections", "allow_connections",
    "delay_packages", "drop_packages", "state", "program_text",
})


class EmulatorError(LibrobotError, RuntimeError):
    """The emulator process did not start, died, or a call into it failed."""


class EmulatorProcess:
    """A `URControllerEmulator` in a child process (module doc); `host` is its address.
    `options` go to the emulator (home, lower, upper, lockstep, protective_stop_wait,
    safety_limits, gripper_activation)."""

    def __init__(self, **options):
        self.options = {k: (list(map(float, v)) if k in ("home", "lower", "upper") else v)
                        for k, v in options.items()}
        self.lockstep = bool(options.get("lockstep", False))
        self.host = ""
        self.process: subprocess.Popen | None = None
        self._conn: Connection | None = None
        self._lock = threading.Lock()

    def start(self) -> EmulatorProcess:
        if self.alive:
            return self
        ours, theirs = socket.socketpair()
        env = dict(os.environ)
        here = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [here, env.get("PYTHONPATH")]))
        self.process = subprocess.Popen(
            [sys.executable, "-m", "librobot_gym.hardware.rtde.emulator_process",
             str(theirs.fileno()), json.dumps(self.options)],
            pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL, env=env,
            start_new_session=True)
        theirs.close()
        self._conn = Connection(ours.detach())
        if not self._conn.poll(START_TIMEOUT):
            self.stop()
            raise EmulatorError(f"the UR controller emulator did not start within "
                                f"{START_TIMEOUT:.0f} s")
        kind, value = self._conn.recv()
        if kind != "ready":
            self.stop()
            raise EmulatorError(f"the UR controller emulator failed to start: {value}")
        self.host = value
        return self

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def call(self, method: str, *args, **kwargs):
        if method not in CALLS:
            raise EmulatorError(f"the emulator has no call {method!r}")
        with self._lock:
            if self._conn is None or not self.alive:
                raise EmulatorError("the UR controller emulator is not running")
            try:
                self._conn.send((method, args, kwargs))
                ok, value = self._conn.recv()
            except (EOFError, OSError) as error:
                raise EmulatorError(f"the UR controller emulator went away during "
                                    f"{method}(): {error}") from error
        if not ok:
            raise EmulatorError(f"emulator {method}() failed: {value}")
        return value

    def __getattr__(self, name: str):
        if name in CALLS:
            return lambda *args, **kwargs: self.call(name, *args, **kwargs)
        raise AttributeError(name)

    def stop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()  # the child sees EOF and exits
        if self.process is not None:
            try:
                self.process.wait(timeout=5.0)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5.0)
        self.host = ""

    def __enter__(self) -> EmulatorProcess:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()


def main(fd: int, options: dict) -> None:
    """The child: start the emulator, say where it listens, then serve calls until EOF."""
    from librobot_gym.hardware.rtde.emulator import URControllerEmulator

    conn = Connection(fd)
    parent = os.getppid()

    def orphaned() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=orphaned, daemon=True).start()
    try:
        emulator = URControllerEmulator(**options).start()
    except Exception as error:  # noqa: BLE001 - reported to the parent
        conn.send(("error", repr(error)))
        return
    conn.send(("ready", emulator.host))
    try:
        while True:
            try:
                method, args, kwargs = conn.recv()
            except (EOFError, OSError):
                return
            try:
                conn.send((True, getattr(emulator, method)(*args, **kwargs)))
            except Exception as error:  # noqa: BLE001 - reported to the parent
                conn.send((False, repr(error)))
    finally:
        emulator.stop()


if __name__ == "__main__":
    main(int(sys.argv[1]), json.loads(sys.argv[2]))
