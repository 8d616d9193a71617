"""The UR controller emulator in this process, spoken to with plain sockets (no client library):
the RTDE handshake and streams, register ownership, the dashboard's replies and their effects,
the gripper's socket, the script ports, the controller's safety reactions, lockstep time, and
two emulators side by side on two loopback addresses."""

from __future__ import annotations

import math
import socket
import struct
import time

import pytest

from librobot_gym.hardware.rtde import protocol as p
from librobot_gym.hardware.rtde.controller import POWER_ON_TIME
from librobot_gym.hardware.rtde.emulator import URControllerEmulator
from librobot_gym.hardware.rtde.modes import SafetyStatus
from librobot_gym.robots.arms.ur5e import UR5E
from tests.waiting import wait_until

HOME = list(UR5E.home_qpos)


def emulator(**options) -> URControllerEmulator:
    return URControllerEmulator(HOME, UR5E.joint_lower, UR5E.joint_upper, **options).start()


@pytest.fixture
def em():
    with emulator(protective_stop_wait=0.3, gripper_activation=0.05) as running:
        yield running


class RTDEClient:
    """The smallest RTDE client: send a package, read the next one."""

    def __init__(self, host: str):
        self.sock = socket.create_connection((host, 30004), timeout=2.0)
        self.buffer = bytearray()

    def send(self, kind: int, payload: bytes = b"") -> None:
        self.sock.sendall(p.package(kind, payload))

    def receive(self) -> tuple[int, bytes]:
        while True:
            packages = p.split_packages(self.buffer)
            if packages:
                self.buffer[:0] = b"".join(p.package(k, b) for k, b in packages[1:])
                return packages[0]
            self.buffer.extend(self.sock.recv(65536))

    def ask(self, kind: int, payload: bytes = b"") -> bytes:
        """Send, and return the answer (data packages still arriving are skipped)."""
        self.send(kind, payload)
        while True:
            answer_kind, answer = self.receive()
            if answer_kind != p.DATA_PACKAGE or kind == p.DATA_PACKAGE:
                break
        assert answer_kind == kind
        return answer

    def outputs(self, names: list[str], frequency: float = 125.0) -> bytes:
        return self.ask(p.SETUP_OUTPUTS, struct.pack(">d", frequency) + ",".join(names).encode())

    def close(self) -> None:
        self.sock.close()


def test_rtde_handshake_and_a_stream_at_the_asked_frequency(em):
    client = RTDEClient(em.host)
    try:
        assert client.ask(p.REQUEST_PROTOCOL_VERSION, struct.pack(">H", 2)) == b"\x01"
        assert client.ask(p.REQUEST_PROTOCOL_VERSION, struct.pack(">H", 9)) == b"\x00"
        major, minor, _, _ = struct.unpack(">4I", client.ask(p.GET_URCONTROL_VERSION))
        assert (major, minor) >= (5, 6)  # an e-Series controller, remote control aware
        assert client.outputs(["timestamp", "nonsense"]) == b"\x00DOUBLE,NOT_FOUND"
        assert client.receive()[0] == p.TEXT_MESSAGE  # the refusal is explained
        assert client.outputs(["timestamp", "actual_q", "robot_mode"]) == \
            b"\x01DOUBLE,VECTOR6D,INT32"
        assert client.ask(p.START) == b"\x01"
        recipe = p.Recipe(("timestamp", "actual_q", "robot_mode"),
                          ("DOUBLE", "VECTOR6D", "INT32"))
        stamps = []
        start = time.monotonic()
        while time.monotonic() - start < 0.4:
            kind, body = client.receive()
            assert kind == p.DATA_PACKAGE and body[0] == 1
            values = recipe.unpack(body[1:])
            stamps.append(values["timestamp"])
        assert values["actual_q"] == pytest.approx(HOME) and values["robot_mode"] == 7
        assert 35 <= len(stamps) <= 60  # 125 Hz for 0.4 s, give or take a loaded host
        assert all(b > a for a, b in zip(stamps, stamps[1:], strict=False))
        assert client.ask(p.PAUSE) == b"\x01"
    finally:
        client.close()


def test_input_registers_belong_to_one_client_until_it_leaves(em):
    first, second = RTDEClient(em.host), RTDEClient(em.host)
    try:
        names = b"input_int_register_0,input_double_register_3"
        assert first.ask(p.SETUP_INPUTS, names) == b"\x01INT32,DOUBLE"
        assert first.ask(p.SETUP_INPUTS, b"input_double_register_3") == b"\x02DOUBLE"
        assert second.ask(p.SETUP_INPUTS, names) == b"\x00IN_USE,IN_USE"
        assert second.ask(p.SETUP_INPUTS, b"output_int_register_0") == b"\x00NOT_FOUND"
        first.send(p.DATA_PACKAGE, b"\x01" + struct.pack(">id", 0, 2.5))
        assert wait_until(lambda: em.controller.input_double[3] == 2.5, 1.0)
        first.close()
        assert wait_until(lambda: second.ask(p.SETUP_INPUTS, names)[0] == 1, 2.0)
    finally:
        second.close()


def dashboard(host: str):
    sock = socket.create_connection((host, 29999), timeout=2.0)
    reader = sock.makefile("rb")
    assert reader.readline() == b"Connected: Universal Robots Dashboard Server\n"

    def ask(command: str) -> str:
        sock.sendall(command.encode() + b"\n")
        return reader.readline().decode().rstrip("\n")

    return sock, ask


def test_dashboard_power_brakes_and_protective_stop_unlock(em):
    sock, ask = dashboard(em.host)
    try:
        assert ask("robotmode") == "Robotmode: RUNNING"
        assert ask("PolyscopeVersion").startswith("URSoftware 5.15.0")
        assert ask("is in remote control") == "true" and ask("get robot model") == "UR5"
        assert ask("power off") == "Powering off" and ask("robotmode") == "Robotmode: POWER_OFF"
        assert ask("brake release").startswith("Failed to execute: brake release")
        assert ask("power on") == "Powering on"
        assert wait_until(lambda: ask("robotmode") == "Robotmode: IDLE", POWER_ON_TIME + 1.0)
        assert ask("brake release") == "Brake releasing"
        assert wait_until(lambda: ask("robotmode") == "Robotmode: RUNNING", 2.0)
        em.protective_stop("a test")
        assert ask("safetystatus") == "Safetystatus: PROTECTIVE_STOP"
        assert ask("unlock protective stop").startswith("Cannot unlock protective stop until")
        time.sleep(0.35)  # this emulator's waiting time: 0.3 s
        assert ask("unlock protective stop") == "Protective stop releasing"
        assert ask("safetystatus") == "Safetystatus: NORMAL"
        assert ask("running") == "Program running: false"
        assert ask("stop") == "Failed to execute: stop"  # no program to stop
        assert ask("make coffee") == "could not understand: 'make coffee'"
        em.set_remote_control(False)
        assert ask("power off").startswith("Command is not allowed due to safety reasons")
    finally:
        sock.close()


def test_gripper_socket_activates_and_moves_the_fingers(em):
    sock = socket.create_connection((em.host, 63352), timeout=2.0)
    reader = sock.makefile("rb")

    def ask(line: str) -> bytes:
        sock.sendall(line.encode() + b"\n")
        return reader.readline() if line.startswith("GET") else reader.read(3)

    try:
        assert ask("GET STA") == b"STA 0\n"
        assert ask("SET ACT 1") == b"ack" and ask("GET STA") == b"STA 1\n"
        assert wait_until(lambda: ask("GET STA") == b"STA 3\n", 1.0)
        assert ask("SET GTO 1 SPE 255 FOR 100") == b"ack"
        assert ask("SET POS 227") == b"ack" and ask("GET PRE") == b"PRE 227\n"
        assert ask("GET OBJ") == b"OBJ 0\n"  # moving
        assert wait_until(lambda: ask("GET POS") == b"POS 227\n", 2.0)  # 85 mm at 150 mm/s
        assert ask("GET OBJ") == b"OBJ 3\n"
        sock.sendall(b"SET POS 999\n")
        assert reader.read(1) == b"?"
    finally:
        sock.close()


def test_the_script_port_runs_ur_rtde_control_script_only(em):
    with socket.create_connection((em.host, 30003), timeout=2.0) as sock:
        sock.sendall(b"def my_program():\n  movej([0,0,0,0,0,0])\nend\nstopj(2.0)\n")
        assert wait_until(lambda: len(em.scripts.programs) == 1, 1.0)
    assert em.controller.program is None
    assert wait_until(lambda: any("ur_rtde's control script only" in m
                                  for m in em.controller.messages), 1.0)


def test_safety_reactions_show_in_the_status_bits(em):
    c = em.controller
    c.arm.speed_to([0.5] + [0.0] * 5, 40.0)
    assert wait_until(lambda: c.arm.qd[0] > 0.4, 1.0)
    em.emergency_stop()
    assert c.safety_status_bits & SafetyStatus.EMERGENCY_STOPPED
    assert wait_until(lambda: c.robot_mode.name == "POWER_OFF", 1.0)  # decelerated, then off
    assert not c.arm.moving
    assert c.power_on() == "the emergency stop is pressed"
    em.release_emergency_stop()
    assert c.safety_mode.name == "NORMAL" and c.power_on() is None


def test_a_safety_joint_limit_violation_stops_at_once_and_powers_off():
    lower, upper = list(UR5E.joint_lower), list(UR5E.joint_upper)
    upper[0] = HOME[0] + 0.05
    with emulator(lockstep=True, safety_limits=(lower, upper)) as em:
        c = em.controller
        c.arm.speed_to([1.0] + [0.0] * 5, 40.0)
        em.advance(0.2)
        assert c.safety_mode.name == "VIOLATION" and c.robot_mode.name == "POWER_OFF"
        assert c.arm.q[0] == pytest.approx(HOME[0] + 0.05, abs=0.01) and not c.arm.moving
        assert any("joint position limit" in m for m in c.messages)
        c.restart_safety()
        assert c.safety_mode.name == "NORMAL" and c.robot_mode.name == "POWER_OFF"


def test_lockstep_time_passes_only_when_advanced():
    with emulator(lockstep=True) as em:
        c = em.controller
        c.arm.speed_to([0.2] + [0.0] * 5, 40.0)
        time.sleep(0.05)
        assert em.now() == 0.0 and c.arm.q[0] == HOME[0]
        assert em.advance(0.05) == pytest.approx(0.05)
        assert c.arm.q[0] > HOME[0]
        em.restart(HOME)
        assert em.now() == 0.0 and c.arm.q.tolist() == HOME and not c.arm.moving


def test_two_emulators_run_side_by_side_on_two_loopback_addresses():
    with emulator() as first, emulator() as second:
        assert first.host != second.host
        assert first.host.startswith("127.") and second.host.startswith("127.")
        for em in (first, second):
            sock, ask = dashboard(em.host)
            assert ask("robotmode") == "Robotmode: RUNNING"
            sock.close()


def test_the_emulator_listens_on_loopback_only():
    with pytest.raises(ValueError, match="loopback only"):
        URControllerEmulator(HOME, UR5E.joint_lower, UR5E.joint_upper,
                             hosts=("0.0.0.0",)).start()
    assert math.isfinite(UR5E.joint_upper[0])
