"""The excavator's hydraulics: flow (speed) limits, deadband, valve lag, relief limits, tracks."""

import gymnasium as gym
import numpy as np
import pytest

from librobot_gym.robots.heavy.excavator import EXCAVATOR

ENV_ID = "librobot/Excavator-DigDump-v0"
BOOM, STICK, BUCKET, SWING, LEFT, RIGHT = range(6)
SPEC = {h.joint: h for h in EXCAVATOR.hydraulics}


@pytest.fixture
def env():
    env = gym.make(ENV_ID, obs_mode="state_dict")
    env.reset(seed=0)
    yield env
    env.close()


def command(**levers) -> np.ndarray:
    action = np.zeros(6, dtype=np.float32)
    for name, value in levers.items():
        action[["boom", "stick", "bucket", "swing", "left", "right"].index(name)] = value
    return action


def test_action_spec_names_every_lever_with_its_unit():
    mode = EXCAVATOR.control_modes["hydraulic"]
    assert [d.name for d in mode.dims] == ["boom", "stick", "bucket", "swing", "left_track",
                                           "right_track"]
    assert [d.unit for d in mode.dims] == ["rad/s"] * 4 + ["m/s"] * 2


def test_full_pilot_reaches_the_flow_limit_after_the_valve_lag(env):
    obs, *_ = env.step(command(boom=1.0))
    first = obs["joint_vel"][1]
    assert 0.0 < first < 0.75 * SPEC["boom"].max_speed  # the valve is still opening
    for _ in range(10):
        obs, *_ = env.step(command(boom=1.0))
    assert obs["joint_vel"][1] == pytest.approx(SPEC["boom"].max_speed, rel=0.1)


def test_commands_inside_the_deadband_move_nothing(env):
    start = env.unwrapped.sim.world_state().joint_pos
    for _ in range(20):
        env.step(command(stick=0.04, bucket=-0.04, swing=0.04))
    np.testing.assert_allclose(env.unwrapped.sim.world_state().joint_pos, start, atol=2e-3)


def test_zero_command_holds_the_attachment_against_gravity(env):
    start = env.unwrapped.sim.world_state().joint_pos
    for _ in range(50):  # 5 s
        env.step(np.zeros(6, dtype=np.float32))
    np.testing.assert_allclose(env.unwrapped.sim.world_state().joint_pos, start, atol=0.01)


def test_cylinder_forces_stay_within_relief_pressure(env):
    sim = env.unwrapped.sim
    limits = np.array([SPEC[j].max_force for j in ("swing", "boom", "stick", "bucket")])
    for _ in range(40):  # drive the boom down into its limit and the stick out
        obs, *_ = env.step(command(boom=-1.0, stick=-1.0, bucket=1.0))
        forces = np.abs(sim.controller.cylinder_forces())
        assert np.all(forces <= limits * 1.001)
    assert obs["pressure"].max() <= 34.3 * 1.001  # MPa


def test_tracks_drive_forward_and_turn(env):
    for _ in range(30):
        obs, *_ = env.step(command(left=1.0, right=1.0))
    x, y, yaw = obs["base_pose"]
    assert x > 2.0 and abs(y) < 0.2 and abs(yaw) < 0.05
    for _ in range(20):
        obs, *_ = env.step(command(left=-1.0, right=1.0))
    assert obs["base_pose"][2] > 0.5  # counter-clockwise
