"""TIAGo in MuJoCo (issue 20 item 1): tiago_description's limits, the base_twist+ee_delta_pose
and joint_pos modes, its head camera and its NavigateTo."""

from __future__ import annotations

import math

import gymnasium as gym
import mujoco
import numpy as np
import pytest

from librobot_gym.policies import ExpertPolicy
from librobot_gym.robots import get_robot
from tests.envs.test_fetch import _action, _tool

ENV_ID = "librobot/Tiago-NavigateTo-v0"


@pytest.fixture(scope="module")
def env():
    env = gym.make(ENV_ID, obs_mode="state_dict")
    yield env
    env.close()


def test_the_spec_carries_the_published_limits_and_names_the_ros_joints():
    from librobot_gym.hardware.ros.robots import ROBOTS

    tiago, ros = get_robot("tiago"), ROBOTS["tiago"]
    assert tiago.joint_names == ros.arm_joints
    limits = {j.name: (j.lower, j.upper) for j in tiago.joints}
    assert limits["arm_1_joint"] == pytest.approx((0.0, 2.7489), abs=1e-4)
    assert limits["arm_4_joint"] == pytest.approx((-0.3927, 2.3562), abs=1e-4)
    model = mujoco.MjModel.from_xml_path(tiago.asset)
    for joint in tiago.joints:  # the MJCF's ranges are the spec's
        assert tuple(model.joint(joint.name).range) == pytest.approx((joint.lower, joint.upper),
                                                                     abs=1e-4)
    for name in (ros.torso_joint, *ros.head_joints, *ros.gripper_joints, *ros.wheel_joints):
        model.joint(name)  # every joint the ROS side names exists in the model
    assert tuple(model.joint("torso_lift_joint").range) == pytest.approx((0.0, 0.35))
    assert tuple(model.joint("head_2_joint").range) == pytest.approx((-1.0472, 0.7854))
    assert tiago.diff_drive.wheel_radius == 0.0985 and tiago.diff_drive.track == 0.4044
    spec = tiago.control_mode("base_twist+ee_delta_pose")
    assert spec.dims[8].name == "torso_speed" and spec.dims[8].high == 0.07
    joint_pos = tiago.control_mode("joint_pos")
    assert [(d.name, d.unit) for d in joint_pos.dims][-2:] == [
        ("torso_lift", "m"), ("gripper", "normalised opening")]


def _urdf(xyz, rpy) -> np.ndarray:
    """A URDF joint origin as a 4x4 transform (rpy: about fixed x, y, z)."""
    (cr, cp, cy), (sr, sp, sy) = np.cos(rpy), np.sin(rpy)
    out = np.eye(4)
    out[:3, :3] = np.array([[cy, -sy, 0], [sy, cy, 0], [0, 0, 1]]) \
        @ np.array([[cp, 0, sp], [0, 1, 0], [-sp, 0, cp]]) \
        @ np.array([[1, 0, 0], [0, cr, -sr], [0, sr, cr]])
    out[:3, 3] = xyz
    return out


# tiago_description's arm joint origins from torso_lift_link (xyz m, rpy deg), each joint about
# its z; then arm_tool_link (no force-torque sensor) and the PAL gripper's flange.
ARM_ORIGINS = (((0.15505, 0.014, -0.151), (0, 0, -90)), ((0.125, 0.0195, -0.031), (90, 0, 0)),
               ((0.0895, 0, -0.0015), (-90, 0, 90)), ((-0.02, -0.027, -0.222), (-90, -90, 0)),
               ((-0.162, 0.02, 0.027), (90, -90, -90)), ((0, 0, 0.15), (0, -90, -90)),
               ((0, 0, 0), (90, 0, 90)))
TOOL = (((0, 0, 0.0573), (90, -90, 180)), ((0.01, 0, 0), (90, 90, -90)))


def test_the_arm_s_kinematics_are_the_urdf_s():
    tiago = get_robot("tiago")
    model = mujoco.MjModel.from_xml_path(tiago.asset)
    data = mujoco.MjData(model)
    rng = np.random.default_rng(0)
    for _ in range(3):
        q = [rng.uniform(j.lower, j.upper) for j in tiago.joints]
        for name, value in zip(tiago.joint_names, q, strict=True):
            data.qpos[model.joint(name).qposadr[0]] = value
        mujoco.mj_forward(model, data)
        chain = np.eye(4)
        for (xyz, rpy), angle in zip(ARM_ORIGINS, q, strict=True):
            chain = chain @ _urdf(xyz, np.radians(rpy)) @ _urdf((0, 0, 0), (0, 0, angle))
        for xyz, rpy in TOOL:
            chain = chain @ _urdf(xyz, np.radians(rpy))
        torso, gripper = model.body("torso_lift_link").id, model.body("gripper_link").id
        frame = data.xmat[torso].reshape(3, 3)
        np.testing.assert_allclose(frame.T @ (data.xpos[gripper] - data.xpos[torso]),
                                   chain[:3, 3], atol=1e-5)
        np.testing.assert_allclose(frame.T @ data.xmat[gripper].reshape(3, 3), chain[:3, :3],
                                   atol=1e-4)


def test_the_head_camera_looks_down_at_the_floor_ahead(env):
    env.reset(seed=0)
    sim = env.unwrapped.sim
    m, d = sim.model, sim.data
    camera = m.camera("head").id
    forward = -d.cam_xmat[camera].reshape(3, 3)[:, 2]  # a camera looks along its -z
    assert 1.0 < d.cam_xpos[camera][2] < 1.15  # ~1.07 m up with the torso down
    assert forward[2] == pytest.approx(-math.sin(0.35), abs=0.02)


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
    assert moved[:2] @ heading > 0.05
    assert abs(moved[:2] @ np.array([-heading[1], heading[0]])) < 0.03
    posture = obs["joint_pos"].copy()
    for _ in range(10):
        obs, *_ = env.step(_action(env, yaw_rate=0.8))
    assert np.abs(obs["joint_pos"] - posture).max() < 0.1


def test_the_torso_rises_at_its_speed_and_stops_at_its_travel(env):
    env.reset(seed=0)
    start = env.unwrapped.sim.world_state().extras["torso"]
    for _ in range(10):  # 1 s at 0.07 m/s
        env.step(_action(env, torso_speed=0.07))
    assert env.unwrapped.sim.world_state().extras["torso"] - start == pytest.approx(0.07,
                                                                                    abs=0.015)
    for _ in range(60):
        obs, *_ = env.step(_action(env, torso_speed=0.07))
    assert obs["torso_head"][0] == pytest.approx(0.35, abs=0.01)


def test_the_gripper_closes_and_opens(env):
    env.reset(seed=0)
    for _ in range(10):
        obs, *_ = env.step(_action(env, gripper=-1.0))
    assert obs["gripper_opening"][0] < 0.005
    for _ in range(10):
        obs, *_ = env.step(_action(env, gripper=1.0))
    assert obs["gripper_opening"][0] == pytest.approx(0.09, abs=0.005)


def test_joint_pos_moves_the_arm_and_torso_to_their_targets_and_keeps_the_base_still():
    env = gym.make(ENV_ID, obs_mode="state_dict", control_mode="joint_pos")
    try:
        obs, _ = env.reset(seed=0)
        spec = env.unwrapped.action_spec
        base = obs["base_pose"].copy()
        target = np.array([0.6, -0.5, -1.0, 1.2, 0.0, 0.5, 0.3, 0.2, 1.0])  # arm, torso, open
        action = spec.to_normalised(target).astype(np.float32)
        for _ in range(40):
            obs, *_ = env.step(action)
        assert np.abs(obs["joint_pos"] - target[:7]).max() < 0.05
        assert obs["torso_head"][0] == pytest.approx(0.2, abs=0.01)
        assert np.abs(obs["base_pose"] - base).max() < 5e-3  # the servos hold it against the arm
        assert obs["gripper_opening"][0] == pytest.approx(0.09, abs=0.005)
    finally:
        env.close()


def test_the_expert_drives_tiago_to_the_target():
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


def test_tiago_has_its_own_doc_for_the_shared_task():
    from librobot_gym.envs.registration import env_doc

    doc = env_doc(ENV_ID)
    assert "TIAGo" in doc and "`head`" in doc and "SPL" in doc and "joint_pos" in doc
