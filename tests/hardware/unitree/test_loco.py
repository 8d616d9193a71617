"""The H1's loco client speaking Unitree's RPC (request/response on `rt/api/loco/*`, loopback
DDS) to the emulator's on-board loco service, which runs our walking law on the emulated H1: a
velocity walks it forward, StopMove stops it, Damp lets it go limp, LowCmd is ignored while the
service owns the motors, bad parameters get the RPC's parameter error, an out-of-bounds velocity
is refused before sending. Then H1-Real-WalkTo-v0 end to end on its lockstep stand-in with the
task's expert, and base_velocity refused on drivers without a loco service."""

from __future__ import annotations

import json
import signal

import gymnasium as gym
import numpy as np
import pytest

import librobot_gym  # noqa: F401 - registers the ids
from librobot_gym.errors import ConfigError
from librobot_gym.hardware.unitree import h1
from librobot_gym.hardware.unitree.driver import UnitreeDriver
from librobot_gym.hardware.unitree.loco import (
    FSM_DAMP,
    FSM_START,
    RPC_ERR_SERVER_API_PARAMETER,
    SET_FSM_ID,
    SET_VELOCITY,
    LocoCallFailed,
    LocoCommandRefused,
    _sdk_client,
)
from librobot_gym.robots import get_robot

ROBOT = get_robot("h1")
PERIOD = 0.02
TEST_LIMIT = 300  # s of wall clock per test (each RPC call also times out after 1 s)


@pytest.fixture(autouse=True)
def bounded():
    """Fail a test that runs past TEST_LIMIT (no pytest-timeout here: SIGALRM)."""
    def expire(*_):
        raise TimeoutError(f"test ran past {TEST_LIMIT} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(TEST_LIMIT)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def walking(driver):
    driver.start_episode(0)
    loco = driver.loco_client(driver.emulator.loco.bounds)
    driver.start_walking()
    return loco, driver.emulator


def run(driver, loco, seconds, velocity=None):
    for _ in range(round(seconds / PERIOD)):
        if velocity is not None:
            loco.set_velocity(*velocity, duration=0.5)
        driver.advance(PERIOD)


def test_a_velocity_walks_the_robot_forward_and_stop_stops_it(driver):
    loco, emulator = walking(driver)
    assert loco.fsm_id() == FSM_START
    x0 = emulator.data.qpos[0]
    run(driver, loco, 3.0, (0.4, 0.0, 0.0))
    walked = emulator.data.qpos[0] - x0
    assert walked > 0.6 and abs(emulator.data.qpos[1]) < 0.2  # forward, 3 s at up to 0.4 m/s
    assert emulator.data.qpos[2] > 0.9  # on its feet
    loco.stop_move()
    run(driver, loco, 1.5)  # it steps to a halt
    x1 = emulator.data.qpos[0]
    run(driver, loco, 1.0)
    assert abs(emulator.data.qpos[0] - x1) < 0.15 and emulator.data.qpos[2] > 0.9
    odom = loco.odometry()
    assert odom[0] == pytest.approx(emulator.data.qpos[0], abs=1e-6)


def test_the_duration_lapses(driver):
    loco, emulator = walking(driver)
    loco.set_velocity(0.4, 0.0, 0.0, duration=0.2)  # once, never renewed
    run(driver, loco, 3.0)
    assert emulator.data.qpos[0] < 0.3 and emulator.data.qpos[2] > 0.9


def test_damp_goes_limp_and_lowcmd_is_ignored_in_loco_mode(driver):
    loco, emulator = walking(driver)
    run(driver, loco, 0.5, (0.0, 0.0, 0.0))
    accepted = emulator.accepted
    driver.command(np.array(ROBOT.home_qpos), 0.0)  # sport mode: the emulator ignores LowCmd
    driver.advance(PERIOD)
    assert emulator.accepted == accepted and emulator.commands > accepted
    loco.damp()
    assert loco.fsm_id() == FSM_DAMP
    run(driver, loco, 1.0)
    kd = h1.damping_kd(emulator.slots)
    active = emulator._active  # what the motors ran on the last physics step
    assert not active["kp"].any() and np.array_equal(active["kd"], kd)
    dq = emulator.data.qvel[emulator.vadr]  # one 2 ms step after the torque was computed
    np.testing.assert_allclose(emulator.data.actuator_force[emulator.act],
                               np.clip(-kd * dq, -emulator.effort, emulator.effort),
                               rtol=0.1, atol=0.5)
    assert emulator.data.qpos[2] < 0.8  # no harness in the emulator: it sinks to the floor


def test_bad_parameters_get_the_rpcs_error(driver):
    loco, _ = walking(driver)
    raw = _sdk_client()
    for api, parameter in ((SET_FSM_ID, json.dumps({"data": 7})),
                           (SET_FSM_ID, "not json"),
                           (SET_VELOCITY, json.dumps({"velocity": [0.1, 0.0]})),
                           (SET_VELOCITY, json.dumps({"velocity": [9.0, 0.0, 0.0],
                                                      "duration": 1.0}))):
        code, _ = raw._Call(api, parameter)
        assert code == RPC_ERR_SERVER_API_PARAMETER, (api, parameter)
    loco.damp()
    with pytest.raises(LocoCallFailed, match="3204"):  # no velocity outside walking (FSM 204)
        loco.set_velocity(0.1, 0.0, 0.0)


def test_an_out_of_bounds_velocity_is_refused_before_sending(driver):
    loco, _ = walking(driver)
    calls = loco.calls
    for velocity in ((5.0, 0.0, 0.0), (0.0, -3.0, 0.0), (0.0, 0.0, 9.0), (float("nan"), 0, 0)):
        with pytest.raises(LocoCommandRefused):
            loco.set_velocity(*velocity)
    assert loco.calls == calls  # nothing went out


def test_joint_control_is_refused_while_the_sport_service_holds_the_motors(driver):
    driver.start_episode(0)
    driver.check_motor_owner(walking=False)  # low-level mode (GetFsmId -1): LowCmd drives
    driver.start_walking()
    try:
        with pytest.raises(ConfigError, match="holds FSM 204.*sport mode off"):
            driver.check_motor_owner(walking=False)
        driver.check_motor_owner(walking=True)
    finally:
        driver.start_episode(0)  # back in low-level mode for the next test


def test_walking_is_refused_where_no_sport_service_answers(driver):
    from librobot_gym.hardware.unitree.loco_service import loco_server

    loco_server().attach(None)  # as a robot with sport mode switched off
    try:
        with pytest.raises(ConfigError, match="does not answer: switch sport mode on"):
            driver.check_motor_owner(walking=True)
        driver.check_motor_owner(walking=False)
    finally:
        loco_server().attach(driver.emulator.loco)


@pytest.mark.parametrize("seed", [0, 1])
def test_walk_to_on_the_stand_in_reaches_the_marker(seed):
    env = gym.make("librobot/H1-Real-WalkTo-v0", obs_mode="state",
                   driver="unitree:emulator:lockstep", operator="auto")
    try:
        env.reset(seed=seed)
        u = env.unwrapped
        expert = u.task.make_expert()
        for _ in range(1000):
            _, _, terminated, truncated, info = env.step(expert.act(u.privileged_state()))
            if terminated or truncated:
                break
        assert info["is_success"] and not info["safety"]["fell"]
        emulator = u.sim.driver.emulator
        assert emulator.loco.requests > 100  # it walked through the loco service
    finally:
        env.close()


def test_a_fall_stops_the_robot_through_loco_damp():
    env = gym.make("librobot/H1-Real-WalkTo-v0", obs_mode="state",
                   driver="unitree:emulator:lockstep", operator="auto")
    try:
        env.reset(seed=0)
        emulator = env.unwrapped.sim.driver.emulator
        emulator.schedule_pushes([("torso_link", 0.0, 0.3, (0.0, 600.0, 0.0))])
        info = {}
        for _ in range(200):
            _, _, terminated, truncated, info = env.step(np.zeros(3, dtype=np.float32))
            if terminated or truncated:
                break
        assert info["safety"]["fell"] and emulator.loco.fsm == FSM_DAMP
        env.reset(seed=1)  # re-armed: the service stands it up and walks again
        _, _, _, _, info = env.step(np.array([0.5, 0.0, 0.0], dtype=np.float32))
        assert emulator.loco.fsm == FSM_START and not info["safety"]["fell"]
        assert emulator.loco.velocity[0] > 0
    finally:
        env.close()


@pytest.mark.parametrize(("env_id", "robot"), [("librobot/FigureClass-Real-Stand-v0",
                                                  "figure_class"),
                                                 ("librobot/GR1-Real-Stand-v0", "gr1")])
def test_base_velocity_is_refused_without_a_loco_service(env_id, robot):
    """The bridge (Figure-class) and Fourier's client (GR1) drive joints only."""
    with pytest.raises(ConfigError, match="loco"):
        gym.make(env_id, obs_mode="state", control_mode="base_velocity", operator="auto",
                 driver=get_robot(robot).stand_in)


def test_real_time_emulator_walks_on_velocity_commands():
    """The real-time clock (the emulator's own 500 Hz thread): commands at about 50 Hz for
    2 s of wall clock walk it forward (loosely: the machine may be loaded)."""
    import time

    drv = UnitreeDriver.emulated(ROBOT, lockstep=False, link_timeout=1.0, max_state_age=1.0)
    try:
        drv.connect()
        drv.start_episode(0)
        loco = drv.loco_client(drv.emulator.loco.bounds)
        drv.start_walking()
        x0 = drv.emulator.data.qpos[0]
        give_up = time.monotonic() + 2.0
        while time.monotonic() < give_up:
            loco.set_velocity(0.4, 0.0, 0.0, duration=0.5)
            time.sleep(PERIOD)
        assert drv.emulator.data.qpos[0] - x0 > 0.05 * drv.emulator.time
        assert drv.emulator.data.qpos[2] > 0.9
    finally:
        drv.close()
