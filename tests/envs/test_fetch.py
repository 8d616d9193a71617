"""Fetch in MuJoCo (issue 20 item 5): fetch_description's limits, the base_twist+ee_delta_pose
mode (twist, gripper delta in the base frame, torso speed, gripper), and NavigateTo."""

from __future__ import annotations

import math

import gymnasium as gym
import mujoco
import numpy as np
import pytest

from librobot_gym.policies import ExpertPolicy
from librobot_gym.robots import get_robot

ENV_ID = "librobot/Fetch-NavigateTo-v0"


@pytest.fixture(scope="module")
def env():
    env = gym.make(ENV_ID, obs_mode="state_dict")
    yield env
    env.close()


def _action(env, **physical) -> np.ndarray:
    """A normalised action from named physical values (the rest: zero, the gripper open)."""
    spec = env.unwrapped.action_spec
    values = np.zeros(spec.size)
    names = [d.name for d in spec.dims]
    values[names.index("gripper")] = 1.0
    for name, value in physical.items():
        values[names.index(name)] = value
    return spec.to_normalised(values).astype(np.float32)


def _tool(env) -> np.ndarray:
    return env.unwrapped.sim.world_state().ee_pos.copy()


def test_the_spec_carries_the_published_limits_and_the_mode_names_its_units():
    fetch = get_robot("fetch")
    limits = {j.name: (j.lower, j.upper) for j in fetch.joints}
    assert limits["shoulder_lift_joint"] == (-1.221, 1.518)
    assert limits["elbow_flex_joint"] == (-2.251, 2.251)
    model = mujoco.MjModel.from_xml_path(fetch.asset)
    assert tuple(model.joint("torso_lift_joint").range) == pytest.approx((0.0, 0.38615))
    assert tuple(model.joint("head_tilt_joint").range) == pytest.approx((-0.76, 1.45))
    spec = fetch.control_mode("base_twist+ee_delta_pose")
    assert [(d.name, d.unit) for d in spec.dims] == [
        ("forward_speed", "m/s"), ("yaw_rate", "rad/s"), ("dx", "m"), ("dy", "m"), ("dz", "m"),
        ("droll_x", "rad"), ("dpitch_y", "rad"), ("dyaw_z", "rad"), ("torso_speed", "m/s"),
        ("gripper", "normalised opening")]


def test_tool_deltas_are_in_the_base_frame_and_zero_holds_the_arm_on_a_moving_base(env):
    env.reset(seed=0)
    sim = env.unwrapped.sim
    for _ in range(5):  # settle
        env.step(_action(env))
    yaw = sim.world_state().extras["base_yaw"]
    before = _tool(env)
    for _ in range(5):
        obs, *_ = env.step(_action(env, dx=0.02))
    moved = _tool(env) - before
    heading = np.array([math.cos(yaw), math.sin(yaw)])
    assert moved[:2] @ heading > 0.05  # forward along the base's heading
    assert abs(moved[:2] @ np.array([-heading[1], heading[0]])) < 0.03
    posture = obs["joint_pos"].copy()
    for _ in range(10):
        obs, *_ = env.step(_action(env, yaw_rate=0.8))
    assert np.abs(obs["joint_pos"] - posture).max() < 0.1  # the arm rides along


def test_the_torso_rises_at_its_speed_and_stops_at_its_travel(env):
    env.reset(seed=0)
    start = env.unwrapped.sim.world_state().extras["torso"]
    for _ in range(10):  # 1 s at 0.1 m/s
        env.step(_action(env, torso_speed=0.1))
    assert env.unwrapped.sim.world_state().extras["torso"] - start == pytest.approx(0.1,
                                                                                    abs=0.02)
    for _ in range(50):
        obs, *_ = env.step(_action(env, torso_speed=0.1))
    assert obs["torso_head"][0] == pytest.approx(0.38615, abs=0.01)


def test_the_gripper_closes_and_opens(env):
    env.reset(seed=0)
    for _ in range(10):
        obs, *_ = env.step(_action(env, gripper=-1.0))
    assert obs["gripper_opening"][0] < 0.005
    for _ in range(10):
        obs, *_ = env.step(_action(env, gripper=1.0))
    assert obs["gripper_opening"][0] == pytest.approx(0.1, abs=0.005)


def test_the_expert_drives_fetch_to_the_target():
    env = gym.make(ENV_ID, obs_mode="state")
    try:
        expert = ExpertPolicy(env)
        for seed in range(3):
            obs, _ = env.reset(seed=seed)
            expert.reset()
            while True:
                obs, _, terminated, truncated, info = env.step(expert.act(obs))
                if terminated or truncated:
                    break
            assert info["is_success"] and info["task_metrics"]["collisions"] == 0.0, seed
            assert info["task_metrics"]["spl"] > 0.75
    finally:
        env.close()


def test_fetch_has_its_own_doc_for_the_shared_task():
    from librobot_gym.envs.registration import env_doc

    doc = env_doc(ENV_ID)
    assert "base_twist+ee_delta_pose" in doc and "`head`" in doc and "SPL" in doc


def test_joint_pos_moves_fetch_s_arm_and_torso_to_their_targets_and_keeps_the_base_still():
    env = gym.make(ENV_ID, obs_mode="state_dict", control_mode="joint_pos")
    try:
        obs, _ = env.reset(seed=0)
        spec = env.unwrapped.action_spec
        assert [(d.name, d.unit) for d in spec.dims][-2:] == [
            ("torso_lift", "m"), ("gripper", "normalised opening")]
        base = obs["base_pose"].copy()
        target = np.array([0.8, 0.2, -0.4, 1.3, 0.1, 1.2, 0.3, 0.25, 1.0])  # arm, torso, open
        for _ in range(60):
            obs, *_ = env.step(spec.to_normalised(target).astype(np.float32))
        assert np.abs(obs["joint_pos"] - target[:7]).max() < 0.05
        assert obs["torso_head"][0] == pytest.approx(0.25, abs=0.01)
        assert np.abs(obs["base_pose"] - base).max() < 5e-3
    finally:
        env.close()
