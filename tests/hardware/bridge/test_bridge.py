"""The robot bridge: a driver served over a websocket (BridgeServer) and used by BridgeDriver.

A `FakeArm` double plays the robot: it integrates commanded targets in lockstep, records every
stop() and can be told to fail or to be slow. A `FakeBridge` (websockets' sync server) plays a
misbehaving robot PC for the client's error handling and the fuzz test. Everything binds
127.0.0.1.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import msgpack
import numpy as np
import pytest
import websockets.sync.client
import websockets.sync.server
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from websockets.exceptions import ConnectionClosed

from librobot_gym.hardware.bridge import protocol as wire
from librobot_gym.hardware.bridge.client import BridgeDriver
from librobot_gym.hardware.bridge.server import BridgeServer
from librobot_gym.hardware.driver import (
    Driver,
    DriverDisconnected,
    DriverError,
    RobotFault,
    RobotState,
    SceneReport,
    lockstep_advance,
)
from librobot_gym.hardware.safety import SafetyLayer, SafetyLimits
from librobot_gym.serving.client import CONNECT_OPTIONS
from librobot_gym.wire import msgpack_numpy
from tests.waiting import wait_until

HEARTBEAT = 0.5  # the server's heartbeat_timeout in these tests
ROOT = Path(__file__).resolve().parents[3]


class FakeArm(Driver):
    """A 7-joint arm that moves towards its target at `speed` rad/s per `advance(dt)`, in
    lockstep: its clock (`now()`, the stamps) is the simulated time."""

    name = "fake-arm"
    realtime = False

    def __init__(self, speed: float = 1.0):
        self.q = np.zeros(7)
        self.qd = np.zeros(7)
        self.target = np.zeros(7)
        self.opening = 0.04
        self.speed, self.t = speed, 0.0
        self.stops: list[float] = []  # time.monotonic() of each stop()
        self.fail: Exception | None = None  # raised by every call but stop while set
        self.delay = 0.0  # seconds each call but stop takes
        self.connected = False
        self.placed: tuple[dict, dict] | None = None
        self.episodes: list[int | None] = []  # the seeds start_episode was given

    def _enter(self) -> None:
        if self.delay:
            time.sleep(self.delay)
        if self.fail is not None:
            raise self.fail

    def now(self) -> float:
        return self.t

    def start_episode(self, seed: int | None) -> None:
        """A lockstep arm restarts its clock per episode."""
        self._enter()
        self.episodes.append(seed)
        self.t = 0.0

    def connect(self) -> None:
        self._enter()
        self.connected = True

    def read_state(self) -> RobotState:
        self._enter()
        return RobotState(joint_pos=self.q.copy(), joint_vel=self.qd.copy(),
                          gripper_opening=self.opening, stamp=self.t,
                          extras={"torque": np.arange(7, dtype=np.float32), "mode": "track"})

    def command(self, joint_targets: np.ndarray, gripper_opening: float) -> None:
        self._enter()
        self.target = np.array(joint_targets, dtype=np.float64)
        self.opening = gripper_opening

    def advance(self, dt: float) -> bool:
        self._enter()
        step = np.clip(self.target - self.q, -self.speed * dt, self.speed * dt)
        self.q, self.qd, self.t = self.q + step, step / dt, self.t + dt
        return True

    def move_to(self, joint_pos: np.ndarray, gripper_opening: float, timeout: float) -> None:
        self._enter()
        self.q = self.target = np.array(joint_pos, dtype=np.float64)
        self.opening = gripper_opening

    def stop(self) -> None:
        self.stops.append(time.monotonic())
        self.target = self.q.copy()

    def close(self) -> None:
        self.stop()

    def reset_scene(self, poses, colours) -> bool:
        self._enter()
        self.placed = (poses, colours)
        return True

    def scene(self) -> SceneReport:
        self._enter()
        return SceneReport(object_pos={"cup": np.array([0.5, 0.0, 0.05])},
                           object_quat={"cup": np.array([1.0, 0.0, 0.0, 0.0])},
                           grasped={"cup": False})

    def camera_frames(self, size: tuple[int, int]) -> dict[str, np.ndarray]:
        self._enter()
        rng = np.random.default_rng(0)
        return {"front": rng.integers(0, 256, (*size, 3), dtype=np.uint8)}


class BareArm(Driver):
    """A driver with only the required methods: no scene, cameras or lockstep."""

    name = "bare-arm"

    def connect(self) -> None: ...
    def read_state(self) -> RobotState:
        return RobotState(np.zeros(7), np.zeros(7), 0.0, 0.0)
    def command(self, joint_targets, gripper_opening) -> None: ...
    def move_to(self, joint_pos, gripper_opening, timeout) -> None: ...
    def stop(self) -> None: ...
    def close(self) -> None: ...


def roomy(driver: Driver) -> SafetyLayer:
    """A safety layer wide enough for these tests' moves (+-3 rad, 5 rad a step): the limits
    themselves are tested with a Franka's in test_bridge_safety.py."""
    ones = np.ones(7)
    limits = SafetyLimits(joint_lower=-3 * ones, joint_upper=3 * ones, max_joint_step=5 * ones,
                          max_joint_velocity=100 * ones, workspace_lower=-np.ones(3),
                          workspace_upper=np.ones(3), max_gripper_opening=0.08)
    return SafetyLayer(driver, limits, 0.05)


def serve(driver: Driver, **options) -> BridgeServer:
    return BridgeServer(driver, roomy(driver), **options)


@pytest.fixture
def arm():
    return FakeArm()


@pytest.fixture
def server(arm):
    with serve(arm, heartbeat_timeout=HEARTBEAT) as server:
        yield server


@pytest.fixture
def bridge(server):
    driver = BridgeDriver(server.url)
    driver.connect()
    yield driver
    driver.close()


# --- round trips ------------------------------------------------------------------------------
def test_every_driver_method_round_trips(arm, bridge):
    assert arm.connected and bridge.remote["driver"] == "fake-arm"
    assert set(bridge.remote["ops"]) >= {"reset_scene", "scene", "camera_frames", "advance",
                                         "start_episode"}

    bridge.move_to(np.full(7, 0.1), 0.03, timeout=5.0)
    np.testing.assert_array_equal(arm.q, np.full(7, 0.1))
    state = bridge.read_state()
    assert state.joint_pos.dtype == np.float64 and state.joint_pos.flags.writeable
    np.testing.assert_array_equal(state.joint_pos, np.full(7, 0.1))
    assert state.gripper_opening == 0.03 and state.extras["mode"] == "track"
    assert state.extras["torque"].dtype == np.float32
    np.testing.assert_array_equal(state.extras["torque"], np.arange(7))

    targets = np.linspace(-0.5, 0.5, 7)
    bridge.command(targets, 0.08)
    np.testing.assert_array_equal(arm.target, targets)
    assert arm.opening == 0.08
    for _ in range(3):
        assert lockstep_advance(bridge, 0.1)
    state = bridge.read_state()
    np.testing.assert_allclose(state.joint_pos, 0.1 + np.clip(targets - 0.1, -0.3, 0.3))
    assert state.stamp == pytest.approx(0.3)

    pos, quat = np.array([0.4, 0.1, 0.05]), np.array([0.0, 0.0, 0.0, 1.0])
    assert bridge.reset_scene({"cup": (pos, quat)}, {"cup": (1.0, 0.0, 0.0, 1.0)}) is True
    poses, colours = arm.placed
    np.testing.assert_array_equal(poses["cup"][0], pos)
    np.testing.assert_array_equal(poses["cup"][1], quat)
    assert colours == {"cup": (1.0, 0.0, 0.0, 1.0)}
    report = bridge.scene()
    np.testing.assert_array_equal(report.object_pos["cup"], [0.5, 0.0, 0.05])
    np.testing.assert_array_equal(report.object_quat["cup"], [1.0, 0.0, 0.0, 0.0])
    assert report.grasped == {"cup": False}
    frames = bridge.camera_frames((48, 64))
    np.testing.assert_array_equal(frames["front"], arm.camera_frames((48, 64))["front"])
    assert frames["front"].dtype == np.uint8

    before = len(arm.stops)
    bridge.stop()
    assert len(arm.stops) == before + 1
    bridge.connect()  # idempotent on an open link
    assert bridge.ping() < 1.0


def test_optional_methods_of_a_bare_driver_are_answered_locally():
    with serve(BareArm()) as server:
        bridge = BridgeDriver(server.url)
        bridge.connect()
        assert "advance" not in bridge.remote["ops"] and "scene" not in bridge.remote["ops"]
        assert not lockstep_advance(bridge, 0.1)
        assert bridge.scene() is None and bridge.camera_frames((8, 8)) is None
        assert bridge.reset_scene({}, {}) is False
        assert "start_episode" not in bridge.remote["ops"]
        bridge.start_episode(4)  # a robot has nothing to do: not sent
        assert bridge.read_state().joint_pos.shape == (7,)
        bridge.close()


def test_start_episode_reaches_a_lockstep_driver_with_its_seed(arm, bridge):
    """An env's reset(seed=...) restarts a lockstep stand-in behind the bridge as it does one
    in the env's own process, so a seed replays the same episode either way."""
    assert lockstep_advance(bridge, 0.1) and bridge.read_state().stamp == pytest.approx(0.1)
    bridge.start_episode(7)
    bridge.start_episode(None)
    assert arm.episodes == [7, None]
    assert bridge.read_state().stamp == 0.0


def test_the_bridge_tells_the_safety_layer_the_served_clock(arm, server):
    bridge = BridgeDriver(server.url)
    assert bridge.realtime is False  # asked before connect(): opens the link to find out
    bridge.connect()
    bridge.command(np.ones(7), 0.0)
    lockstep_advance(bridge, 0.25)
    state = bridge.read_state()
    assert state.stamp == bridge.now() == pytest.approx(0.25)  # the lockstep clock
    bridge.close()
    with serve(BareArm()) as wall_clock:  # no now(): the robot PC's monotonic clock
        bridge = BridgeDriver(wall_clock.url)
        bridge.connect()
        assert bridge.realtime is True
        assert abs(bridge.now() - time.monotonic()) < 0.01  # one machine: no offset
        bridge.close()


@pytest.mark.parametrize("error", [RobotFault("reflex: joint 4 torque"),
                                   DriverDisconnected("libfranka lost the arm"),
                                   DriverError("gripper jammed")])
def test_remote_errors_keep_their_type(arm, bridge, error):
    arm.fail = error
    with pytest.raises(type(error), match=str(error)) as raised:
        bridge.command(np.zeros(7), 0.0)
    assert type(raised.value) is type(error)
    assert "Traceback" in raised.value.remote_traceback
    arm.fail = None
    bridge.command(np.zeros(7), 0.0)  # the link survives a remote error


def test_a_driver_bug_is_a_driver_error_and_stops_the_robot(arm, bridge):
    arm.fail = ZeroDivisionError("oops")
    with pytest.raises(DriverError, match="ZeroDivisionError") as raised:
        bridge.read_state()
    assert type(raised.value) is DriverError and arm.stops
    arm.fail = None
    assert bridge.read_state().joint_pos.shape == (7,)


def test_a_second_client_is_refused(server, bridge):
    other = BridgeDriver(server.url)
    with pytest.raises(DriverDisconnected, match="busy"):
        other.connect()
    assert bridge.read_state().joint_pos.shape == (7,)


# --- malformed frames -------------------------------------------------------------------------
def raw_client(url: str):
    ws = websockets.sync.client.connect(url, ping_interval=None, **CONNECT_OPTIONS)
    hello = msgpack_numpy.unpackb(ws.recv(timeout=2))
    assert hello == {"v": 1, "hello": {"driver": "fake-arm", "protocol": 1,
                                       "heartbeat_s": HEARTBEAT}}
    return ws


def ask(ws, frame) -> dict:
    ws.send(frame if isinstance(frame, bytes | str) else msgpack_numpy.packb(frame))
    return msgpack_numpy.unpackb(ws.recv(timeout=2))


@pytest.mark.parametrize("frame, request_id, says", [
    (b"\xc1\x00", None, "not msgpack"),
    ("read_state", None, "text frame"),
    ([1, "read_state"], None, "map"),
    ({"v": 1, "id": "one", "op": "ping"}, None, "id"),
    ({"v": 2, "id": 7, "op": "ping"}, 7, "version 2"),
    ({"id": 8, "op": "ping"}, 8, "version None"),
    ({"v": 1, "id": 9, "op": "fly"}, 9, "unknown op"),
    ({"v": 1, "id": 10, "op": "command", "args": {}}, 10, "missing 'joint_targets'"),
    ({"v": 1, "id": 11, "op": "command", "args": {"joint_targets": "up",
                                                    "gripper_opening": 0.0}}, 11, "array"),
    ({"v": 1, "id": 12, "op": "command", "args": {"joint_targets": np.full(7, np.nan),
                                                    "gripper_opening": 0.0}}, 12, "finite"),
    ({"v": 1, "id": 13, "op": "advance", "args": {"dt": -1.0}}, 13, "dt"),
    ({"v": 1, "id": 14, "op": "camera_frames", "args": {"size": [0, 4]}}, 14, "size"),
    ({"v": 1, "id": 15, "op": "move_to", "args": []}, 15, "map"),
    ({"v": 1, "id": 16, "op": "start_episode", "args": {"seed": -3}}, 16, "seed"),
    ({"v": 1, "id": 17, "op": "start_episode", "args": {"seed": "3"}}, 17, "seed"),
])
def test_malformed_frames_get_bad_request_and_the_server_keeps_serving(
        arm, server, frame, request_id, says):
    ws = raw_client(server.url)
    try:
        answer = ask(ws, frame)
        assert answer["v"] == 1 and answer["id"] == request_id and answer["ok"] is False
        assert answer["error"]["type"] == "BadRequest" and says in answer["error"]["message"]
        answer = ask(ws, {"v": 1, "id": 99, "op": "read_state", "args": {}})
        assert answer["ok"] and answer["id"] == 99
        assert answer["result"]["joint_pos"].shape == (7,)
        assert not arm.stops
    finally:
        ws.close()


# --- heartbeats -------------------------------------------------------------------------------
def test_a_silent_client_gets_the_robot_stopped(arm, server):
    ws = raw_client(server.url)
    assert ask(ws, {"v": 1, "id": 1, "op": "command",
                    "args": {"joint_targets": np.ones(7), "gripper_opening": 0.0}})["ok"]
    last = time.monotonic()
    assert wait_until(lambda: arm.stops, HEARTBEAT + 1.0)
    assert HEARTBEAT - 0.05 <= arm.stops[0] - last <= HEARTBEAT + 0.3
    with pytest.raises(ConnectionClosed):  # and its session is over
        ws.recv(timeout=2)
    ws.close()


def test_a_killed_client_gets_the_robot_stopped(arm, server):
    ws = raw_client(server.url)
    assert ask(ws, {"v": 1, "id": 1, "op": "ping"})["ok"]
    ws.socket.close()  # no closing handshake, as when the process dies
    killed = time.monotonic()
    assert wait_until(lambda: arm.stops, HEARTBEAT + 1.0)
    assert arm.stops[0] - killed <= HEARTBEAT + 0.3


def test_an_idle_bridge_and_a_slow_driver_call_keep_the_robot_going(arm, server):
    bridge = BridgeDriver(server.url, timeout=3.0)
    bridge.connect()
    time.sleep(3 * HEARTBEAT)  # idle: the heartbeat thread pings
    arm.delay = 3 * HEARTBEAT  # one call longer than the server's heartbeat timeout
    assert bridge.read_state().joint_pos.shape == (7,)
    arm.delay = 0.0
    bridge.command(np.zeros(7), 0.0)
    assert not arm.stops
    bridge.close()
    assert arm.stops  # closing stops the robot


def test_stop_overtakes_a_slow_move(arm, bridge):
    arm.delay = 1.0
    mover = threading.Thread(target=bridge.move_to, args=(np.ones(7), 0.0, 2.0))
    mover.start()
    time.sleep(0.2)
    asked = time.monotonic()
    bridge.stop()  # from another thread, while move_to holds the link
    assert wait_until(lambda: arm.stops, 0.5) and arm.stops[0] - asked < 0.3
    mover.join()
    arm.delay = 0.0
    assert bridge.read_state().joint_pos.shape == (7,)


# --- a lost server ------------------------------------------------------------------------------
def serve_fake_arm_until_killed() -> None:
    """`python -m tests.hardware.bridge.test_bridge`: serve a FakeArm, print the port, wait."""
    server = serve(FakeArm(), heartbeat_timeout=HEARTBEAT)
    print(server.start(), flush=True)
    threading.Event().wait()


def test_a_killed_server_raises_disconnected_and_a_new_one_reconnects():
    process = subprocess.Popen([sys.executable, "-m", "tests.hardware.bridge.test_bridge"],
                               cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        port = int(process.stdout.readline())
        bridge = BridgeDriver(f"ws://127.0.0.1:{port}", timeout=1.0)
        bridge.connect()
        assert bridge.read_state().joint_pos.shape == (7,)
    finally:
        process.kill()
        process.wait()
    killed = time.monotonic()
    with pytest.raises(DriverDisconnected, match=f"127.0.0.1:{port}.*connect()"):
        bridge.read_state()
    assert time.monotonic() - killed <= bridge.timeout + 0.2
    with pytest.raises(DriverDisconnected, match="connect()"):  # and it stays so
        bridge.command(np.zeros(7), 0.0)
    with pytest.raises(DriverDisconnected, match="cannot reach"):
        bridge.connect()

    arm = FakeArm()
    with serve(arm, port=port, heartbeat_timeout=HEARTBEAT):
        bridge.connect()
        assert arm.connected
        bridge.command(np.ones(7), 0.0)
        np.testing.assert_array_equal(arm.target, np.ones(7))
        bridge.close()


class FakeBridge:
    """A robot PC that says what the test wants: `hello` first, then per op a reply builder
    (request id -> frame), "silent" for no reply; ops not listed get a plain valid reply."""

    INFO = {"driver": "fake", "protocol": 1, "heartbeat_s": HEARTBEAT, "ops": list(wire.OPS)}

    def __init__(self):
        self.hello = wire.hello("fake", HEARTBEAT)
        self.replies: dict[str, Callable[[int], bytes | str] | str] = {}
        self.server = websockets.sync.server.serve(self._handle, "127.0.0.1", 0,
                                                   ping_interval=None)
        self.url = f"ws://127.0.0.1:{self.server.socket.getsockname()[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def _handle(self, ws) -> None:
        try:
            ws.send(self.hello)
            for message in ws:
                request = msgpack_numpy.unpackb(message)
                make = self.replies.get(request["op"])
                if make == "silent":
                    continue
                if make is not None:
                    ws.send(make(request["id"]))
                else:
                    ws.send(wire.reply(request["id"],
                                       self.INFO if request["op"] == "info" else None))
        except ConnectionClosed:
            pass

    def close(self) -> None:
        self.server.shutdown()


@pytest.fixture(scope="module")
def fake_bridge():
    fake = FakeBridge()
    yield fake
    fake.close()


def test_a_hung_server_raises_disconnected_within_the_timeout(fake_bridge):
    fake_bridge.replies = {"read_state": "silent"}
    bridge = BridgeDriver(fake_bridge.url, timeout=0.5)
    bridge.connect()
    asked = time.monotonic()
    with pytest.raises(DriverDisconnected, match=r"no reply to read_state .* within 0.5s"):
        bridge.read_state()
    assert time.monotonic() - asked < 0.5 + 0.2
    bridge.close()


def test_a_version_mismatch_is_refused(fake_bridge):
    fake_bridge.hello = msgpack.packb({"v": 2, "hello": {"driver": "future", "protocol": 2,
                                                         "heartbeat_s": HEARTBEAT}})
    try:
        with pytest.raises(DriverError, match="version 2.*same librobot-gym") as raised:
            BridgeDriver(fake_bridge.url).connect()
        assert type(raised.value) is DriverError
    finally:
        fake_bridge.hello = wire.hello("fake", HEARTBEAT)


# --- fuzz: whatever a broken server sends, the driver returns a valid value or DriverError ------
def msgpack_values():
    leaves = (st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.floats()
              | st.text(max_size=8) | st.binary(max_size=16))
    return st.recursive(leaves, lambda inner: st.lists(inner, max_size=4)
                        | st.dictionaries(st.text(max_size=8) | st.binary(max_size=8), inner,
                                          max_size=4), max_leaves=12)


def arrays():
    dtypes = st.sampled_from(["<f8", "<f4", "|u1", "<i8", "|b1", "<U2"])
    shapes = st.lists(st.integers(0, 4), max_size=3)
    honest = st.builds(lambda dtype, shape: np.zeros(shape, dtype=dtype), dtypes, shapes)
    forged = st.fixed_dictionaries({b"__ndarray__": st.just(True), b"data": st.binary(max_size=32),
                                    b"dtype": st.sampled_from(["<f8", "|u1", "|O", "zz", 5]),
                                    b"shape": st.lists(st.integers(-2, 10**6), max_size=3)})
    return honest | forged


def results():
    value = msgpack_values() | arrays()
    state = st.fixed_dictionaries(
        {"joint_pos": value, "joint_vel": value, "gripper_opening": value, "stamp": value},
        optional={"extras": value})
    scene = st.fixed_dictionaries({}, optional={
        "object_pos": st.dictionaries(st.text(max_size=3), value, max_size=2),
        "object_quat": st.dictionaries(st.text(max_size=3), value, max_size=2),
        "grasped": st.dictionaries(st.text(max_size=3), value, max_size=2)})
    frames = st.dictionaries(st.text(max_size=3), value, max_size=2)
    return value | state | scene | frames


def with_id(envelope: dict, request_id: int, shift: int | str | None) -> dict:
    """The envelope answering `request_id` (shift 0), another id, nil, or without an id."""
    if shift == "no id":
        return envelope
    return {**envelope, "id": None if shift is None else request_id + shift}


def replies():
    """Reply builders: garbage bytes, text, any msgpack, and envelopes echoing the id."""
    error = st.fixed_dictionaries({"type": st.sampled_from(wire.ERROR_TYPES) | msgpack_values(),
                                   "message": msgpack_values() | st.text(max_size=8)},
                                  optional={"traceback": msgpack_values()})
    envelope = st.fixed_dictionaries({"v": st.just(1) | msgpack_values(), "ok": st.booleans()},
                                     optional={"result": results(), "error": error | results(),
                                               "clock": st.floats() | msgpack_values()})
    return st.one_of(
        st.binary(max_size=64).map(lambda data: lambda rid: data),
        st.text(max_size=16).map(lambda text: lambda rid: text),
        msgpack_values().map(lambda obj: lambda rid: msgpack_numpy.packb(obj)),
        st.tuples(envelope, st.sampled_from([0, 1, None, "no id"])).map(
            lambda pair: lambda rid: msgpack_numpy.packb(with_id(pair[0], rid, pair[1]))),
    )


CALLS = {
    "connect": lambda d: d.connect(),
    "read_state": lambda d: d.read_state(),
    "command": lambda d: d.command(np.zeros(7), 0.0),
    "move_to": lambda d: d.move_to(np.zeros(7), 0.0, 0.1),
    "stop": lambda d: d.stop(),
    "reset_scene": lambda d: d.reset_scene({"cup": (np.zeros(3), np.ones(4))}, {}),
    "scene": lambda d: d.scene(),
    "camera_frames": lambda d: d.camera_frames((4, 4)),
    "advance": lambda d: d.advance(0.1),
    "start_episode": lambda d: d.start_episode(3),
}


def check_value(op: str, value) -> None:
    if op == "read_state":
        assert isinstance(value, RobotState) and isinstance(value.extras, dict)
        assert value.joint_pos.dtype == np.float64 and value.joint_pos.ndim == 1
        assert value.joint_vel.shape == value.joint_pos.shape
        assert isinstance(value.gripper_opening, float) and isinstance(value.stamp, float)
    elif op == "scene":
        assert value is None or isinstance(value, SceneReport)
        if value is not None:
            assert all(p.shape == (3,) for p in value.object_pos.values())
            assert all(isinstance(g, bool) for g in value.grasped.values())
    elif op == "camera_frames":
        assert value is None or all(f.dtype == np.uint8 and f.ndim == 3
                                    for f in value.values())
    elif op in ("reset_scene", "advance"):
        assert isinstance(value, bool)
    else:
        assert value is None


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(target=st.sampled_from(["hello", "info", *CALLS]), make_reply=replies())
def test_fuzz_malformed_replies_raise_driver_error_only(fake_bridge, target, make_reply):
    fake_bridge.replies = {}
    if target == "hello":
        fake_bridge.hello = make_reply(0)
    else:
        fake_bridge.replies = {target: make_reply}
    bridge = BridgeDriver(fake_bridge.url, timeout=0.3)
    try:
        started = time.monotonic()
        try:
            bridge.connect()
            op = target if target in CALLS else "connect"
            if op != "connect":
                check_value(op, CALLS[op](bridge))
            event("returned a valid value")
        except DriverError as exc:
            event(f"raised {type(exc).__name__}")
        assert time.monotonic() - started < 2.0
    finally:
        bridge.close()
        fake_bridge.hello = wire.hello("fake", HEARTBEAT)


if __name__ == "__main__":
    serve_fake_arm_until_killed()
