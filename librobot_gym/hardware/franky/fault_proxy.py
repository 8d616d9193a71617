"""`FaultProxy`: the fault relay (`faults.py`) in a child process on 127.0.0.1:1337/1338,
driven from any thread of this process, and `franky_cell()`: franky-sim behind it.

The relay runs in its own process because in the test's process it would deadlock against
franky calls that block with the GIL held. The child reads one command per line on its stdin
and answers one JSON line; it exits when its stdin ends (this process closed it or died).
"""

from __future__ import annotations

import contextlib
import json
import select
import subprocess
import sys
import threading
from pathlib import Path

from librobot_gym.hardware.franky.faults import FaultRelay
from librobot_gym.hardware.franky.protocol import ERROR_NAMES
from librobot_gym.hardware.franky.sim_process import (
    GRIPPER_PORT,
    LOOPBACK,
    ROBOT_PORT,
    FrankySim,
    free_port_pair,
)

# Runs this file's proxy process without putting its folder on sys.path.
_PROXY_LAUNCHER = "import runpy, sys; runpy.run_path(sys.argv.pop(1), run_name='__main__')"


class FaultProxy:
    """`FaultRelay` in a child process (`python fault_proxy.py proxy ...`), driven over its stdin:
    the same faults, from any thread of this process. The child exits when this process closes
    it or dies (its stdin ends). `start()` raises OSError if the ports are taken."""

    def __init__(self, upstream_port: int, host: str = LOOPBACK,
                 robot_port: int = ROBOT_PORT, gripper_port: int = GRIPPER_PORT,
                 timeout: float = 10.0):
        self.host, self.upstream_port = host, int(upstream_port)
        self.robot_port, self.gripper_port = int(robot_port), int(gripper_port)
        self.timeout = float(timeout)
        self.process: subprocess.Popen | None = None
        self._lock = threading.Lock()

    def start(self) -> FaultProxy:
        self.process = subprocess.Popen(
            [sys.executable, "-c", _PROXY_LAUNCHER, str(Path(__file__).resolve()), "proxy",
             str(self.upstream_port), self.host, str(self.robot_port), str(self.gripper_port)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            start_new_session=True)
        ready = self._reply()
        if not ready.get("ready"):
            self.close()
            raise OSError(f"the fault proxy did not start: {ready.get('error', ready)}")
        return self

    def _reply(self) -> dict:
        stdout = self.process.stdout
        ready, _, _ = select.select([stdout], [], [], self.timeout)
        line = stdout.readline() if ready else b""
        if not line:
            raise OSError("the fault proxy process does not answer")
        return json.loads(line)

    def _ask(self, *words) -> dict:
        with self._lock:
            if self.process is None or self.process.poll() is not None:
                raise OSError("the fault proxy process is not running")
            self.process.stdin.write((" ".join(map(str, words)) + "\n").encode())
            self.process.stdin.flush()
            reply = self._reply()
        if "error" in reply:
            raise ValueError(reply["error"])
        return reply

    def delay(self, seconds: float) -> None:
        """Add `seconds` of latency to everything relayed from now on (0: none)."""
        self._ask("delay", float(seconds))

    def drop(self, probability: float) -> None:
        """Drop each UDP datagram (state and commands) with this probability (1.0: all)."""
        self._ask("drop", float(probability))

    def cut(self) -> None:
        """Close every relayed connection now and refuse new ones until `restore()`."""
        self._ask("cut")

    def restore(self) -> None:
        """Accept connections again (after `cut`)."""
        self._ask("restore")

    def clear(self) -> None:
        """No latency, no drops, accept connections (a reflex stays until recovery)."""
        self._ask("clear")

    def reflex(self, error: str = "cartesian_reflex") -> None:
        """Put the arm into Reflex with `error` (see `FaultRelay.reflex`)."""
        if error not in ERROR_NAMES:
            raise ValueError(f"unknown franka error {error!r}; one of {', '.join(ERROR_NAMES)}")
        self._ask("reflex", error)

    @property
    def stats(self) -> dict:
        return self._ask("status")["stats"]

    @property
    def in_reflex(self) -> bool:
        return self._ask("status")["in_reflex"]

    @property
    def connected(self) -> int:
        return self._ask("status")["connected"]

    def close(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        with contextlib.suppress(OSError, ValueError):
            process.stdin.close()  # the child's end of input: it closes its ports and exits
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        with contextlib.suppress(OSError, ValueError):
            process.stdout.close()

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.close()


def _serve_proxy(upstream_port: str, host: str, robot_port: str, gripper_port: str) -> None:
    """The proxy process: a FaultRelay, and one JSON line answered per command line read."""

    def say(message: dict) -> None:
        sys.stdout.write(json.dumps(message) + "\n")
        sys.stdout.flush()

    relay = FaultRelay(int(upstream_port), host, int(robot_port), int(gripper_port))
    try:
        relay.start()
    except OSError as error:
        say({"ready": False, "error": f"{host}:{robot_port}/{gripper_port}: {error}"})
        return
    say({"ready": True})
    actions = {"delay": lambda x: relay.delay(float(x)), "drop": lambda x: relay.drop(float(x)),
               "cut": relay.cut, "restore": relay.restore, "clear": relay.clear,
               "reflex": relay.reflex, "status": lambda: None}
    try:
        for line in sys.stdin:
            words = line.split()
            if not words:
                continue
            try:
                actions[words[0]](*words[1:])
                say({"ok": True, "stats": dict(relay.stats), "in_reflex": relay.in_reflex,
                     "connected": relay.connected})
            except Exception as error:  # noqa: BLE001 - reported to the parent
                say({"error": f"{words}: {type(error).__name__}: {error}"})
    finally:
        relay.close()


@contextlib.contextmanager
def franky_cell(simulator: str = "mujoco", host: str = LOOPBACK, timeout: float = 60.0):
    """A franky-sim server on free ports behind a `FaultProxy` on `host`:1337/1338:
    yields (sim, proxy). Connect franky to `host`."""
    sim = FrankySim(port=free_port_pair(host), simulator=simulator, host=host)
    try:
        sim.start(timeout)
        with FaultProxy(sim.port, host=host) as proxy:
            yield sim, proxy
    finally:
        sim.stop()
        with contextlib.suppress(OSError):
            sim.log_path.unlink()


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "proxy":
        _serve_proxy(*sys.argv[2:])
    else:
        sys.exit("usage: python fault_proxy.py proxy UPSTREAM_PORT HOST ROBOT_PORT GRIPPER_PORT")
