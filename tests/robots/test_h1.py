"""The Unitree H1 model (issue 21 items 1-2): its published numbers reach the compiled model,
PD alone stands it on flat ground, the torque limits hold, and the `upper_body` mode's balance
controller rides out a shove that topples PD alone."""

from __future__ import annotations

import mujoco
import numpy as np
import pytest

from librobot_gym.envs.sim.mujoco_sim import MujocoSim
from librobot_gym.envs.tasks.base import Push, TaskReset
from librobot_gym.errors import ConfigError
from librobot_gym.robots import ROBOTS, get_robot
from librobot_gym.robots.humanoids.balance import BalanceLaw
from librobot_gym.robots.humanoids.h1 import H1, NOMINAL

URDF_EFFORTS = {"hip_yaw": 200, "hip_roll": 200, "hip_pitch": 200, "knee": 300, "ankle": 40,
                "torso": 200, "shoulder_pitch": 40, "shoulder_roll": 40, "shoulder_yaw": 18,
                "elbow": 18}


def _sim(mode: str, pushes=()) -> MujocoSim:
    sim = MujocoSim(H1, [], mode, H1.physics_dt, round(1 / (H1.control_hz * H1.physics_dt)))
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


def test_the_spec_carries_the_urdf_figures():
    assert ROBOTS["h1"] is H1 and H1.family == "humanoid" and len(H1.joints) == 19 + 2
    assert [j.name for j in H1.joints[19:]] == ["left_gripper_joint", "right_gripper_joint"]
    for joint in H1.joints[:19]:
        kind = joint.name.removeprefix("left_").removeprefix("right_").removesuffix("_joint")
        assert joint.max_effort == URDF_EFFORTS[kind], joint.name
    assert H1.control_mode("joint_pos").size == 21 and H1.control_mode("upper_body").size == 10
    assert [d.unit for d in H1.control_mode("joint_pos").dims] == ["rad"] * 19 + ["m"] * 2
    assert [c.name for c in H1.cameras] == ["head", "chest"] and H1.control_hz == 50.0


def test_the_model_has_the_published_lengths_masses_limits_and_torques():
    model = mujoco.MjModel.from_xml_path(H1.asset)
    assert model.nu == 21 and model.nq == 7 + 21
    # the URDF's 59.338 kg and two 0.54 kg grippers (appended: actuators 19 and 20)
    assert sum(model.body_mass) == pytest.approx(59.338 + 2 * 0.54, abs=1e-3)
    assert [model.actuator(i).name for i in (19, 20)] == ["left_gripper", "right_gripper"]
    for side in ("left", "right"):
        assert model.body(f"{side}_knee_link").pos == pytest.approx([0, 0, -0.4])  # thigh
        assert model.body(f"{side}_ankle_link").pos == pytest.approx([0, 0, -0.4])  # shank
    for joint, actuator in zip(H1.joints, H1.actuators, strict=True):
        assert model.joint(joint.name).range == pytest.approx([joint.lower, joint.upper])
        assert model.actuator(actuator).forcerange == pytest.approx(
            [-joint.max_effort, joint.max_effort])
    for camera in ("head", "chest"):
        assert model.camera(camera).bodyid == model.body("torso_link").id


def test_pd_alone_stands_the_nominal_posture_on_flat_ground():
    sim = _sim("joint_pos")
    start = sim.controller.machine_extras()
    assert start["support_z"] == pytest.approx(0.0, abs=0.002)  # the soles on the floor
    worst = _run(sim, np.array(NOMINAL), 250)  # 5 s
    assert worst["low"] > 0.98 and worst["tilt"] < 0.1


def test_torques_stay_within_the_urdf_efforts_under_a_shove():
    sim = _sim("joint_pos", [Push("torso_link", 0.2, 0.1, (300.0, 0.0, 0.0))])
    limits = np.array([j.max_effort for j in H1.joints])  # N m; the grippers' N
    for _ in range(50):
        sim.step(np.array(NOMINAL))
        assert np.all(np.abs(sim.data.actuator_force) <= limits + 1e-6)


def _shove(mode: str) -> dict[str, float]:
    """18 N s backwards at the torso 1 s in (the H1 faces 0.3 rad: the push is off its axes)."""
    sim = _sim(mode, [Push("torso_link", 1.0, 0.1, (-180.0, 0.0, 0.0))])
    action = np.array(NOMINAL) if mode == "joint_pos" else np.array(NOMINAL[11:])
    return _run(sim, action, 200)


def test_the_balance_controller_rides_out_a_shove_that_topples_pd_alone():
    assert _shove("joint_pos")["low"] < 0.6  # on the floor
    balanced = _shove("upper_body")
    assert balanced["low"] > 0.95 and balanced["tilt"] < 0.3


def test_upper_body_moves_the_arms_and_holds_the_legs():
    sim = _sim("upper_body")
    arms = np.array(NOMINAL[11:])
    arms[3] = arms[7] = 0.2  # both elbows up to 0.2 rad (forearms near horizontal)
    arms[0] = -0.5  # the left shoulder pitches the arm forward
    _run(sim, arms, 75)
    q = sim.controller.arm_q
    # the elbow (50 N m/rad) and shoulder (100) servos sag ~0.06 rad under the 0.54 kg hand
    assert q[11 + 3] == pytest.approx(0.2, abs=0.08) and q[11 + 0] == pytest.approx(-0.5, abs=0.08)
    assert np.abs(q[:11] - np.array(NOMINAL[:11])).max() < 0.1


def test_mistakes_are_refused_with_the_fix():
    with pytest.raises(ConfigError, match="humanoids"):
        MujocoSim(get_robot("franka_panda"), [], "upper_body", 0.002, 25)
    with pytest.raises(ConfigError, match="'ankle', 'hip' and 'roll'"):
        BalanceLaw(np.zeros(10), gains={"knee": 1.0})
