"""`FeetechDriver` on the servo emulator (the vendor SDK on a pty, byte-exact): connect, state,
command tracking, homing, torque, calibration round trip and persistence, each injected fault
-> its typed error with the robot held, reconnects; the SO-100 real env end to end with a
scripted operator; a disconnect mid-episode recorded as aborted; and the safety property with
the SO-100's limits, checked on the goal registers the servos actually received."""

from __future__ import annotations

import json
import math
import threading
import time
from functools import cache

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from librobot_gym.benchmarks.rollout import run_episode
from librobot_gym.envs.core import RobotEnv
from librobot_gym.errors import ConfigError
from librobot_gym.hardware.cameras import ArrayFrameSource
from librobot_gym.hardware.console import OperatorConsole
from librobot_gym.hardware.driver import (
    DriverDisconnected,
    DriverError,
    LimitViolation,
    RobotFault,
)
from librobot_gym.hardware.drivers import make_driver
from librobot_gym.hardware.feetech.calibration import (
    Calibration,
    JointCalibration,
    calibration_path,
    record_calibration,
)
from librobot_gym.hardware.feetech.driver import (
    FeetechDriver,
    default_calibration,
    joint_names_and_limits,
)
from librobot_gym.hardware.feetech.emulator import ServoBusEmulator
from librobot_gym.hardware.feetech.protocol import STS3215
from librobot_gym.hardware.safety import SafetyLayer, SafetyLimits
from librobot_gym.policies import make_policy
from librobot_gym.robots.arms.so100 import SO100
from tests.waiting import wait_until

CALIBRATION = default_calibration(SO100)
IDS = CALIBRATION.servo_ids
TICK = 2 * math.pi / 4096


@pytest.fixture
def rig():
    """(emulator owned by the test, a connected driver on it, calibration zero = 2048)."""
    with ServoBusEmulator(IDS) as emulator:
        driver = FeetechDriver(SO100, emulator.port, calibration=CALIBRATION)
        driver.connect()
        try:
            yield emulator, driver
        finally:
            driver.close()


def flush(driver) -> None:
    """A round trip on the bus: the emulator has handled every frame sent before it (a sync
    write is not answered, so without this a test could look before it arrived)."""
    driver.bus.ping(IDS[0])


def goals(emulator) -> dict[int, int]:
    with emulator.lock:
        return {i: emulator.servo(i).get(STS3215.GOAL_POSITION) for i in IDS}


def held(emulator, ids=IDS) -> bool:
    """Every listed servo's goal is where its shaft is (the robot stopped and holds)."""
    positions = {i: emulator.position(i) for i in ids}
    return all(abs(goals(emulator)[i] - positions[i]) <= 1 for i in ids)


def test_connect_reads_state_and_tracks_commands(rig):
    emulator, driver = rig
    assert all(emulator.torque_enabled(i) for i in IDS)
    assert driver.models == dict.fromkeys(IDS, 777)
    state = driver.read_state()
    np.testing.assert_allclose(state.joint_pos, 0.0, atol=TICK)
    assert state.gripper_opening == pytest.approx(0.0, abs=1e-3)
    assert set(state.extras) >= {"load", "temperature_c", "voltage_v", "status"}
    np.testing.assert_allclose(state.extras["voltage_v"], 7.4)
    assert time.monotonic() - state.stamp < 0.1

    target = np.array([0.2, -0.1, 0.15, 0.3, -0.25])
    driver.command(target, 0.03)
    flush(driver)
    assert emulator.received["SYNC_WRITE"] >= 2  # connect's hold, then the command
    assert goals(emulator)[1] == 2048 + round(0.2 / TICK)
    time.sleep(0.3)  # 0.3 rad at ~4.4 rad/s
    state = driver.read_state()
    np.testing.assert_allclose(state.joint_pos, target, atol=TICK)
    assert state.gripper_opening == pytest.approx(0.03, abs=1e-3)
    assert np.all(state.extras["load"] == 0) and np.all(state.joint_vel == 0)
    driver.connect()  # idempotent: nothing re-sent
    assert emulator.received["PING"] == len(IDS) + 1  # connect's, and flush()'s


def test_move_to_stop_and_close_releases_torque(rig):
    emulator, driver = rig
    driver.move_speed = 2.0
    target = np.array([0.5, -0.4, 0.3, 0.6, 0.2])
    driver.move_to(target, 0.05, timeout=5.0)
    np.testing.assert_allclose(driver.read_state().joint_pos, target, atol=0.05)
    received = emulator.received["SYNC_WRITE"]
    with pytest.raises(LimitViolation, match="shoulder_pan 10 not in"):
        driver.move_to(np.full(5, 10.0), 0.0, timeout=0.3)  # outside the joint limits
    with pytest.raises(LimitViolation, match="gripper opening"):
        driver.command(target, 0.5)
    assert emulator.received["SYNC_WRITE"] == received  # refused before anything was sent
    with pytest.raises(DriverError, match="within"):
        driver.move_to(-target, 0.0, timeout=0.05)  # 1.2 rad at 2 rad/s: not in 0.05 s
    flush(driver)
    assert wait_until(lambda: held(emulator), 1.0)  # holds where stop() found it

    # stop() from another thread interrupts a move and holds where the arm is.
    driver.move_speed = 0.5
    stopper = threading.Timer(0.2, driver.stop)
    stopper.start()
    with pytest.raises(DriverError, match="interrupted"):
        driver.move_to(np.zeros(5), 0.0, timeout=5.0)
    stopper.join()
    flush(driver)
    assert wait_until(lambda: held(emulator), 1.0)  # holds where stop() found it
    driver.close()
    assert wait_until(lambda: not any(emulator.torque_enabled(i) for i in IDS))  # released
    driver.stop()  # a closed driver's stop() does nothing and raises nothing


def test_calibration_procedure_round_trip_and_persistence(tmp_path, monkeypatch):
    names, limits = joint_names_and_limits(SO100)
    start = {1: 700, 2: 3500, 3: 1500, 4: 2048, 5: 100, 6: 3000}  # anywhere on the turn
    with ServoBusEmulator(IDS, positions=start) as emulator:
        from librobot_gym.hardware.feetech.bus import FeetechBus

        bus = FeetechBus(emulator.port)
        bus.open()
        moves = iter([1, -1, 1, -1, 1, 1])  # which way each joint's shaft turns for "+"
        transcript: list[str] = []

        def ask(prompt: str) -> str:
            transcript.append(prompt)
            if "positive direction" in prompt:
                name = prompt.split("'")[1]
                servo_id = IDS[names.index(name)]
                emulator.move_by_hand(servo_id, emulator.position(servo_id) + 200 * next(moves))
            return ""

        calibration = record_calibration(bus, "so100", "lab-left", names, IDS, limits,
                                         ask=ask, say=transcript.append)
        bus.close()
        assert [j.offset for j in calibration.joints] == [2048] * 6  # re-centred
        assert [j.direction for j in calibration.joints] == [1, -1, 1, -1, 1, 1]
        monkeypatch.setenv("LIBROBOT_CALIBRATION_DIR", str(tmp_path))
        path = calibration.save()
        assert path == tmp_path / "lab-left.json" == calibration_path("lab-left")
        assert Calibration.load(path) == calibration

        # The driver finds the file by robot id; the arm now sits 200 ticks off zero each.
        driver = FeetechDriver(SO100, emulator.port, robot_id="lab-left")
        driver.connect()
        q = driver.read_state().joint_pos
        np.testing.assert_allclose(q, 200 * TICK, atol=TICK)  # each moved "+"
        driver.command(np.zeros(5), 0.0)
        flush(driver)
        assert goals(emulator)[2] == 2048  # direction -1 maps back to the zero ticks
        driver.close()


def test_calibration_files_are_validated_with_the_fix_named(tmp_path):
    good = json.loads(CALIBRATION.to_json())
    cases = [
        ({**good, "version": 0}, "version 0"),
        ({**good, "joints": good["joints"][:-1] + [{**good["joints"][-1], "direction": 2}]},
         "direction must be 1 or -1"),
        ({**good, "joints": [{**good["joints"][0], "min_ticks": -40}] + good["joints"][1:]},
         "0/4095 turn boundary"),
        ({**good, "joints": [{**good["joints"][0], "extra": 1}] + good["joints"][1:]},
         "exactly the fields"),
        ({**good, "joints": good["joints"][:1] * 2}, "repeats"),
    ]
    for data, message in cases:
        with pytest.raises(ConfigError, match=message):
            Calibration.from_json(json.dumps(data))
    with pytest.raises(ConfigError, match="not JSON"):
        Calibration.from_json("{")
    with pytest.raises(ConfigError, match="librobot calibrate so100"):
        Calibration.load(tmp_path / "missing.json")
    with pytest.raises(ConfigError, match="turn boundary"):  # zero at 100: -2 rad wraps
        JointCalibration.from_limits("shoulder_pan", 1, 100, 1, -2.0, 2.0)
    other = Calibration("so100", "x", CALIBRATION.joints[:5])
    with pytest.raises(ConfigError, match="recalibrate"):
        FeetechDriver(SO100, "/dev/null", calibration=other)


@pytest.mark.parametrize("inject, words", [
    ("overload", "overload: the joint is blocked"),
    ("overheat", "overheat: the servo is above its temperature limit"),
    ("undervoltage", "voltage: the supply voltage"),
])
def test_servo_status_errors_raise_robot_fault_and_hold(rig, inject, words):
    emulator, driver = rig
    driver.command(np.array([0.1, 0.1, 0.1, 0.1, 0.1]), 0.02)
    getattr(emulator, inject)(3)
    with pytest.raises(RobotFault, match=f"servo 3 \\(elbow_flex\\) reports {words}"):
        driver.read_state()
    flush(driver)
    assert wait_until(lambda: held(emulator), 1.0)  # holds where stop() found it
    with pytest.raises(RobotFault):  # not re-armed while the servo still reports it
        driver.connect()
    emulator.clear_faults(3)
    driver.connect()  # torque back on every servo
    assert all(emulator.torque_enabled(i) for i in IDS)
    driver.read_state()


def test_single_corrupt_replies_are_retried_and_counted(rig):
    emulator, driver = rig
    emulator.corrupt(4, count=2)
    state = driver.read_state()
    assert state.extras["corrupt_replies"] == 2 and driver.failures == 0
    emulator.corrupt(4, count=None)  # a broken cable: every reply corrupt
    stale = [driver.read_state().stamp for _ in range(2)]
    assert stale[0] == stale[1] == state.stamp  # the previous reading, ageing
    with pytest.raises(DriverDisconnected, match="3 failed transactions"):
        driver.read_state()


def test_a_silent_servo_disconnects_after_retries_and_the_others_hold(rig):
    emulator, driver = rig
    driver.command(np.full(5, 0.2), 0.0)
    emulator.mute(5)
    driver.read_state()
    driver.read_state()
    with pytest.raises(DriverDisconnected, match="servo 5 did not answer"):
        driver.read_state()
    flush(driver)
    assert wait_until(lambda: held(emulator, [1, 2, 3, 4, 6]), 1.0)
    with pytest.raises(DriverDisconnected, match="servo 5"):
        driver.connect()  # the ping names the missing servo
    emulator.mute(5, False)
    driver.connect()
    driver.read_state()


def test_unplug_then_replug_reconnects_with_torque_back_on(rig):
    emulator, driver = rig
    emulator.unplug()
    with pytest.raises(DriverDisconnected):
        for _ in range(3):
            driver.read_state()
    emulator.replug()  # the servos boot limp
    assert not any(emulator.torque_enabled(i) for i in IDS)
    driver.connect()
    assert all(emulator.torque_enabled(i) for i in IDS)
    np.testing.assert_allclose(driver.read_state().joint_pos, 0.0, atol=TICK)


def test_a_vanished_port_is_a_disconnect_at_once_and_stop_never_raises(rig):
    emulator, driver = rig
    emulator.hang_up()  # the USB adapter pulled out
    with pytest.raises(DriverDisconnected, match="unplugged"):
        driver.read_state()
    driver.stop()
    with pytest.raises(DriverDisconnected):
        driver.connect()


def test_driver_specs():
    driver = make_driver("feetech:emulator:lockstep?robot_id=bench", SO100)
    try:
        assert driver.calibration.robot_id == "bench" and driver.realtime is False
    finally:
        driver.close()
    with pytest.raises(ConfigError, match="robot_id, calibration"):
        make_driver("feetech:emulator?speed=3", SO100)
    with pytest.raises(DriverDisconnected, match="cannot open"):
        FeetechDriver(SO100, "/nonexistent/ttyACM9", calibration=CALIBRATION).connect()


# --- the SO-100 real env ------------------------------------------------------------------------
def so100_env(driver="feetech:emulator:lockstep?scene=none", answers=(), **kwargs) -> RobotEnv:
    """The SO-100 real env on the emulated bus, a scripted operator, cameras from memory (a
    cell without sensors: the operator sets up and labels each episode)."""
    operator = OperatorConsole.scripted(list(answers))
    grey = np.full((24, 32, 3), 90, np.uint8)
    cameras = {c.name: ArrayFrameSource([grey]) for c in SO100.cameras}
    return RobotEnv(robot="so100", task="pick_cup", backend="real", driver=driver,
                    operator=operator, cameras=cameras, camera_size=(24, 32), **kwargs)


def test_so100_real_env_episode_with_the_operator():
    env = so100_env(answers=["y", "y", "n", "40"])
    env.max_episode_steps = 4
    try:
        obs, info = env.reset(seed=0)
        assert env.observation_space.contains(obs)
        emulator = env.sim.driver.emulator
        writes = emulator.received["SYNC_WRITE"]
        for _ in range(4):
            obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
            assert env.observation_space.contains(obs)
        assert truncated and info["task_metrics"] == {"progress": 40.0}
        assert emulator.received["SYNC_WRITE"] == writes + 4  # one goal frame per step
    finally:
        env.close()


class UnplugAt:
    """A policy that pulls the bus's power at its `at`-th action (the fault arrives mid-step)."""

    def __init__(self, policy, emulator, at: int):
        self.policy, self.emulator, self.at, self.calls = policy, emulator, at, 0
        self.card = policy.card

    def reset(self, seed=None):
        self.calls = 0
        self.policy.reset(seed=seed)

    def act(self, obs):
        self.calls += 1
        if self.calls == self.at:
            self.emulator.unplug()
        return self.policy.act(obs)


def test_a_disconnect_mid_episode_is_recorded_as_aborted_and_the_next_episode_runs():
    env = so100_env(answers=["y", "y", "y", "y", "n", "0"])  # no label for the aborted one
    env.max_episode_steps = 6
    try:
        emulator = env.sim.driver.emulator
        policy = UnplugAt(make_policy("random", env), emulator, at=3)
        first = run_episode(env, policy, 0, "librobot/SO100-PickCup-Real-v0")
        assert first.aborted and 2 <= first.length < 6
        assert "DriverDisconnected" in first.abort_reason or "Watchdog" in first.abort_reason
        emulator.replug()
        policy.at = 0
        second = run_episode(env, policy, 1, "librobot/SO100-PickCup-Real-v0")
        assert not second.aborted and second.length == 6
        assert second.task_metrics == {"progress": 0.0}
        assert all(emulator.torque_enabled(i) for i in IDS)  # reconnected
    finally:
        env.close()


PERIOD = 1.0 / SO100.control_hz


def test_a_stalled_control_loop_is_stopped_within_two_periods():
    """Real-time emulated bus with the watchdog thread: commands stop arriving mid-episode."""
    env = so100_env("feetech:emulator?scene=static", obs_mode="state")
    try:
        env.reset(seed=0)
        env.step(np.zeros(7, np.float32))
        safety, emulator = env.sim.safety, env.sim.driver.emulator
        last, holds = safety._last_command, emulator.received["SYNC_WRITE"]
        assert wait_until(lambda: safety.faulted, 1.0)  # the loop stops stepping
        latency = time.monotonic() - last
        print(f"\nSO-100 stalled loop: stopped {latency * 1e3:.0f} ms after the last command")
        assert type(safety.fault).__name__ == "WatchdogTimeout"
        assert latency <= 2 * PERIOD + PERIOD / 2  # two periods, then the next watchdog poll
        assert wait_until(lambda: emulator.received["SYNC_WRITE"] > holds, 1.0)  # the hold
        assert wait_until(lambda: held(emulator), 1.0)  # stop(): goals := present positions
        time.sleep(2 * PERIOD)
        writes = emulator.received["SYNC_WRITE"]
        time.sleep(3 * PERIOD)
        assert emulator.received["SYNC_WRITE"] == writes  # then nothing: latched
    finally:
        env.close()


def test_a_silent_bus_trips_the_watchdog_within_two_periods():
    env = so100_env("feetech:emulator?scene=static", obs_mode="state")
    try:
        env.reset(seed=0)
        safety, emulator = env.sim.safety, env.sim.driver.emulator
        safety.end_episode()  # commands not due: only the state's age is watched
        for servo_id in IDS:
            emulator.mute(servo_id)
        silent = time.monotonic()
        assert wait_until(lambda: safety.faulted, 1.0)
        latency = time.monotonic() - silent
        print(f"\nSO-100 silent bus: latched {latency * 1e3:.0f} ms after the silence")
        # Stale after two periods; each watchdog poll of a silent bus costs one SDK reply
        # timeout (34 ms), so the age is seen at the first poll ending past 0.1 s (measured
        # 140-145 ms).
        assert latency <= 2 * PERIOD + 0.1
    finally:
        env.close()


# --- the safety property, on what the servos received ------------------------------------------
@cache
def so100_fk():
    from librobot_gym.envs.real.kinematics import ArmKinematics

    return ArmKinematics(SO100, "joint_pos").tool_position


WILD = [math.nan, math.inf, -math.inf, 1e30, -1e30]
VALUES = st.one_of(st.floats(-4.0, 4.0), st.sampled_from(WILD))
START = st.tuples(*[st.floats(j.lower + 0.03, j.upper - 0.03) for j in SO100.joints])


@settings(max_examples=15, deadline=None)
@given(start=START, actions=st.lists(st.tuples(st.lists(VALUES, min_size=5, max_size=5),
                                               st.one_of(st.floats(-0.1, 0.2),
                                                         st.sampled_from(WILD))),
                                     min_size=1, max_size=8))
def test_any_command_reaches_the_servos_finite_within_limits_and_one_step(start, actions):
    dt = 0.05
    calibration = CALIBRATION
    ticks = {j.servo_id: j.to_ticks(q) for j, q in zip(calibration.joints, start + (0.0,),
                                                        strict=True)}
    emulator = ServoBusEmulator(IDS, positions=ticks, lockstep=True).start()
    driver = FeetechDriver(SO100, emulator.port, calibration=calibration, emulator=emulator)
    limits = SafetyLimits.for_robot(SO100, dt)
    safety = SafetyLayer(driver, limits, dt, forward_kinematics=so100_fk())
    try:
        driver.connect()
        for targets, opening in actions:
            measured = driver.read_state()  # what the safety layer reads (time is frozen)
            safety.command(np.array(targets), opening)
            flush(driver)
            sent = goals(emulator)
            q = np.array([j.to_rad(sent[j.servo_id]) for j in calibration.joints])
            assert np.all(np.isfinite(q))
            arm = q[:5]
            assert np.all(arm >= limits.joint_lower - TICK) and np.all(
                arm <= limits.joint_upper + TICK)
            assert np.all(np.abs(arm - measured.joint_pos) <= limits.max_joint_step + 1.5 * TICK)
            jaw = SO100.gripper.opening_from_joints(q[5:])
            assert -1e-3 <= jaw <= limits.max_gripper_opening + 1e-3
            driver.advance(dt)
        assert not safety.faulted
    finally:
        safety.close()
        driver.close()


def test_the_emulator_placeholder_scene_gives_state_observations_and_judges_nothing():
    env = RobotEnv(robot="so100", task="pick_cup", backend="real", obs_mode="state",
                   driver="feetech:emulator:lockstep?scene=static")  # the cell sets up
    try:
        obs, info = env.reset(seed=3)
        assert env.observation_space.contains(obs) and info["task_metrics"] == {}
        assert not env.sim.judges_success  # the cup never moves: no success test, no reward
        for _ in range(5):
            obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
            assert env.observation_space.contains(obs) and not terminated and reward == 0.0
        assert not info["is_success"]
    finally:
        env.close()


def test_librobot_calibrate_records_and_saves_a_calibration(tmp_path, monkeypatch, capsys):
    from librobot_gym.cli import main

    names, _ = joint_names_and_limits(SO100)
    with ServoBusEmulator(IDS, positions={i: 1000 + 300 * i for i in IDS}) as emulator:
        def person(prompt=""):  # at the arm: poses it, then nudges each joint when asked
            if "positive direction" in prompt:
                servo_id = IDS[names.index(prompt.split("'")[1])]
                emulator.move_by_hand(servo_id, emulator.position(servo_id) - 150)
            return ""

        monkeypatch.setattr("builtins.input", person)
        out = tmp_path / "arm.json"
        assert main(["calibrate", "so100", "--port", emulator.port, "--robot-id", "arm",
                     "--out", str(out)]) == 0
    calibration = Calibration.load(out)
    assert [j.direction for j in calibration.joints] == [-1] * 6
    assert [j.offset for j in calibration.joints] == [2048] * 6
    assert str(out) in capsys.readouterr().out.replace("\n", "")


def test_librobot_calibrate_with_input_closed_is_one_line_and_saves_nothing(tmp_path, monkeypatch,
                                                                            capsys):
    """`librobot calibrate ... < /dev/null`: the first prompt meets end of input; the command
    says a person must answer on a terminal (exit 2), and writes no calibration file."""
    import io

    from librobot_gym.cli import EXIT_USER_ERROR, main

    out = tmp_path / "arm.json"
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    with ServoBusEmulator(IDS) as emulator:
        code = main(["calibrate", "so100", "--port", emulator.port, "--robot-id", "arm",
                     "--out", str(out)])
    shown = capsys.readouterr()
    assert code == EXIT_USER_ERROR
    assert "answering on a terminal" in shown.out + shown.err and "nothing was saved" in (
        shown.out + shown.err)
    assert not out.exists()
