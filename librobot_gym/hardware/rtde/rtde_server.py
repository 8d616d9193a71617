"""The emulated controller's RTDE server (port 30004): the setup handshake, output data packages
at the frequency each client asked for, and input packages written into the controller's
registers, byte for byte as `protocol.py` describes, so an unmodified client (ur_rtde) talks to
it as to a robot.

Each client connection has its own output recipe and input recipes (ids from 1, per
connection, as ur_rtde's recipe numbering expects); an input field another connection has set
up is answered "IN_USE". After "start", a publisher thread sends the output recipe every
1/frequency s of wall-clock time (in lockstep also as soon as the controller's time moves), the
newest state only. Input packages are applied in order under the controller's lock (the
running program counts the commands among them: `Controller.wait_commands`).

Faults: `delay(seconds)` holds the outgoing packages and sends them in one late burst;
`drop(seconds)` sends none (missing packages); the emulator's `drop_connections` closes the
sockets.
"""

from __future__ import annotations

import socket
import threading
import time

from librobot_gym.hardware.rtde import protocol as p
from librobot_gym.hardware.rtde.arm import flange_pose
from librobot_gym.hardware.rtde.controller import CONTROLLER_VERSION, Controller
from librobot_gym.hardware.rtde.listener import Listener
from librobot_gym.hardware.rtde.modes import RobotMode

PORT = 30004
# Lockstep only: this user register (ur_rtde's getOutputIntRegister takes 12-19) carries the
# controller's state generation, so a client can tell the package of the latest change from an
# older one of the same simulated time (time stands still between steps).
SEQUENCE_REGISTER = "output_int_register_19"
HEARTBEAT = 0.1  # s between repeated packages while a lockstep controller's time stands still
JOINT_RUNNING, JOINT_POWER_OFF, JOINT_IDLE = 253, 239, 255


def field_values(controller: Controller, names) -> dict:
    """The present value of each output field in `names` (lock held by the caller)."""
    arm, c = controller.arm, controller
    running = c.robot_mode == RobotMode.RUNNING
    values = {}
    for name in names:
        reg = p.register(name)
        if reg is not None:
            bank = {("input", "int"): c.input_int, ("input", "double"): c.input_double,
                    ("output", "int"): c.output_int, ("output", "double"): c.output_double}
            values[name] = bank[reg[:2]][reg[2]] if reg[1] != "bit" else False
            if c.lockstep and name == SEQUENCE_REGISTER:
                values[name] = c.generation % 2**31
            continue
        values[name] = _FIELDS.get(name, _default)(c, arm, running, name)
    return values


def _default(c, arm, running, name):
    kind = p.output_type(name)
    if kind is None:
        raise KeyError(name)
    fmt = p.FORMATS[kind]
    return [0] * int(fmt[0]) if kind.startswith("VECTOR") else 0


def _target_q(c, arm, running, name):
    return arm.target.tolist() if arm.mode in ("servo", "move") else arm.q.tolist()


def _joint_mode(c, arm, running, name):
    mode = {RobotMode.RUNNING: JOINT_RUNNING, RobotMode.IDLE: JOINT_IDLE}.get(c.robot_mode,
                                                                           JOINT_POWER_OFF)
    return [mode] * 6


_FIELDS = {
    "timestamp": lambda c, arm, running, name: c.now(),
    "actual_q": lambda c, arm, running, name: arm.q.tolist(),
    "actual_qd": lambda c, arm, running, name: arm.qd.tolist(),
    "target_q": _target_q,
    "target_qd": lambda c, arm, running, name: arm.qd.tolist(),
    "actual_TCP_pose": lambda c, arm, running, name: flange_pose(arm.q),
    "target_TCP_pose": lambda c, arm, running, name: flange_pose(_target_q(c, arm, running,
                                                                           name)),
    "robot_mode": lambda c, arm, running, name: int(c.robot_mode),
    "joint_mode": _joint_mode,
    "safety_mode": lambda c, arm, running, name: int(c.safety_mode),
    "safety_status": lambda c, arm, running, name: int(c.safety_mode),
    "runtime_state": lambda c, arm, running, name: int(c.runtime_state),
    "robot_status_bits": lambda c, arm, running, name: c.robot_status_bits,
    "safety_status_bits": lambda c, arm, running, name: c.safety_status_bits,
    "speed_scaling": lambda c, arm, running, name: c.speed_scaling if running else 0.0,
    "target_speed_fraction": lambda c, arm, running, name: c.speed_scaling,
    "joint_temperatures": lambda c, arm, running, name: [31.5] * 6,
    "actual_joint_voltage": lambda c, arm, running, name: [47.9 if running else 0.0] * 6,
    "actual_main_voltage": lambda c, arm, running, name: 48.0,
    "actual_robot_voltage": lambda c, arm, running, name: 47.9 if running else 0.0,
    "actual_robot_current": lambda c, arm, running, name: 0.9 if running else 0.0,
    "actual_execution_time": lambda c, arm, running, name: 0.05,
    "payload": lambda c, arm, running, name: 0.925,
    "payload_cog": lambda c, arm, running, name: [0.0, 0.0, 0.05],
}


class RTDEServer:
    """RTDE on (host, PORT) for `controller`; `close()` ends it."""

    def __init__(self, controller: Controller, host: str, port: int = PORT):
        self.controller = controller
        self.claims: dict[str, int] = {}  # input field -> the connection that set it up
        self.inputs_handled = 0
        self.drop_until = 0.0  # monotonic: no packages before then (missing)
        self.delay_until = 0.0  # monotonic: packages held until then, then sent (late)
        self._next_id = 0
        self.listener = Listener(host, port, self._serve, "rtde")

    def close(self) -> None:
        self.listener.close()

    def delay(self, seconds: float) -> None:
        self.delay_until = time.monotonic() + seconds

    def drop(self, seconds: float) -> None:
        self.drop_until = time.monotonic() + seconds

    # --- one client --------------------------------------------------------------------------
    def _serve(self, conn: socket.socket) -> None:
        with self.controller.lock:
            self._next_id += 1
            client = _Client(self._next_id, conn)
        try:
            buffer = bytearray()
            while True:
                data = conn.recv(65536)
                if not data:
                    return
                buffer.extend(data)
                for kind, payload in p.split_packages(buffer):
                    self._handle(client, kind, payload)
        except p.ProtocolError:
            return
        finally:
            client.closed = True
            with self.controller.lock:
                for name in [n for n, owner in self.claims.items() if owner == client.id]:
                    del self.claims[name]
                self.controller.changed.notify_all()

    def _handle(self, client: _Client, kind: int, payload: bytes) -> None:
        if kind == p.REQUEST_PROTOCOL_VERSION:
            version = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 0
            client.send(p.package(kind, bytes((int(version == p.PROTOCOL_VERSION),))))
        elif kind == p.GET_URCONTROL_VERSION:
            client.send(p.package(kind, b"".join(v.to_bytes(4, "big")
                                                 for v in CONTROLLER_VERSION)))
        elif kind == p.SETUP_OUTPUTS:
            reply, complaint = self._setup_outputs(client, payload)
            client.send(p.package(kind, reply) + complaint)  # the reply first, as expected
        elif kind == p.SETUP_INPUTS:
            client.send(p.package(kind, self._setup_inputs(client, payload)))
        elif kind == p.START:
            ok = client.output is not None
            client.send(p.package(kind, bytes((int(ok),))))
            if ok and not client.started:
                client.started = True
                threading.Thread(target=self._publish, args=(client,), name="ur-rtde-out",
                                 daemon=True).start()
        elif kind == p.PAUSE:
            client.started = False
            client.send(p.package(kind, b"\x01"))
        elif kind == p.DATA_PACKAGE:
            self._inputs(client, payload)
        else:
            client.send(p.text_message(f"unknown package type {kind}", level=1))

    def _setup_outputs(self, client: _Client, payload: bytes) -> tuple[bytes, bytes]:
        """(the reply, a text message explaining a refusal or b"")."""
        frequency, names = p.parse_output_setup(payload)
        types = [p.output_type(n) or p.NOT_FOUND for n in names]
        if not 0 < frequency <= p.MAX_FREQUENCY or p.NOT_FOUND in types or not names:
            unknown = [n for n, t in zip(names, types, strict=True) if t == p.NOT_FOUND]
            return p.setup_reply(0, types), p.text_message(
                f"output setup refused: frequency {frequency} Hz (0-{p.MAX_FREQUENCY:g}), "
                f"unknown fields {unknown}", level=1)
        client.output = p.Recipe(tuple(names), tuple(types))
        client.frequency = frequency
        return p.setup_reply(1, types), b""

    def _setup_inputs(self, client: _Client, payload: bytes) -> bytes:
        names = p.parse_input_setup(payload)
        with self.controller.lock:
            types = []
            for name in names:
                kind = p.input_type(name)
                owner = self.claims.get(name)
                types.append(p.NOT_FOUND if kind is None else
                             p.IN_USE if owner not in (None, client.id) else kind)
            if not names or p.NOT_FOUND in types or p.IN_USE in types:
                return p.setup_reply(0, types)
            for name in names:
                self.claims[name] = client.id
        client.inputs.append(p.Recipe(tuple(names), tuple(types)))
        return p.setup_reply(len(client.inputs), types)

    def _inputs(self, client: _Client, payload: bytes) -> None:
        if not payload or not 1 <= payload[0] <= len(client.inputs):
            client.send(p.text_message(f"data package for unknown recipe "
                                       f"{payload[:1].hex()}", level=1))
            return
        values = client.inputs[payload[0] - 1].unpack(payload[1:])
        c = self.controller
        with c.lock:
            for name, value in values.items():
                reg = p.register(name)
                if reg is not None and reg[1] == "int":
                    c.input_int[reg[2]] = int(value)
                elif reg is not None and reg[1] == "double":
                    c.input_double[reg[2]] = float(value)
            if c.program is not None:
                c.program.on_inputs(set(values))
            self.inputs_handled += 1
            c.touch()  # the script's answer (ready, done) goes out now

    # --- publishing --------------------------------------------------------------------------
    def _publish(self, client: _Client) -> None:
        """Send the output recipe: in real time at most once per period and only with new
        data (a tick since the last package: the controller never repeats a timestamp); in
        lockstep as soon as time moved, and every `HEARTBEAT` s while it stands still, since
        a client drops a silent link (ur_rtde after 2.5 s)."""
        c, period = self.controller, 1.0 / client.frequency
        deadline, sent_generation, held = time.monotonic(), -1, []
        while client.started and not client.closed:
            with c.changed:
                while not client.closed:
                    now = time.monotonic()
                    new = c.generation != sent_generation
                    if (new or c.lockstep) and now >= deadline or c.lockstep and new:
                        break
                    # real time: the period's end, or (nothing new yet) the next tick
                    c.changed.wait(deadline - now if now < deadline else period)
                sent_generation = c.generation
                data = client.output.pack(1, field_values(c, client.output.names))
            now = time.monotonic()
            deadline = now + (HEARTBEAT if c.lockstep else period)
            if now < self.drop_until:
                continue
            if now < self.delay_until:
                held.append(p.package(p.DATA_PACKAGE, data))
                continue
            try:
                client.send(b"".join(held) + p.package(p.DATA_PACKAGE, data))
            except OSError:
                return
            held = []


class _Client:
    def __init__(self, client_id: int, conn: socket.socket):
        self.id, self.conn = client_id, conn
        self.output: p.Recipe | None = None
        self.frequency = p.MAX_FREQUENCY
        self.inputs: list[p.Recipe] = []
        self.started = self.closed = False
        self._send_lock = threading.Lock()

    def send(self, data: bytes) -> None:
        with self._send_lock:
            self.conn.sendall(data)

