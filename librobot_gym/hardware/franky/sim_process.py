"""franky-sim (a libfranka-protocol server with a simulated Franka, from PyPI) as a process on a
loopback address, on ports of our choosing, for the Franka driver's tests and for rehearsing a
cell without a robot.

libfranka always connects to the arm on TCP 1337 and the hand on 1338 (fixed in libfranka's
research interface and in franky-sim; no option moves them). To put a fault proxy
(`fault_proxy.py`) on those ports, `FrankySim(port=N)` runs franky-sim's own `main()`
with its two hard-coded ports replaced by N and N+1: same simulator, same arguments. The server
can be frozen (SIGSTOP: a stalled robot), killed (SIGKILL: a robot gone) and restarted.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

LOOPBACK = "127.0.0.1"
ROBOT_PORT = 1337  # libfranka's arm command port (fixed)
GRIPPER_PORT = 1338  # libfranka's hand command port (fixed)

# Runs franky-sim's own `main()` (what the `franky-sim` console script runs) with its fixed ports
# 1337/1338 replaced (argv[1] = the new arm port), and exits when its parent process is gone.
_SIM_LAUNCHER = """\
import os, sys, threading, time
from franky_sim import franka_server
port = int(sys.argv.pop(1))
ports = {1337: port, 1338: port + 1}
init = franka_server.FrankaServer.__init__
def patched(self, hostnames, command_port, *args, **kwargs):
    init(self, hostnames, ports.get(command_port, command_port), *args, **kwargs)
franka_server.FrankaServer.__init__ = patched
parent = os.getppid()
def orphaned():
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)
threading.Thread(target=orphaned, daemon=True).start()
from franky_sim.run_server import main
sys.argv[0] = "franky-sim"
main()
"""


def port_is_free(port: int, host: str = LOOPBACK) -> bool:
    """True if a TCP server could bind `host:port` now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def free_port_pair(host: str = LOOPBACK, tries: int = 50) -> int:
    """A port N such that TCP N and N+1 are free on `host` (franky-sim binds both)."""
    rng = random.Random()
    for _ in range(tries):
        port = rng.randrange(20000, 60000)
        if port_is_free(port, host) and port_is_free(port + 1, host):
            return port
    raise OSError(f"no two consecutive free TCP ports found on {host}")


def wait_accepting(host: str, port: int, timeout: float,
                   alive: Callable[[], bool] = lambda: True) -> bool:
    """Poll until a TCP connect to host:port succeeds (True) or `timeout` s pass / not alive."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and alive():
        try:
            socket.create_connection((host, port), timeout=0.2).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


class FrankySim:
    """A franky-sim server process on `host` (a loopback address): franky-sim's own `main()`,
    what its `franky-sim` console script runs, with the arm on `port` and the hand on
    `port + 1` (1337/1338, its fixed ports, by default; see the module doc). `simulator` is
    franky-sim's `-s` choice (its default, "auto", may pick a simulator that does not start on a
    given machine; "mujoco" does). Output goes to `log_path`. The server exits by itself when
    this process ends."""

    def __init__(self, port: int = ROBOT_PORT, simulator: str = "mujoco", host: str = LOOPBACK,
                 log_path: str | os.PathLike | None = None):
        self.port, self.simulator, self.host = int(port), simulator, host
        if log_path is None:
            handle, log_path = tempfile.mkstemp(prefix="franky-sim-", suffix=".log")
            os.close(handle)
        self.log_path = Path(log_path)
        self.process: subprocess.Popen | None = None
        self.frozen = False

    def command(self) -> list[str]:
        """franky-sim's `main()` (the `franky-sim` console script), ports moved if asked."""
        return [sys.executable, "-c", _SIM_LAUNCHER, str(self.port),
                "-s", self.simulator, "--hostname", self.host]

    def start(self, timeout: float = 60.0) -> None:
        """Start the server and wait until its arm port accepts; RuntimeError if it does not."""
        if self.alive:
            return
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL,
                                            stdout=log, stderr=subprocess.STDOUT,
                                            start_new_session=True)
        self.frozen = False
        if not wait_accepting(self.host, self.port, timeout, lambda: self.alive):
            tail = self.log_tail()
            self.stop()
            raise RuntimeError(f"franky-sim did not accept on {self.host}:{self.port} within "
                               f"{timeout:.0f} s; its output ends with:\n{tail}")

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def log_tail(self, chars: int = 2000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def _signal(self, sig: int) -> None:
        if self.alive:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(sig)

    def freeze(self) -> None:
        """SIGSTOP: the simulated robot stops answering and streaming (a stalled robot/link)."""
        self._signal(signal.SIGSTOP)
        self.frozen = True

    def thaw(self) -> None:
        """SIGCONT after `freeze()`."""
        self._signal(signal.SIGCONT)
        self.frozen = False

    def kill(self) -> None:
        """SIGKILL: the robot disappears at once (no goodbye on any socket)."""
        if self.alive:
            self._signal(signal.SIGKILL)
            self.process.wait(timeout=10)
        self.frozen = False

    def stop(self, timeout: float = 5.0) -> None:
        """SIGTERM (after SIGCONT if frozen), then SIGKILL if it is still there after `timeout`."""
        if not self.alive:
            return
        self._signal(signal.SIGCONT)
        self._signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self._signal(signal.SIGKILL)
            self.process.wait(timeout=10)
        self.frozen = False

    def restart(self, timeout: float = 60.0) -> None:
        self.stop()
        self.start(timeout)

    def __enter__(self) -> FrankySim:
        self.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()
