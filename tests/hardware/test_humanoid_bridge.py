"""The Figure-class humanoid through the bridge: `SimHumanoid` (the stand-in for a vendor's
`HumanoidDriver`) served on a loopback bridge server, driven by the bridge client as the
`-Real-` env drives a vendor's integration: the IMU travels in the state's extras, the stop is
damping (stiffness off, damping kept), the stand-in's declaration reaches the env, and
FigureClass-Real-Stand-v0's expert stands."""

from __future__ import annotations

import gymnasium as gym
import numpy as np

import librobot_gym  # noqa: F401 - registers the ids
from librobot_gym.hardware.drivers import make_driver
from librobot_gym.hardware.humanoid import IMU_FIELDS, HumanoidDriver
from librobot_gym.hardware.humanoid_sim import SimHumanoid
from librobot_gym.robots import get_robot

ROBOT = get_robot("figure_class")


def test_the_stand_in_keeps_the_contract():
    sim = make_driver("humanoid-sim:lockstep", ROBOT)
    assert isinstance(sim, HumanoidDriver) and not sim.realtime
    home = np.array(ROBOT.home_qpos)
    for _ in range(50):
        sim.command(home, 0.0)
        sim.advance(0.02)
    state = sim.read_state()
    assert state.joint_pos.shape == (len(ROBOT.joints),)
    assert set(IMU_FIELDS) <= set(state.extras)
    assert state.extras["imu_acc"][2] > 9.0  # standing on its feet
    sim.stop()
    m = sim.model
    assert np.all(m.actuator_gainprm[sim.act, 0] == 0.0)  # no stiffness ...
    assert np.all(m.actuator_biasprm[sim.act, 2] < 0.0)  # ... damping kept
    for _ in range(100):
        sim.advance(0.02)
    assert sim.data.qpos[2] < 0.8  # it sinks: only a harness would hold it


def test_through_the_bridge():
    driver = make_driver("humanoid-sim:bridge", ROBOT)
    try:
        driver.connect()
        driver.start_episode(0)
        assert driver.stand_in.spec == "humanoid-sim:bridge" and driver.realtime is False
        state = driver.read_state()
        assert set(IMU_FIELDS) <= set(state.extras)
        np.testing.assert_allclose(state.extras["imu_quat"], [1, 0, 0, 0], atol=0.02)
        driver.command(np.array(ROBOT.home_qpos), 0.0)
        assert driver.advance(0.02)
        driver.stop()
    finally:
        driver.close()


def test_figure_real_stand_expert():
    env = gym.make("librobot/FigureClass-Real-Stand-v0", driver="humanoid-sim:bridge",
                   operator="auto", obs_mode="state")
    try:
        env.reset(seed=0)
        u = env.unwrapped
        expert = u.task.make_expert()
        for _ in range(500):
            _, _, terminated, truncated, info = env.step(expert.act(u.privileged_state()))
            if terminated or truncated:
                break
        assert info["is_success"] and not info["safety"]["fell"]
    finally:
        env.close()


def test_sim_humanoid_refuses_other_families():
    import pytest

    from librobot_gym.errors import ConfigError

    with pytest.raises(ConfigError, match="humanoids"):
        SimHumanoid(get_robot("franka_panda"))
