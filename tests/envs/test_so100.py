"""The SO-100 arm in simulation: its model against its spec, its jaw, its IK and PickCup at its
scale (`librobot/SO100-PickCup-v0`). Conformance runs in tests/envs/test_conformance.py."""

import math

import gymnasium as gym
import mujoco
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from librobot_gym.envs.real.kinematics import ArmKinematics
from librobot_gym.envs.registration import env_doc
from librobot_gym.errors import ConfigError
from librobot_gym.policies import ExpertPolicy
from librobot_gym.robots import ROBOTS, GripperSpec
from librobot_gym.robots.arms.common import TOOL_DOWN
from librobot_gym.robots.arms.franka_panda import FRANKA_PANDA
from librobot_gym.robots.arms.so100 import GRIPPER_JOINT_RANGE, SO100, STALL_TORQUE

ENV_ID = "librobot/SO100-PickCup-v0"
ARM_JOINTS = ("shoulder_pan", "shoulder_lift", "elbow_flex", "wrist_flex", "wrist_roll")


@pytest.fixture(scope="module")
def model():
    return mujoco.MjModel.from_xml_path(str(SO100.asset_path))


def run_expert(seed: int) -> tuple[bool, int]:
    env = gym.make(ENV_ID, obs_mode="state")
    expert = ExpertPolicy(env)
    obs, _ = env.reset(seed=seed)
    expert.reset()
    try:
        for step in range(env.unwrapped.max_episode_steps):
            obs, _, terminated, truncated, info = env.step(expert.act(obs))
            if terminated or truncated:
                return bool(info["is_success"]), step + 1
        return False, step + 1
    finally:
        env.close()


# --- the model against the spec ------------------------------------------------------------------
def test_spec_is_registered_with_lerobot_joint_names():
    assert ROBOTS["so100"] is SO100
    assert SO100.joint_names == ARM_JOINTS
    assert SO100.gripper.joints == ("gripper",) and SO100.gripper.kind == "jaw"
    assert SO100.actuators == ARM_JOINTS + ("gripper",)
    assert SO100.proprio_size == 18 and SO100.family == "arm"
    (lo, hi) = SO100.workspace
    assert all(a < b for a, b in zip(lo, hi, strict=True))


def test_mjcf_joints_and_actuators_match_the_spec(model):
    for joint in SO100.joints:
        j = model.joint(joint.name)
        assert j.type[0] == mujoco.mjtJoint.mjJNT_HINGE
        np.testing.assert_allclose(j.range, [joint.lower, joint.upper])
        act = model.actuator(joint.name)
        assert model.actuator_trnid[act.id, 0] == j.id
        np.testing.assert_allclose(act.ctrlrange, [joint.lower, joint.upper])
        np.testing.assert_allclose(act.forcerange, [-STALL_TORQUE, STALL_TORQUE])
        assert joint.max_effort == STALL_TORQUE
    np.testing.assert_allclose(model.joint("gripper").range, GRIPPER_JOINT_RANGE)
    np.testing.assert_allclose(model.actuator("gripper").ctrlrange, GRIPPER_JOINT_RANGE)
    for geom in SO100.gripper.pad_geoms:
        assert model.geom(geom).conaffinity[0] == 1  # the pads touch the scene
    # A desktop arm: the printed links with six 55 g servos weigh well under a kilogram.
    assert 0.5 < model.body_subtreemass[model.body("shoulder").id] + 0.2 < 1.2


def test_home_pose_points_the_tool_down_in_front_of_the_base(model):
    data = mujoco.MjData(model)
    data.qpos[:5] = SO100.home_qpos
    mujoco.mj_kinematics(model, data)
    site = model.site(SO100.tool_site).id
    np.testing.assert_allclose(data.site_xpos[site], [0.159, 0.02, 0.101], atol=2e-3)
    np.testing.assert_allclose(data.site_xmat[site].reshape(3, 3), TOOL_DOWN, atol=1e-3)
    (lo, hi) = SO100.workspace
    assert np.all(data.site_xpos[site] > lo) and np.all(data.site_xpos[site] < hi)


def test_zero_pose_is_the_published_l_shape(model):
    """Zero: upper arm up, forearm forward; wrist flex axis 0.0306 + 0.028 + 0.1349 m ahead of
    the pan axis and 0.0165 + 0.1025 + 0.11257 + 0.0052 m above the base."""
    data = mujoco.MjData(model)
    mujoco.mj_kinematics(model, data)
    np.testing.assert_allclose(data.xpos[model.body("wrist").id],
                               [0.1935, 0.0, 0.23677], atol=1e-4)


# --- the jaw -------------------------------------------------------------------------------------
@settings(max_examples=60, deadline=None)
@given(st.floats(0.0, SO100.gripper.max_opening))
def test_jaw_opening_round_trip(width):
    q = SO100.gripper.joints_from_opening(width)
    assert q.shape == (1,) and GRIPPER_JOINT_RANGE[0] <= q[0] <= GRIPPER_JOINT_RANGE[1]
    assert SO100.gripper.opening_from_joints(q) == pytest.approx(width, abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(st.floats(0.0, FRANKA_PANDA.gripper.max_opening))
def test_franka_fingers_take_half_the_opening_each(width):
    q = FRANKA_PANDA.gripper.joints_from_opening(width)
    assert q.tolist() == [width / 2, width / 2]
    assert FRANKA_PANDA.gripper.opening_from_joints(q) == pytest.approx(width, abs=1e-15)


@pytest.mark.parametrize("width", [0.0, 0.02, 0.036, 0.04, 0.06])
def test_jaw_opening_is_the_gap_between_the_pads_in_the_model(model, width):
    """opening_from_joints is what the MJCF's geometry gives: the distance from the fixed
    pad's face to the centre of the moving pad's face."""
    data = mujoco.MjData(model)
    data.qpos[5] = SO100.gripper.joints_from_opening(width)[0]
    mujoco.mj_kinematics(model, data)
    fixed, moving = model.geom("fixed_pad").id, model.geom("moving_pad").id
    normal = data.geom_xmat[fixed].reshape(3, 3)[:, 1]  # the fixed pad's face normal
    face = data.geom_xpos[fixed] + normal * model.geom_size[fixed][1]
    moving_rot = data.geom_xmat[moving].reshape(3, 3)
    moving_face = data.geom_xpos[moving] - moving_rot[:, 1] * model.geom_size[moving][1]
    assert float(normal @ (moving_face - face)) == pytest.approx(width, abs=2e-4)
    if width == pytest.approx(0.04):  # the pads are parallel at 40 mm
        assert abs(float(normal @ moving_rot[:, 1])) == pytest.approx(1.0, abs=1e-4)


def test_a_jaw_gripper_needs_one_joint_and_a_radius():
    with pytest.raises(ConfigError, match="jaw"):
        GripperSpec(("a", "b"), ("p",), 0.05, 10.0, kind="jaw", jaw_radius=0.07)
    with pytest.raises(ConfigError, match="jaw_radius"):
        GripperSpec(("a",), ("p",), 0.08, 10.0, kind="jaw", jaw_radius=0.07)
    with pytest.raises(ConfigError, match="kind"):
        GripperSpec(("a",), ("p",), 0.05, 10.0, kind="suction")


def gravity_sag(model, qpos) -> np.ndarray:
    """Gravity torque / kp of each arm servo at rest at `qpos`, computed independently."""
    data = mujoco.MjData(model)
    data.qpos[:5] = qpos
    mujoco.mj_forward(model, data)
    return data.qfrc_bias[:5] / model.actuator_gainprm[:5, 0]


def test_real_backend_kinematics_drive_the_jaw_by_opening(model):
    """ArmKinematics (the real backend's action interpreter) works for the SO-100: jaw by
    opening, and servo targets raised by the sag of the STS3215's P loop."""
    kin = ArmKinematics(SO100, "ee_delta_pose")
    home = np.array(SO100.home_qpos)
    kin.set_posture(home, 0.03)
    jaw = kin.data.qpos[kin.model.joint("gripper").qposadr[0]]
    assert SO100.gripper.opening_from_joints(np.array([jaw])) == pytest.approx(0.03)
    spec = SO100.control_mode("ee_delta_pose")
    sag = gravity_sag(model, home)
    assert abs(sag[1]) > 0.005 and sag[0] == pytest.approx(0.0, abs=1e-9)  # the shoulder carries
    for command, opening in ((-1.0, 0.0), (0.0, 0.03), (1.0, 0.06)):
        targets, got = kin.targets(spec.to_physical(np.r_[np.zeros(6), command]))
        assert got == pytest.approx(opening)
        np.testing.assert_allclose(targets, home + sag, atol=1e-6)  # no motion asked
    assert kin.gripper_opening(1.0) == pytest.approx(SO100.gripper.max_opening)


@pytest.mark.parametrize("control_mode", ["ee_delta_pose", "joint_pos"])
def test_servos_hold_the_arm_against_gravity(control_mode):
    """No gravity compensation in the model: the servo targets carry the sag, so holding
    (a zero delta, or the same joint targets) keeps the tool where it is."""
    env = gym.make(ENV_ID, obs_mode="state_dict", control_mode=control_mode)
    obs, _ = env.reset(seed=5)
    start_ee, start_q = obs["ee_pos"].copy(), obs["joint_pos"].copy()
    spec = env.unwrapped.action_spec
    hold = np.zeros(7) if control_mode == "ee_delta_pose" else spec.to_normalised(
        np.r_[start_q, 1.0])
    for _ in range(40):  # 2 s
        obs, *_ = env.step(hold.astype(np.float32))
    env.close()
    assert np.linalg.norm(obs["ee_pos"] - start_ee) < 1e-3
    np.testing.assert_allclose(obs["joint_pos"], start_q, atol=5e-3)


# --- control -------------------------------------------------------------------------------------
@pytest.mark.parametrize("axis", [0, 1, 2])
@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_ee_delta_pose_moves_the_tool_the_commanded_way(axis, sign):
    env = gym.make(ENV_ID, obs_mode="state_dict")
    obs, _ = env.reset(seed=3)
    start = obs["ee_pos"].copy()
    action = np.zeros(7, dtype=np.float32)
    action[axis], action[6] = 0.5 * sign, 1.0  # 7.5 mm per step
    for _ in range(4):
        obs, *_ = env.step(action)
    env.close()
    moved = obs["ee_pos"] - start
    assert sign * moved[axis] > 0.015  # of the 30 mm asked: the servos lag a step
    assert np.abs(np.delete(moved, axis)).max() < 0.25 * abs(moved[axis])


def test_an_orientation_five_joints_cannot_reach_costs_little_position():
    """Tilting the tool out of the arm's plane is not reachable: the weighted IK keeps the
    tool where it is instead of trading position for it."""
    env = gym.make(ENV_ID, obs_mode="state_dict")
    obs, _ = env.reset(seed=3)
    start = obs["ee_pos"].copy()
    action = np.zeros(7, dtype=np.float32)
    action[3], action[6] = 1.0, 1.0  # roll about world x: out of the arm's vertical plane
    for _ in range(5):
        obs, *_ = env.step(action)
    env.close()
    assert np.linalg.norm(obs["ee_pos"] - start) < 0.02


# --- the task at the SO-100's scale --------------------------------------------------------------
def test_cup_fits_the_jaw_and_lies_within_reach():
    env = gym.make(ENV_ID, obs_mode="state_dict")
    task = env.unwrapped.task
    layout = task.layout
    assert 2 * layout.cup_radius < SO100.gripper.max_opening
    lo, hi = SO100.workspace
    for seed in range(20):
        obs, _ = env.reset(seed=seed)
        cup = obs["cup_pos"]
        assert lo[0] <= cup[0] <= hi[0] and lo[1] <= cup[1] <= hi[1]
        assert math.hypot(cup[0], cup[1]) < 0.23  # pointing down, the tool reaches 0.24 m
    assert task.lift_success == 0.05 and task.rest_height == pytest.approx(0.03)
    env.close()


def test_env_doc_describes_the_so100():
    doc = env_doc(ENV_ID)
    for section in ("## Description", "## Action Space", "## Observation Space", "## Rewards",
                    "## Success and Episode End", "## Starting State", "## Version History"):
        assert section in doc
    assert "SO-100" in doc and "(18)" in doc and "0.05 m" in doc
    assert "Franka" in env_doc("librobot/Franka-PickCup-v0")


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_expert_picks_the_cup(seed):
    success, steps = run_expert(seed)
    assert success and steps < 100


@pytest.mark.slow
def test_expert_success_rate_is_at_least_90_percent():
    results = [run_expert(seed)[0] for seed in range(100, 120)]
    assert sum(results) >= 18, f"{sum(results)}/20"
