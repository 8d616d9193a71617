"""The robot side enforces safety: whatever a client sends the bridge, nothing outside the
robot's limits reaches the driver and no request changes a later episode; a slow request is
not client silence. (The drivers' own refusals: tests/hardware/test_driver_limits.py.)

The bridge serves a lockstep PyBullet twin of the PickCup cell through `Recorder`, a proxy that
writes down every call that reaches the driver (and fakes the cameras, so the fuzz does not
spend its time rendering). Requests go in as raw frames through the protocol's own encoder.
Everything binds 127.0.0.1.
"""

from __future__ import annotations

import math
import time
from functools import cache

import numpy as np
import pytest
import websockets.sync.client
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from websockets.exceptions import ConnectionClosed

from librobot_gym.envs.real.kinematics import ArmKinematics
from librobot_gym.envs.tasks.pick_cup import PickCup
from librobot_gym.hardware.bridge import protocol as wire
from librobot_gym.hardware.bridge.client import BridgeDriver
from librobot_gym.hardware.bridge.guard import bridge_safety
from librobot_gym.hardware.bridge.server import BridgeServer
from librobot_gym.hardware.driver import (
    Driver,
    DriverDisconnected,
    DriverError,
    LimitViolation,
    RobotState,
)
from librobot_gym.hardware.twin.driver import TwinDriver
from librobot_gym.robots.arms.franka_panda import FRANKA_PANDA
from librobot_gym.scene import Cell
from librobot_gym.wire import msgpack_numpy
from librobot_gym.wire.websocket import CONNECT_OPTIONS
from tests.hardware.bridge.test_bridge import FakeArm, serve

HEARTBEAT = 0.5
# The limits tests' server: its clients check the twin between requests, which on a loaded
# machine (CI beside a training run) once took over 0.5 s and the heartbeat stopped the
# episode under the fuzz test. Silence is tested with HEARTBEAT itself, below.
LIMITS_HEARTBEAT = 5.0
HOME = np.array(FRANKA_PANDA.home_qpos)
CUP = (np.array([0.5, 0.05, 0.05]), np.array([1.0, 0.0, 0.0, 0.0]))
ORANGE = (0.95, 0.5, 0.08, 1.0)
TOL = 1e-6


@cache
def tool_position():
    return ArmKinematics(FRANKA_PANDA, "joint_pos").tool_position


class Recorder(Driver):
    """Forwards to `inner` and records what reaches it: each command with the reading the
    server clipped it from, each posture, placement, colour, advance and camera size."""

    name = "recorder"

    def __init__(self, inner: Driver):
        self.inner = inner
        self.realtime = inner.realtime
        self.read: RobotState | None = None
        self.calls: list[tuple] = []

    def now(self) -> float:
        return self.inner.now()

    def connect(self) -> None:
        self.inner.connect()

    def read_state(self) -> RobotState:
        self.read = self.inner.read_state()
        return self.read

    def command(self, joint_targets, gripper_opening) -> None:
        self.calls.append(("command", np.array(joint_targets), float(gripper_opening),
                           self.read.joint_pos.copy()))
        self.inner.command(joint_targets, gripper_opening)

    def move_to(self, joint_pos, gripper_opening, timeout) -> None:
        self.calls.append(("move_to", np.array(joint_pos), float(gripper_opening), timeout))
        self.inner.move_to(joint_pos, gripper_opening, timeout)

    def stop(self) -> None:
        self.inner.stop()

    def close(self) -> None:
        self.inner.close()

    def reset_scene(self, poses, colours) -> bool:
        self.calls.append(("reset_scene", poses, colours))
        return self.inner.reset_scene(poses, colours)

    def scene(self):
        return self.inner.scene()

    def camera_frames(self, size):
        self.calls.append(("camera_frames", size))
        return {"front": np.zeros((2, 2, 3), np.uint8)}

    def advance(self, dt: float) -> bool:
        self.calls.append(("advance", dt))
        return self.inner.advance(dt)


@pytest.fixture(scope="module")
def twin():
    twin = TwinDriver(FRANKA_PANDA, realtime=False, scene=Cell.of(PickCup(FRANKA_PANDA)))
    yield twin
    twin.close()


@pytest.fixture(scope="module")
def cell(twin):
    """(recorder, server): the twin behind the recorder, served with the Franka's limits."""
    recorder = Recorder(twin)
    safety = bridge_safety(recorder, FRANKA_PANDA, forward_kinematics=tool_position())
    with BridgeServer(recorder, safety, heartbeat_timeout=LIMITS_HEARTBEAT) as server:
        yield recorder, server


def raw_client(url: str):
    """A connection that has read its hello (retried while the last session is closing)."""
    deadline = time.monotonic() + 5.0
    while True:
        ws = websockets.sync.client.connect(url, ping_interval=None, max_size=2**26,
                                            **CONNECT_OPTIONS)
        if "hello" in msgpack_numpy.unpackb(ws.recv(timeout=5)):
            return ws
        ws.close()  # busy: the previous client's session has not ended yet
        assert time.monotonic() < deadline, "the bridge stayed busy"
        time.sleep(0.02)


def connected(url: str) -> BridgeDriver:
    """A BridgeDriver connected once the last test's session has ended (one client at a time)."""
    bridge = BridgeDriver(url, timeout=10)
    deadline = time.monotonic() + 5.0
    while True:
        try:
            bridge.connect()
            return bridge
        except DriverDisconnected:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def ask(ws, request_id: int, op: str, args) -> dict:
    ws.send(wire.request(request_id, op, args))
    while True:  # skip replies to earlier requests of a fuzz example that were not awaited
        reply = msgpack_numpy.unpackb(ws.recv(timeout=30))
        if reply["id"] == request_id:
            return reply


def place_cup_and_look(ws) -> np.ndarray:
    """A normal episode start: the cup placed, then where the cell reports it."""
    args = wire.reset_scene_args({"cup": CUP}, {"cup": ORANGE})
    assert ask(ws, 1, "reset_scene", args)["ok"]
    return ask(ws, 2, "scene", {})["result"]["object_pos"]["cup"]


# --- the requests that used to break the cell -----------------------------------------------
def test_a_nan_cup_is_refused_and_the_next_episode_is_unchanged(cell):
    recorder, server = cell
    ws = raw_client(server.url)
    try:
        before = place_cup_and_look(ws)
        np.testing.assert_allclose(before, CUP[0], atol=2e-3)
        for pos, quat, says in [([math.nan, 0.0, 0.05], [1, 0, 0, 0], "finite"),
                                ([0.5, 0.0, math.inf], [1, 0, 0, 0], "finite"),
                                ([0.5, 0.0, 0.05], [2.0, 0, 0, 0], "norm 1"),
                                ([0.5, 0.0, 0.05], [0, 0, 0, 0], "norm 1")]:
            reply = ask(ws, 3, "reset_scene", {"poses": {"cup": [np.array(pos), np.array(quat)]},
                                               "colours": {}})
            assert not reply["ok"] and reply["error"]["type"] == "BadRequest"
            assert says in reply["error"]["message"]
        reply = ask(ws, 4, "reset_scene", {"poses": {"cup": [np.array([3.0, 0.0, 0.05]),
                                                             np.array([1.0, 0, 0, 0])]},
                                           "colours": {}})
        assert reply["error"]["type"] == "LimitViolation" and "workspace" in \
            reply["error"]["message"]
        reply = ask(ws, 5, "reset_scene", {"poses": {}, "colours": {"cup": [1.0, 0.0, 9.0, 1]}})
        assert reply["error"]["type"] == "BadRequest" and "[0, 1]" in reply["error"]["message"]
        np.testing.assert_allclose(place_cup_and_look(ws), before, atol=1e-4)
    finally:
        ws.close()


def test_a_huge_command_is_refused_and_a_far_one_clipped_to_one_step(cell, twin):
    recorder, server = cell
    ws = raw_client(server.url)
    try:
        assert ask(ws, 1, "move_to", wire.move_to_args(HOME, 0.04, 5.0))["ok"]
        start = ask(ws, 2, "read_state", {})["result"]["joint_pos"]
        recorder.calls.clear()
        reply = ask(ws, 3, "command", wire.command_args(np.full(7, 1e30), 0.04))
        assert reply["error"]["type"] == "LimitViolation" and "joint limits" in \
            reply["error"]["message"]
        assert not recorder.calls  # nothing reached the twin
        assert ask(ws, 4, "advance", {"dt": 0.5})["ok"]
        still = ask(ws, 5, "read_state", {})["result"]["joint_pos"]
        np.testing.assert_allclose(still, start, atol=0.01)  # it did not move
        reply = ask(ws, 6, "command", wire.command_args(HOME + 0.5, 0.04))  # inside the limits
        assert reply["ok"] and reply["result"]["joint_step"] > 0.3  # what was clipped
        _, sent, _, read = recorder.calls[-1]
        step = server.safety.limits.max_joint_step
        assert np.all(np.abs(sent - read) <= step + TOL)
        reply = ask(ws, 7, "command", wire.command_args(HOME, 0.5))
        assert reply["error"]["type"] == "LimitViolation" and "gripper" in \
            reply["error"]["message"]
        reply = ask(ws, 8, "command", wire.command_args(np.zeros(5), 0.04))
        assert reply["error"]["type"] == "BadRequest" and "7 joint values" in \
            reply["error"]["message"]
        reply = ask(ws, 9, "move_to", wire.move_to_args(np.zeros(7), 0.04, 5.0))
        assert reply["error"]["type"] == "LimitViolation"  # joint 4 and 6 outside
        reply = ask(ws, 10, "move_to", wire.move_to_args(HOME, 0.04, 1e9))
        assert reply["error"]["type"] == "BadRequest" and "timeout" in reply["error"]["message"]
    finally:
        ws.close()


def test_the_client_raises_the_typed_limit_violation(cell):
    recorder, server = cell
    bridge = connected(server.url)
    try:
        with pytest.raises(LimitViolation, match="outside the joint limits"):
            bridge.move_to(np.zeros(7), 0.04, 5.0)
        with pytest.raises(LimitViolation, match="workspace"):
            bridge.reset_scene({"cup": (np.array([0.5, 0.0, -1.0]), CUP[1])}, {})
        with pytest.raises(DriverError, match="too large"):
            bridge.camera_frames((5000, 5000))
        bridge.move_to(HOME, 0.04, 5.0)  # and the link still serves
    finally:
        bridge.close()


# --- the fuzz: raw frames with any op and any args ---------------------------------------------
WILD = [math.nan, math.inf, -math.inf, 1e30, -1e30, 1e308, -0.0, 5e-324]
NUMBERS = st.one_of(st.floats(-4.0, 4.0), st.sampled_from(WILD), st.integers(-(2**63), 2**64 - 1))


def msgpack_values():
    leaves = (st.none() | st.booleans() | NUMBERS | st.floats() | st.text(max_size=6)
              | st.binary(max_size=8))
    return st.recursive(leaves, lambda inner: st.lists(inner, max_size=4)
                        | st.dictionaries(st.text(max_size=6), inner, max_size=3), max_leaves=8)


def cast(array: np.ndarray, dtype: str) -> np.ndarray:
    with np.errstate(over="ignore", invalid="ignore"):
        return array.astype(dtype)


def vectors(sizes=None, elements=NUMBERS):
    """Arrays (of several dtypes) and lists, of about the lengths an op wants."""
    sizes = st.integers(0, 9) if sizes is None else sizes
    floats = st.builds(lambda values, dtype: cast(np.array(values), dtype),
                       st.lists(st.floats(-4.0, 4.0) | st.sampled_from(WILD), max_size=9),
                       st.sampled_from(["<f8", "<f4", "<f2"]))
    ints = st.builds(np.array, st.lists(st.integers(-5, 5), max_size=9))
    shaped = st.builds(lambda n, fill: np.full(n, fill), sizes,
                       st.floats(-4.0, 4.0) | st.sampled_from(WILD))
    return (floats | ints | shaped | st.lists(elements, max_size=9)
            | st.builds(lambda: np.zeros((2, 3))) | msgpack_values())


def near(lower, upper):
    """Positions or postures mostly inside a box, sometimes a little or far outside."""
    return st.builds(lambda u, spread: np.asarray(lower) + (np.asarray(upper) - lower) * (
        0.5 + spread * (np.asarray(u) - 0.5)), st.lists(st.floats(0, 1), min_size=len(lower),
                                                        max_size=len(lower)),
        st.sampled_from([0.5, 1.0, 1.2, 3.0]))


def mostly(good, *others):
    """`good` three times in four, else one of `others` (one_of would pick each evenly)."""
    return st.integers(0, 3 * len(others) + 2).flatmap(
        lambda i: good if i < 3 * len(others) else others[i % len(others)])


WORKSPACE = FRANKA_PANDA.workspace
UNIT = st.sampled_from([np.array([1.0, 0, 0, 0]), np.array([0.0, 0, 0, 1.0]),
                        np.array([0.7071068, 0, 0, 0.7071068])])
NAMES = mostly(st.sampled_from(["cup", "table"]), st.just("ghost"), st.text(max_size=70))
COLOUR = mostly(st.lists(st.floats(0.0, 1.0), min_size=4, max_size=4),
                vectors(st.integers(3, 5), st.floats(-1, 2)))
POSE = mostly(st.tuples(near(*WORKSPACE), UNIT).map(list),
              st.tuples(near(*WORKSPACE) | vectors(), UNIT | vectors()).map(list),
              msgpack_values())
POSTURE = mostly(near(HOME - 0.15, HOME + 0.15),
                 near(FRANKA_PANDA.joint_lower, FRANKA_PANDA.joint_upper), vectors())
OPENING = mostly(st.floats(0.0, 0.08), st.floats(-0.05, 0.12), NUMBERS, msgpack_values())


def seconds(most: float):
    return mostly(st.floats(0.0, most), NUMBERS, msgpack_values())


def maybe_broken(args: dict):
    """Mostly the args as the op wants them (with any values), else with keys dropped, or
    anything at all."""
    return mostly(st.fixed_dictionaries(args), st.fixed_dictionaries({}, optional=args),
                  msgpack_values())


ARGS = {
    "command": maybe_broken({"joint_targets": POSTURE | vectors(st.just(7)),
                             "gripper_opening": OPENING}),
    "move_to": maybe_broken({"joint_pos": POSTURE, "gripper_opening": OPENING,
                             "timeout": seconds(2.0)}),
    "reset_scene": maybe_broken({
        "poses": mostly(st.dictionaries(NAMES, POSE, max_size=2), msgpack_values()),
        "colours": mostly(st.dictionaries(NAMES, COLOUR, max_size=2), msgpack_values())}),
    "camera_frames": maybe_broken({"size": st.lists(st.integers(-5, 10**7), max_size=3)
                                   | msgpack_values()}),
    "advance": maybe_broken({"dt": seconds(0.2)}),
}
REQUEST = mostly(st.one_of(*[st.tuples(st.just(op), args) for op, args in ARGS.items()]),
                 st.tuples(st.sampled_from([*wire.OPS, "fly", 5]), msgpack_values()),
                 st.tuples(st.just("raw"), st.binary(max_size=32)))


def send(ws, request_id: int, op, args) -> None:
    if op == "raw":
        ws.send(args)
    else:
        ws.send(wire.request(request_id, op, args))


def assert_inside_the_limits(recorder: Recorder, server: BridgeServer) -> None:
    """Every call that reached the twin was inside the Franka's limits."""
    limits = server.safety.limits
    lower, upper = limits.workspace_lower, limits.workspace_upper

    def excess(q):
        tool = tool_position()(q)
        return float(np.linalg.norm(np.maximum(lower - tool, 0) + np.maximum(tool - upper, 0)))

    for call in recorder.calls:
        kind = call[0]
        event(f"{kind} reached the driver")
        if kind in ("command", "move_to"):
            _, q, opening, extra = call
            assert q.shape == (7,) and np.all(np.isfinite(q)), call
            assert np.all(q >= limits.joint_lower - TOL) and np.all(q <= limits.joint_upper + TOL)
            assert -TOL <= opening <= limits.max_gripper_opening + TOL, call
            if kind == "command":  # one step from the reading, no further out of the box
                assert np.all(np.abs(q - extra) <= limits.max_joint_step + TOL), call
                anchor = np.clip(extra, limits.joint_lower, limits.joint_upper)
                assert excess(q) <= excess(anchor) + TOL, call
            else:
                assert excess(q) <= TOL and 0 <= extra <= wire.MAX_MOVE_TIMEOUT, call
        elif kind == "reset_scene":
            _, poses, colours = call
            for pos, quat in poses.values():
                assert np.all(pos >= lower - TOL) and np.all(pos <= upper + TOL), call
                assert abs(np.linalg.norm(quat) - 1) < 1e-9, call
            for rgba in colours.values():
                assert len(rgba) == 4 and all(0 <= c <= 1 for c in rgba), call
        elif kind == "advance":
            assert 0 <= call[1] <= wire.MAX_ADVANCE, call
        elif kind == "camera_frames":
            height, width = call[1]
            assert height * width <= wire.MAX_CAMERA_PIXELS, call


@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
@given(requests=st.lists(REQUEST, min_size=1, max_size=6))
def test_fuzz_no_request_gets_past_the_limits_or_changes_the_next_episode(cell, requests):
    recorder, server = cell
    recorder.calls.clear()
    ws = raw_client(server.url)
    try:
        for request_id, (op, args) in enumerate(requests, start=10):
            send(ws, request_id, op, args)
        try:  # the driver's worker serves in order: after this reply, all above are done
            assert ask(ws, 99, "read_state", {})["ok"]
        except ConnectionClosed:
            pass  # the server may close a session; the next one must still be unharmed
        assert_inside_the_limits(recorder, server)
    finally:
        ws.close()
    ws = raw_client(server.url)  # the next episode, as a normal client starts it
    try:
        assert ask(ws, 1, "move_to", wire.move_to_args(HOME, 0.04, 5.0))["ok"]
        np.testing.assert_allclose(place_cup_and_look(ws), CUP[0], atol=2e-3)
        state = ask(ws, 3, "read_state", {})["result"]
        np.testing.assert_allclose(state["joint_pos"], HOME, atol=0.01)
    finally:
        ws.close()


# --- a slow request is not silence ------------------------------------------------------------
def test_a_slow_request_is_not_client_silence_but_a_slow_move_is_watched():
    arm = FakeArm()
    with serve(arm, heartbeat_timeout=HEARTBEAT) as server:
        ws = raw_client(server.url)  # a client that never pings
        try:
            arm.delay = 3 * HEARTBEAT
            reply = ask(ws, 1, "camera_frames", {"size": [8, 8]})
            assert reply["ok"] and not arm.stops  # 1.5 s serving it: not the client's silence
            arm.delay = 0.0
            assert ask(ws, 2, "read_state", {})["ok"]
            arm.delay = 3 * HEARTBEAT
            started = time.monotonic()
            ws.send(wire.request(3, "move_to", wire.move_to_args(np.ones(7), 0.0, 5.0)))
            deadline = time.monotonic() + 3.0
            while not arm.stops and time.monotonic() < deadline:
                time.sleep(0.01)
            assert arm.stops and arm.stops[0] - started <= HEARTBEAT + 0.3  # the robot moved
        finally:
            ws.close()


def test_a_large_twin_camera_frame_keeps_the_session(twin):
    safety = bridge_safety(twin, FRANKA_PANDA)
    with BridgeServer(twin, safety, heartbeat_timeout=HEARTBEAT) as server:
        bridge = BridgeDriver(server.url, timeout=60)
        bridge.connect()
        try:
            started = time.monotonic()
            frames = bridge.camera_frames((1024, 1024))
            took = time.monotonic() - started
            assert frames["front"].shape == (1024, 1024, 3)
            assert bridge.read_state().joint_pos.shape == (7,)  # the link survived
            print(f"\n1024x1024 twin frames through the bridge: {took:.2f} s, session kept")
        finally:
            bridge.close()
