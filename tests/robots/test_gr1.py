"""The Fourier GR1 (T1) model (issue 21 item 1): Fourier's published numbers reach the compiled
model (32 joints, ranges, torques, masses, link lengths), PD alone cannot stand it, the torque
limits hold under a shove, and `upper_body` (head and arms) leaves the legs and waist to the
balance law with the GR1's own gains."""

from __future__ import annotations

import mujoco
import numpy as np
import pytest

from librobot_gym.envs.sim.mujoco_sim import MujocoSim
from librobot_gym.envs.tasks.base import Push, TaskReset
from librobot_gym.errors import ConfigError
from librobot_gym.robots import ROBOTS
from librobot_gym.robots.humanoids.common import layout_for
from librobot_gym.robots.humanoids.gr1 import GR1, N_HELD, NOMINAL

EFFORTS = {"hip_roll": 80, "hip_yaw": 60, "hip_pitch": 160, "knee_pitch": 160,
           "ankle_pitch": 16, "ankle_roll": 8, "waist_yaw": 82.5, "waist_pitch": 82.5,
           "waist_roll": 82.5, "head_yaw": 10.2, "head_roll": 3.95, "head_pitch": 3.95,
           "shoulder_pitch": 38, "shoulder_roll": 38, "shoulder_yaw": 30, "elbow_pitch": 30,
           "wrist_yaw": 10.2, "wrist_roll": 3.95, "wrist_pitch": 3.95}


def _sim(mode: str, pushes=()) -> MujocoSim:
    sim = MujocoSim(GR1, [], mode, GR1.physics_dt, round(1 / (GR1.control_hz * GR1.physics_dt)))
    sim.reset(np.array(NOMINAL), 1.0, TaskReset("", {}, base_pose=(0.0, 0.0, 0.3),
                                                  pushes=tuple(pushes)))
    return sim


def _run(sim: MujocoSim, action: np.ndarray, steps: int) -> dict[str, float]:
    worst = {"low": 9.0, "tilt": 0.0}
    for _ in range(steps):
        assert sim.step(action)
        extras = sim.controller.machine_extras()
        worst["low"] = min(worst["low"], extras["base_z"])
        worst["tilt"] = max(worst["tilt"], extras["tilt"])
    return worst


def test_the_spec_has_32_joints_in_fouriers_order_with_their_torques():
    assert ROBOTS["gr1"] is GR1 and GR1.family == "humanoid" and len(GR1.joints) == 32 + 2
    names = [j.name for j in GR1.joints]
    assert names[:6] == ["left_hip_roll_joint", "left_hip_yaw_joint", "left_hip_pitch_joint",
                         "left_knee_pitch_joint", "left_ankle_pitch_joint",
                         "left_ankle_roll_joint"]
    assert names[12:18] == ["waist_yaw_joint", "waist_pitch_joint", "waist_roll_joint",
                            "head_yaw_joint", "head_roll_joint", "head_pitch_joint"]
    assert names[31:] == ["right_wrist_pitch_joint", "left_gripper_joint", "right_gripper_joint"]
    for joint in GR1.joints[:32]:
        kind = joint.name.removeprefix("left_").removeprefix("right_").removesuffix("_joint")
        assert joint.max_effort == EFFORTS[kind], joint.name
    assert GR1.control_mode("joint_pos").size == 34  # the grippers appended
    assert GR1.control_mode("upper_body").size == 34 - N_HELD == 19
    assert [c.name for c in GR1.cameras] == ["head", "chest"] and GR1.control_hz == 50.0


def test_the_model_has_the_published_lengths_masses_limits_and_torques():
    model = mujoco.MjModel.from_xml_path(GR1.asset)
    assert model.nu == 34 and model.nq == 7 + 34
    # Fourier's 53.47 kg and the two moving jaws (the hand links already weigh the hands)
    assert sum(model.body_mass) == pytest.approx(53.47 + 2 * 0.08, abs=0.01)
    assert [model.actuator(i).name for i in (32, 33)] == ["left_gripper", "right_gripper"]
    for side in ("left", "right"):
        assert model.body(f"{side}_knee_link").pos == pytest.approx([0, 0, -0.36])  # thigh
        assert model.body(f"{side}_ankle_pitch_link").pos == pytest.approx([0, 0, -0.34])
    for joint, actuator in zip(GR1.joints, GR1.actuators, strict=True):
        assert model.joint(joint.name).range == pytest.approx([joint.lower, joint.upper])
        assert model.actuator(actuator).forcerange == pytest.approx(
            [-joint.max_effort, joint.max_effort])
    assert model.camera("head").bodyid == model.body("head_link").id


def test_the_16_nm_ankles_need_the_balance_law_even_unpushed():
    """PD alone tips the GR1 over backwards within 2.5 s (its ankles cannot stiffen the
    pendulum as the H1's do); the balance law stands it for 5 s."""
    sim = _sim("joint_pos")
    assert sim.controller.machine_extras()["support_z"] == pytest.approx(0.0, abs=0.002)
    assert _run(sim, np.array(NOMINAL), 125)["low"] < 0.6
    worst = _run(_sim("upper_body"), np.array(NOMINAL[N_HELD:]), 250)
    assert worst["low"] > 0.9 and worst["tilt"] < 0.05


def test_torques_stay_within_the_published_limits_under_a_shove():
    sim = _sim("joint_pos", [Push("torso_link", 0.2, 0.1, (200.0, 0.0, 0.0))])
    limits = np.array([j.max_effort for j in GR1.joints])
    for _ in range(50):
        sim.step(np.array(NOMINAL))
        assert np.all(np.abs(sim.data.actuator_force) <= limits + 1e-6)


def _shove(mode: str) -> dict[str, float]:
    """9 N s backwards at the trunk 1 s in (the GR1 faces 0.3 rad: the push is off its axes)."""
    sim = _sim(mode, [Push("torso_link", 1.0, 0.1, (-90.0, 0.0, 0.0))])
    action = np.array(NOMINAL) if mode == "joint_pos" else np.array(NOMINAL[N_HELD:])
    return _run(sim, action, 200)


def test_the_balance_controller_rides_out_a_shove_that_topples_pd_alone():
    assert _shove("joint_pos")["low"] < 0.6  # on the floor
    balanced = _shove("upper_body")
    assert balanced["low"] > 0.85 and balanced["tilt"] < 0.4


def test_upper_body_moves_head_and_arms_and_holds_legs_and_waist():
    sim = _sim("upper_body")
    upper = np.array(NOMINAL[N_HELD:])
    upper[0] = 0.5  # head yaw
    upper[3 + 3] = -1.2  # the left elbow bends further
    _run(sim, upper, 75)
    q = sim.controller.arm_q
    assert q[N_HELD] == pytest.approx(0.5, abs=0.05)
    assert q[N_HELD + 6] == pytest.approx(-1.2, abs=0.08)
    assert np.abs(q[:N_HELD] - np.array(NOMINAL[:N_HELD])).max() < 0.1


def test_the_gr1_balances_with_its_own_gains():
    layout = layout_for(GR1)
    assert layout.n_held == N_HELD and layout.gains == {"ankle": 5.0, "hip": -2.5}
    assert layout_for("h1").n_held == 11
    with pytest.raises(ConfigError, match="register_layout"):
        layout_for("franka_panda")
