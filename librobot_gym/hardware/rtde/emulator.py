"""A UR e-Series controller on a loopback address: RTDE (30004), the dashboard server (29999),
the script ports (30001-30003) and the gripper's URCap socket (63352), around one `Controller`
(a kinematic UR5e and a 2F-85-class gripper), for the UR driver's tests and `ur:emulator`.

ur_rtde fixes its ports (RTDE 30004 and script 30003 in `RTDEControlInterface`, no argument
moves them), so an emulator takes the first loopback address, 127.0.0.1, 127.0.0.2, ..., on
which all of them are free: two emulators (two envs, two test workers) run side by side, each
on its own address, and nothing listens beyond the host (127.0.0.0/8 is loopback). An address
an emulator gave up is not taken again for `QUARANTINE` s (a marker file per address, shared
by every process of the host): ur_rtde's interfaces reconnect by themselves when their
controller goes away, and a client not yet closed (a failed test's, a crashed process's) would
otherwise find the next emulator there and upload its program into another session.

The Python servers run here, in this process; the client library must run in another one
(`emulator_process.EmulatorProcess`), because ur_rtde's calls hold the Python interpreter's
lock while they wait for the controller's answer, so an in-process server would never answer.

Faults a test injects (each also reported by the controller as a real one is; `controller.py`
has the stop categories): `protective_stop`, `emergency_stop` / `release_emergency_stop`,
`violate_safety_limit`, `stop_program` (from the pendant), `drop_connections` (the cable:
every socket closed, new ones refused for a while), `delay_packages` / `drop_packages` (late or
missing RTDE output), `set_remote_control(False)` (the pendant switched to local control).
"""

from __future__ import annotations

import errno
import os
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from librobot_gym.hardware.rtde import robotiq
from librobot_gym.hardware.rtde.controller import Controller
from librobot_gym.hardware.rtde.dashboard import DashboardServer
from librobot_gym.hardware.rtde.rtde_server import RTDEServer
from librobot_gym.hardware.rtde.script_server import ScriptServer

HOSTS = tuple(f"127.0.{b}.{c}" for b in range(4) for c in range(1, 255))
QUARANTINE = 30.0  # s an address rests after an emulator gave it up (module doc)
MARKERS = Path(tempfile.gettempdir()) / "librobot-ur-emulators"


def _resting(host: str) -> bool:
    try:
        return time.time() - (MARKERS / host).stat().st_mtime < QUARANTINE
    except OSError:
        return False


def _release(host: str) -> None:
    try:
        MARKERS.mkdir(exist_ok=True)
        (MARKERS / host).touch()
        os.utime(MARKERS / host)
    except OSError:
        pass


class URControllerEmulator:
    """The controller and its servers (module doc). `home`, `lower`, `upper`: the arm's start
    posture and joint limits (rad); `protective_stop_wait`: s before a protective stop may be
    unlocked (5 s on a robot); `safety_limits`: (lower, upper) joint limits the safety system
    enforces, tighter than the joints' if given; `lockstep`: time passes only in `advance`."""

    def __init__(self, home, lower, upper, lockstep: bool = False,
                 protective_stop_wait: float = 5.0, safety_limits=None,
                 gripper_activation: float = robotiq.ACTIVATION_TIME, hosts=HOSTS):
        self.controller = Controller(home, lower, upper, lockstep=lockstep,
                                     protective_stop_wait=protective_stop_wait,
                                     safety_limits=safety_limits)
        self.controller.gripper = robotiq.GripperModel(gripper_activation)
        self.hosts = tuple(hosts)
        self.host = ""
        self.servers: list = []
        self.rtde: RTDEServer | None = None
        self.dashboard: DashboardServer | None = None
        self.scripts: ScriptServer | None = None

    # --- lifecycle -----------------------------------------------------------------------------
    def start(self) -> URControllerEmulator:
        if self.host:
            return self
        fresh = [h for h in self.hosts if not _resting(h)]
        for host in fresh + [h for h in self.hosts if h not in fresh]:
            try:
                self._listen(host)
            except OSError as error:
                self._close_servers()
                if error.errno != errno.EADDRINUSE:
                    raise
                continue
            self.host = host
            self.controller.start()
            return self
        raise OSError(errno.EADDRINUSE, "no loopback address with the UR ports 29999, "
                      f"30001-30004 and 63352 free ({len(self.hosts)} tried)")

    def _listen(self, host: str) -> None:
        c = self.controller
        self.rtde = RTDEServer(c, host)
        self.servers.append(self.rtde)
        self.dashboard = DashboardServer(c, host)
        self.servers.append(self.dashboard)
        self.scripts = ScriptServer(c, host)
        self.servers.append(self.scripts)
        self.servers.append(robotiq.GripperServer(c.gripper, c.lock, host))

    def _close_servers(self) -> None:
        for server in self.servers:
            server.close()
        self.servers = []

    def stop(self) -> None:
        self.controller.stop()
        self._close_servers()
        if self.host:
            _release(self.host)
        self.host = ""

    def __enter__(self) -> URControllerEmulator:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def _listeners(self):
        for server in self.servers:
            yield from getattr(server, "listeners", [getattr(server, "listener", None)])

    # --- lockstep ------------------------------------------------------------------------------
    def now(self) -> float:
        return self.controller.now()

    def generation(self) -> int:
        """Lockstep: the state's generation, which the RTDE stream carries in
        `rtde_server.SEQUENCE_REGISTER` (a client waits for it to see the latest state)."""
        return self.controller.generation % 2**31

    def epoch(self) -> float:
        """Real time: the `time.monotonic()` of controller time 0 (the same clock in every
        process of this host), so a client can tell how old a package is when it reads it."""
        return self.controller.epoch

    def advance(self, dt: float) -> float:
        """Lockstep: let `dt` s pass; returns the controller's time."""
        self.controller.advance(dt)
        return self.controller.now()

    def restart(self, q) -> float:
        """Lockstep: time 0, the arm at rest at `q`, the gripper open."""
        self.controller.restart(np.asarray(q, dtype=np.float64))
        return self.controller.now()

    def commands_handled(self) -> int:
        """Commands the control program has taken (the client's clear commands and watchdog
        kicks, which write 0, not counted)."""
        return self.controller.commands_handled

    def wait_commands(self, count: int, timeout: float = 1.0) -> float | None:
        """Wait until `count` commands were taken; the controller's time then (a blocking
        command may have let simulated time pass), None on a timeout."""
        if not self.controller.wait_commands(count, timeout):
            return None
        return self.controller.now()

    # --- faults ----------------------------------------------------------------------------------
    # Each happens at once in real time, at the next tick in lockstep (`Controller.inject`).
    def protective_stop(self, cause: str = "protective stop") -> None:
        self.controller.inject(lambda: self.controller.protective_stop(cause))

    def emergency_stop(self) -> None:
        self.controller.inject(self.controller.emergency_stop)

    def release_emergency_stop(self) -> None:
        self.controller.inject(self.controller.release_emergency_stop)

    def violate_safety_limit(self, cause: str = "joint speed limit violated") -> None:
        self.controller.inject(lambda: self.controller.violate_safety_limit(cause))

    def stop_program(self) -> None:
        """The operator presses stop on the teach pendant."""
        self.controller.inject(
            lambda: self.controller.stop_program("stopped from the teach pendant"))

    def set_remote_control(self, remote: bool) -> None:
        self.controller.remote_control = bool(remote)

    def drop_connections(self, refuse_for: float | None = 0.0) -> None:
        """Close every client socket; refuse new ones for `refuse_for` s (None: until
        `allow_connections`)."""
        for listener in self._listeners():
            listener.pause()
            listener.drop()
        if refuse_for is not None:
            timer = threading.Timer(refuse_for, self.allow_connections)
            timer.daemon = True
            timer.start()

    def allow_connections(self) -> None:
        for listener in self._listeners():
            listener.resume()

    def delay_packages(self, seconds: float) -> None:
        """RTDE output held for `seconds`, then sent in one late burst."""
        self.rtde.delay(seconds)

    def drop_packages(self, seconds: float) -> None:
        """No RTDE output for `seconds` (missing packages)."""
        self.rtde.drop(seconds)

    # --- what a test looks at --------------------------------------------------------------------
    def state(self) -> dict:
        c = self.controller
        with c.lock:
            return {
                "time": c.now(), "q": c.arm.q.tolist(), "qd": c.arm.qd.tolist(),
                "target": c.arm.target.tolist(), "motion": c.arm.mode,
                "robot_mode": c.robot_mode.name, "safety_mode": c.safety_mode.name,
                "runtime_state": c.runtime_state.name, "program": c.program_name
                if c.program is not None else None, "messages": list(c.messages),
                "gripper_position": c.gripper.position, "gripper_request": c.gripper.pre,
                "gripper_status": c.gripper.sta, "inputs_handled": self.rtde.inputs_handled,
                "dashboard": list(self.dashboard.received), "programs": len(self.scripts.programs),
                "unsupported": list(c.unsupported),
                "clients": {listener.name: listener.clients for listener in self._listeners()},
            }

    def program_text(self, index: int = -1) -> str:
        return self.scripts.programs[index]
