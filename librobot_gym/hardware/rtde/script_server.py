"""The emulated controller's script ports (30001 primary, 30002 secondary, 30003 real-time):
URScript text in, as a controller takes it. A top-level `def name():` (or `sec name():`) block
up to its closing column-0 `end` is one program: it replaces the running program, as on the
robot. A line outside a block is one statement run at once (`stopj(a)`, `stopl(a)`,
`textmsg(...)`, `protective_stop()`, `powerdown()`).

Which programs run is `program.py`'s business (ur_rtde's control script is emulated by what its
register protocol does); one the emulator cannot run is logged and leaves the controller
stopped, as a program that fails to compile does. The state messages a real controller streams
on these ports are not sent: clients read the robot through RTDE.
"""

from __future__ import annotations

import re
import socket

from librobot_gym.hardware.rtde.controller import Controller
from librobot_gym.hardware.rtde.listener import Listener, read_line
from librobot_gym.hardware.rtde.program import interpreter_for

PORTS = (30001, 30002, 30003)
_BLOCK = re.compile(r"^(def|sec)\s+(\w+)\s*\(")
_STOP = re.compile(r"^stop[jl]\(\s*([-+0-9.eE]+)")


class ScriptServer:
    """Listens on every port of `ports`; `programs` holds the text of each program received."""

    def __init__(self, controller: Controller, host: str, ports=PORTS):
        self.controller = controller
        self.programs: list[str] = []
        self.listeners = [Listener(host, port, self._serve, f"script-{port}") for port in ports]

    def close(self) -> None:
        for listener in self.listeners:
            listener.close()

    def _serve(self, conn: socket.socket) -> None:
        buffer, block, name = bytearray(), [], ""
        while True:
            raw = read_line(conn, buffer)
            if raw is None:
                return
            line = raw.decode("utf-8", "replace")
            if block:
                block.append(line)
                if line.rstrip() == "end":
                    self.run_program("\n".join(block) + "\n", name)
                    block = []
                continue
            match = _BLOCK.match(line)
            if match:
                block, name = [line], match[2]
            elif line.strip():
                self.statement(line.strip())

    def run_program(self, text: str, name: str) -> None:
        self.programs.append(text)
        c = self.controller
        interpreter, why = interpreter_for(text)
        with c.lock:
            if interpreter is None:
                c.log(f"program {name!r} not run: {why}")
                c.stop_program(f"a new program {name!r} that the emulator cannot run")
                return
            c.start_program(interpreter, name)
            c.touch()

    def statement(self, line: str) -> None:
        c = self.controller
        with c.lock:
            stop = _STOP.match(line)
            if stop:
                c.arm.stop(float(stop[1]))
            elif line.startswith("protective_stop("):
                c.protective_stop("protective_stop() sent to the script port")
            elif line.startswith("powerdown("):
                c.power_off()
            elif line.startswith("textmsg("):
                c.log(line)
            else:
                c.log(f"statement not emulated: {line}")
            c.touch()
