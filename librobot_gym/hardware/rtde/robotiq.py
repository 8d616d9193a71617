"""The gripper of a UR cell: a Robotiq 2F-85 (or a gripper of its class) behind Robotiq's URCap,
which serves the gripper's registers on TCP port 63352 of the controller.

The protocol is ASCII: `SET VAR value [VAR value ...]\\n` answered `ack`, and `GET VAR\\n`
answered `VAR value`. Variables: ACT (activate: 1 runs the activation, 0 resets), GTO (go to the
requested position), POS (position request 0-255, 0 open; read back: the actual position),
SPE (speed 0-255: 20-150 mm/s on a 2F-85), FOR (force 0-255: 20-235 N), read-only STA (0 reset,
1 activating, 3 active), PRE (echo of the requested position), OBJ (0 moving, 1 stopped on an
object while opening, 2 while closing, 3 at the requested position), FLT (fault code, 0 none).

`RobotiqSocket` is the client the UR driver uses; `GripperModel` and `GripperServer` are the
emulator's gripper (no object in its fingers: it always reaches the requested position).
"""

from __future__ import annotations

import re
import socket
import threading

from librobot_gym.hardware.rtde.listener import Listener, read_line

PORT = 63352
STROKE = 0.085  # m between the pads, fully open (2F-85)
OPEN_POSITION, CLOSED_POSITION = 0, 227  # register values at 85 mm and 0 mm (2F-85, calibrated)
MIN_SPEED, MAX_SPEED = 0.020, 0.150  # m/s at SPE 0 and 255
MIN_FORCE, MAX_FORCE = 20.0, 235.0  # N at FOR 0 and 255
ACTIVATION_TIME = 0.5  # s the emulated gripper takes to activate (a 2F-85: 1-2 s)
_REPLY = re.compile(rb"^([A-Z]{3}) (-?\d+)\s*$")


class GripperError(OSError):
    """The gripper's socket refused, closed or answered something that is not the protocol."""


def opening_to_position(opening: float, open_pos: int = OPEN_POSITION,
                        closed_pos: int = CLOSED_POSITION) -> int:
    """The POS register for an opening (m between the pads), linear between the calibrated
    open and closed positions."""
    fraction = min(max(opening / STROKE, 0.0), 1.0)
    return int(round(closed_pos + fraction * (open_pos - closed_pos)))


def position_to_opening(position: float, open_pos: int = OPEN_POSITION,
                        closed_pos: int = CLOSED_POSITION) -> float:
    fraction = (position - closed_pos) / (open_pos - closed_pos)
    return STROKE * min(max(fraction, 0.0), 1.0)


def force_register(newtons: float) -> int:
    return int(round(255 * min(max((newtons - MIN_FORCE) / (MAX_FORCE - MIN_FORCE), 0), 1)))


class RobotiqSocket:
    """A client of the URCap's gripper socket at (host, port); one request at a time."""

    def __init__(self, host: str, port: int = PORT, timeout: float = 1.0):
        self.host, self.port, self.timeout = host, int(port), float(timeout)
        self._sock: socket.socket | None = None
        self._lock = threading.Lock()

    def connect(self) -> None:
        self.close()
        try:
            self._sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
        except OSError as error:
            raise GripperError(f"the gripper socket at {self.host}:{self.port} refused: "
                               f"{error}") from error
        self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    @property
    def connected(self) -> bool:
        return self._sock is not None

    def close(self) -> None:
        sock, self._sock = self._sock, None
        if sock is not None:
            try:
                sock.close()
            except OSError:
                pass

    def set(self, **values: int) -> None:
        """SET every VAR=value in one line; GripperError unless the gripper acks."""
        line = "SET " + " ".join(f"{name} {int(value)}" for name, value in values.items())
        reply = self._request(line, lambda data: len(data) >= 3 or data.strip() == b"?")
        if reply.strip() != b"ack":
            raise GripperError(f"the gripper answered {reply!r} to {line!r} (expected 'ack')")

    def get(self, name: str) -> int:
        reply = self._request(f"GET {name}", lambda data: _REPLY.match(data) is not None
                              or data.strip() == b"?")
        match = _REPLY.match(reply)
        if match is None or match[1].decode() != name:
            raise GripperError(f"the gripper answered {reply!r} to 'GET {name}'")
        return int(match[2])

    def _request(self, line: str, complete) -> bytes:
        with self._lock:
            if self._sock is None:
                raise GripperError("the gripper socket is not connected")
            try:
                self._sock.sendall(line.encode() + b"\n")
                data = b""
                while not complete(data):
                    chunk = self._sock.recv(1024)
                    if not chunk:
                        raise GripperError("the gripper closed its socket")
                    data += chunk
                return data
            except OSError as error:
                self.close()
                raise GripperError(f"the gripper socket at {self.host}:{self.port} failed: "
                                   f"{error}") from error


class GripperModel:
    """The emulated gripper's registers and fingers, ticked with the controller."""

    def __init__(self, activation_time: float = ACTIVATION_TIME):
        self.activation_time = activation_time
        self.act = self.gto = self.sta = self.flt = 0
        self.pre, self.spe, self.force = OPEN_POSITION, 255, 150
        self.position = float(OPEN_POSITION)
        self._activating = 0.0

    def restart(self) -> None:
        """Fingers at rest, fully open (an episode of a lockstep stand-in)."""
        self.position = float(OPEN_POSITION)
        self.pre = OPEN_POSITION

    @property
    def obj(self) -> int:
        return 3 if abs(self.position - self.pre) < 0.5 or not self.gto else 0

    def set(self, name: str, value: int) -> bool:
        if name == "ACT":
            self.act = int(value != 0)
            self.sta = 1 if self.act else 0
            self._activating = 0.0
            if not self.act:
                self.gto = 0
        elif name == "GTO":
            self.gto = int(value != 0)
        elif name in ("POS", "SPE", "FOR") and 0 <= value <= 255:
            setattr(self, {"POS": "pre", "SPE": "spe", "FOR": "force"}[name], int(value))
        elif name in ("ATR", "ADR"):
            pass
        else:
            return False
        return True

    def get(self, name: str) -> int | None:
        return {"ACT": self.act, "GTO": self.gto, "STA": self.sta, "FLT": self.flt,
                "PRE": self.pre, "SPE": self.spe, "FOR": self.force, "OBJ": self.obj,
                "POS": int(round(self.position))}.get(name)

    def tick(self, dt: float) -> None:
        if self.sta == 1:
            self._activating += dt
            if self._activating >= self.activation_time:
                self.sta = 3
        if self.sta != 3 or not self.gto:
            return
        speed = MIN_SPEED + (MAX_SPEED - MIN_SPEED) * self.spe / 255  # m/s
        step = speed / STROKE * abs(CLOSED_POSITION - OPEN_POSITION) * dt  # register units
        error = self.pre - self.position
        self.position += max(-step, min(step, error))


class GripperServer:
    """The URCap's socket for `model`, on (host, port); `lock` is the controller's."""

    def __init__(self, model: GripperModel, lock, host: str, port: int = PORT):
        self.model, self.lock = model, lock
        self.listener = Listener(host, port, self._serve, "gripper")

    def close(self) -> None:
        self.listener.close()

    def _serve(self, conn: socket.socket) -> None:
        buffer = bytearray()
        while True:
            line = read_line(conn, buffer)
            if line is None:
                return
            conn.sendall(self.reply(line.decode("ascii", "replace").split()))

    def reply(self, words: list[str]) -> bytes:
        with self.lock:
            if len(words) == 2 and words[0] == "GET":
                value = self.model.get(words[1])
                return b"?" if value is None else f"{words[1]} {value}\n".encode()
            if len(words) >= 3 and words[0] == "SET" and len(words) % 2 == 1:
                pairs = list(zip(words[1::2], words[2::2], strict=True))
                if all(v.lstrip("-").isdigit() for _, v in pairs) and all(
                        self.model.set(name, int(value)) for name, value in pairs):
                    return b"ack"
            return b"?"
