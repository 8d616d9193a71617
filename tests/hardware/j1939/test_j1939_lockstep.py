"""`j1939:emulator:lockstep`: the J1939 driver and its ECU emulator on python-can's in-process
`virtual` bus, advanced one control period per env step on the emulator's simulated clock. The
frames are the real ones (the emulator counts what it accepted and rejected); what is checked
is that the link is lossless and current, deterministic, free of wall-clock waits, that the
heartbeat runs on simulated time (and still fires when the machine goes silent), and that the
emulated site's placeholder (`?scene=static`) makes obs_mode "state" work, judging nothing,
while a bare emulated site and a plain J1939 link keep refusing it."""

from __future__ import annotations

import itertools
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from librobot_gym.envs.core import RobotEnv
from librobot_gym.envs.tasks.dig_dump import PILE
from librobot_gym.errors import ConfigError
from librobot_gym.hardware.cameras import ArrayFrameSource
from librobot_gym.hardware.console import OperatorConsole
from librobot_gym.hardware.driver import DriverDisconnected, DriverError
from librobot_gym.hardware.drivers import make_driver
from librobot_gym.hardware.j1939 import codec
from librobot_gym.hardware.j1939.driver import HEARTBEAT_TIMEOUT, J1939Driver
from librobot_gym.hardware.j1939.emulated import EmulatedMachineDriver
from librobot_gym.hardware.j1939.emulator import TICK, ExcavatorEcuEmulator
from librobot_gym.robots import get_robot

EXCAVATOR = get_robot("excavator")
PERIOD = 1.0 / EXCAVATOR.control_hz
ANGLE_LSB = 1e-4  # rad, the DBC's angle and rate resolution
VALVE_LSB = 0.008  # one count of a valve signal
_channels = itertools.count()


def cameras() -> dict:
    frame = np.full((24, 24, 3), 90, np.uint8)
    return {"cab": ArrayFrameSource([frame]), "external": ArrayFrameSource([frame])}


def lockstep_env(**kwargs) -> RobotEnv:
    """The conformance suite's stand-in with its placeholder site (state observations); an
    operator who is never asked anything."""
    kwargs.setdefault("driver", "j1939:emulator:lockstep?scene=static")
    return RobotEnv(robot="excavator", task="dig_dump", backend="real", cameras=cameras(),
                    operator=OperatorConsole.scripted([]), camera_size=24, **kwargs)


@pytest.fixture(scope="module")
def lockstep_driver():
    driver = make_driver("j1939:emulator:lockstep", EXCAVATOR)
    try:
        driver.connect()
        yield driver
    finally:
        driver.close()


def test_same_seed_and_actions_give_the_same_observations_over_the_wire():
    envs = [lockstep_env(obs_mode="state") for _ in range(3)]
    try:
        actions = np.random.default_rng(0).uniform(-1, 1, (60, 6)).astype(np.float32)
        runs = []
        for env, seed in zip(envs, (5, 5, 6), strict=True):
            observations = [env.reset(seed=seed)[0]]
            for action in actions:
                obs, reward, *_ = env.step(action)
                observations.append(np.append(obs, reward))
            observations.append(env.reset(seed=seed)[0])  # homing back, in simulated time too
            runs.append(observations)
        for a, b in zip(runs[0], runs[1], strict=True):
            np.testing.assert_array_equal(a, b)
        assert not np.array_equal(runs[0][0], runs[2][0])  # another seed: another truck pose
        assert not np.allclose(runs[0][0][:4], runs[0][30][:4], atol=0.05)  # the joints moved
        np.testing.assert_allclose(runs[0][-1][:4], runs[0][0][:4], atol=0.04)  # homed
        for env in envs:
            driver, machine = env.unwrapped.sim.driver, env.unwrapped.sim.driver.emulator
            assert len(machine.received) >= 5 * 60 and machine.rejected == 0  # real frames
            assert driver.frames_received == machine.frames_sent and driver.malformed == 0
            assert not env.unwrapped.sim.safety.watching  # nothing polls a lockstep driver
    finally:
        for env in envs:
            env.close()


def test_a_thousand_steps_take_no_wall_clock_waits(monkeypatch):
    env = lockstep_env(obs_mode="state")
    try:
        env.reset(seed=7)
        driver = env.unwrapped.sim.driver
        start = driver.now()
        sleeps = []
        monkeypatch.setattr(time, "sleep", sleeps.append)  # any sleep on the step path shows
        actions = np.random.default_rng(7).uniform(-1, 1, (1000, 6)).astype(np.float32)
        wall, cpu = time.perf_counter(), time.process_time()
        for action in actions:
            obs, _, terminated, truncated, info = env.step(action)
            assert np.all(np.isfinite(obs)) and not (terminated or truncated)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        monkeypatch.undo()
        simulated = driver.now() - start
        print(f"lockstep: 1000 steps ({simulated:.0f} s of machine time) in {wall:.2f} s wall, "
              f"{cpu:.2f} s CPU: {1000 / wall:.0f} steps/s, {simulated / wall:.0f}x real time; "
              f"{driver.frames_received} frames received, {driver.frames_sent} sent")
        assert sleeps == []
        assert simulated == pytest.approx(1000 * PERIOD)
        assert wall < simulated / 4  # far faster than the machine's own time
        assert env.unwrapped.sim.missed_deadlines == 0
    finally:
        env.close()


@settings(max_examples=25, deadline=None)  # the fixture is module-scoped: one machine
@given(st.lists(st.lists(st.floats(-1, 1), min_size=6, max_size=6), min_size=1, max_size=4))
def test_after_each_period_the_driver_reads_the_model_and_the_machine_follows_the_command(
        lockstep_driver, commands):
    driver, machine = lockstep_driver, lockstep_driver.emulator
    for command in commands:
        driver.command(np.array(command))
        assert driver.advance(PERIOD)
        state = driver.read_state()
        np.testing.assert_allclose(state.joint_pos, machine.joint_pos, atol=ANGLE_LSB)
        np.testing.assert_allclose(state.joint_vel, machine.joint_vel, atol=ANGLE_LSB)
        assert state.stamp == pytest.approx(driver.now())  # read this very tick
        np.testing.assert_allclose(machine.valves, command, atol=VALVE_LSB / 2 + 1e-9)
        assert machine.received[-1][1].mode == codec.ACTIVE and machine.rejected == 0
    driver.command(np.zeros(6))
    driver.advance(PERIOD)


def test_the_heartbeat_runs_on_simulated_time_and_a_silent_machine_still_disconnects():
    driver = EmulatedMachineDriver(EXCAVATOR, lockstep=True)
    machine = driver.emulator
    try:
        driver.connect()
        driver.command(np.array([0.5, 0, 0, 0, 0, 0]))
        driver.advance(PERIOD)
        time.sleep(0.3)  # wall-clock time passes, machine time does not: no timeout fires
        driver.advance(TICK)
        assert driver.read_state().joint_vel[1] > 0  # the boom rises, the link is up
        assert machine.valves[0] == pytest.approx(0.5, abs=VALVE_LSB)  # no command timeout
        machine.go_silent()
        silent_at, ticks = machine.now(), 0
        while True:
            driver.advance(TICK)
            ticks += 1
            try:
                driver.read_state()
            except DriverDisconnected as error:
                assert "MACHINE_STATUS" in str(error)
                break
            assert ticks < 100
        age = driver.now() - machine.last_status_sent
        assert HEARTBEAT_TIMEOUT - 1e-9 < age <= HEARTBEAT_TIMEOUT + TICK + 1e-9
        assert driver.now() - silent_at <= HEARTBEAT_TIMEOUT + TICK + 1e-9
        assert driver.now() - driver.neutral_since <= TICK + 1e-9  # centred on detection
        with pytest.raises(DriverDisconnected):
            driver.command(np.array([0.5, 0, 0, 0, 0, 0]))
        driver.advance(2 * TICK)  # the stream says hold: the (silent) machine centres
        assert machine.received[-1][1].mode == codec.HOLD and not machine.valves.any()
        machine.resume()
        driver.connect()  # reconnects within simulated time
        state = driver.read_state()
        assert state.stamp == pytest.approx(driver.now())
        driver.command(np.zeros(6))
    finally:
        driver.close()
    assert not machine.running


def test_a_silent_machine_mid_episode_raises_a_driver_error_from_step():
    env = lockstep_env(obs_mode="state")
    try:
        env.reset(seed=0)
        env.step(np.zeros(6, np.float32))
        env.unwrapped.sim.driver.emulator.go_silent()
        with pytest.raises(DriverError, match="MACHINE_STATUS"):
            for _ in range(3):  # the last status is at most 50 ms old: fired within 2 periods
                env.step(np.zeros(6, np.float32))
    finally:
        env.close()


def test_the_placeholder_site_reports_the_truck_and_the_material_and_judges_nothing():
    env = lockstep_env(obs_mode="state_dict")
    try:
        obs, info = env.reset(seed=3)
        task, backend = env.unwrapped.task, env.unwrapped.sim
        assert backend.automatic_site  # no operator was asked to set it up
        # Nothing can be dug on the emulator, so neither its success test nor its reward runs.
        assert not backend.judges_success and info["task_metrics"] == {}
        assert env.step(np.zeros(6, np.float32))[1] == 0.0
        assert set(backend.world_state().object_pos) == {"truck"}
        pile_t = np.pi * PILE.radius**2 * PILE.height / 2 * PILE.density / 1000
        np.testing.assert_allclose(obs["tonnes"], [task.target_kg / 1000, 0, 0, pile_t],
                                   rtol=1e-6)
        assert obs["truck_pose"].shape == (3,)
        backend.driver.emulator.payload_kg = 1800.0  # the weighing reads the boom pressure
        obs = env.step(np.zeros(6, np.float32))[0]
        assert obs["payload"][0] == pytest.approx(1.8, abs=0.05)
    finally:
        env.close()


def test_the_site_reports_the_pose_the_reset_placed():
    env = lockstep_env(obs_mode="state")
    try:
        env.reset(seed=11)
        task, world = env.unwrapped.task, env.unwrapped.sim.world_state()
        yaw = 2 * np.arctan2(world.object_quat["truck"][3], world.object_quat["truck"][0])
        assert yaw == pytest.approx(task.truck_yaw)
        bed = world.object_pos["truck"][:2] - 0.6 * np.array([np.cos(yaw), np.sin(yaw)])
        np.testing.assert_allclose(bed, task.truck_distance * np.array(
            [np.cos(task.truck_bearing), np.sin(task.truck_bearing)]), atol=1e-9)
    finally:
        env.close()


def test_a_plain_j1939_link_and_a_bare_emulated_site_keep_refusing_state_observations():
    channel = f"test-lockstep-{next(_channels)}"
    with ExcavatorEcuEmulator(channel) as machine:  # a machine; the driver is j1939:CHANNEL's
        driver = J1939Driver(channel, interface="virtual", connect_timeout=2.0)
        with pytest.raises(ConfigError, match="object poses"):
            lockstep_env(obs_mode="state", driver=driver)
        assert driver._bus is None and machine.running  # the refused env let go of the link
    with pytest.raises(ConfigError, match="object poses"):
        lockstep_env(obs_mode="state", driver="j1939:emulator:lockstep?scene=none")


def test_driver_specs_for_the_emulator():
    for spec, lockstep, site in (("j1939:emulator", False, False),
                                 ("j1939:emulator:lockstep", True, False),
                                 ("j1939:emulator?scene=static", False, True),
                                 ("j1939:emulator:lockstep?scene=none", True, False)):
        driver = make_driver(spec, EXCAVATOR)
        assert isinstance(driver, EmulatedMachineDriver)
        assert (driver.lockstep, driver.realtime, driver.static_site) == (lockstep, not lockstep,
                                                                          site)
        assert driver.advance(PERIOD) is lockstep  # real time: False, it keeps its own time
        driver.close()
    for spec in ("j1939:emulator?scene=moving", "j1939:emulator?speed=2"):
        with pytest.raises(ConfigError, match="scene=static"):
            make_driver(spec, EXCAVATOR)
    driver = make_driver("j1939:emulator:lockstep", EXCAVATOR)
    with pytest.raises(ConfigError, match="10 ms"):
        driver.advance(0.015)
    driver.close()
