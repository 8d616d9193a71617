"""The Figure-class (unofficial) humanoid (issue 21 item 1): our generic full-size robot is as
its docstring says (1.68 m, 70 kg, 6-DoF legs, two 7-DoF arms, parallel grippers), PD alone
stands it, torques hold under a shove, the balance law rides out one that topples PD alone,
and `upper_body` opens and closes the grippers while the legs hold."""

from __future__ import annotations

import mujoco
import numpy as np
import pytest

from librobot_gym.envs.sim.mujoco_sim import MujocoSim
from librobot_gym.envs.tasks.base import Push, TaskReset
from librobot_gym.robots import ROBOTS
from librobot_gym.robots.humanoids.figure import FIGURE_CLASS, LABEL, N_HELD, NOMINAL

ROBOT = FIGURE_CLASS


def _sim(mode: str, pushes=()) -> MujocoSim:
    sim = MujocoSim(ROBOT, [], mode, ROBOT.physics_dt,
                    round(1 / (ROBOT.control_hz * ROBOT.physics_dt)))
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


def test_the_spec_is_the_class_and_says_it_is_unofficial():
    assert ROBOTS["figure_class"] is ROBOT and ROBOT.family == "humanoid"
    assert LABEL == "Figure-class (unofficial)"
    names = [j.name for j in ROBOT.joints]
    assert len(names) == 29 and names[12] == "torso_joint"
    arms = [n for n in names[N_HELD:] if "gripper" not in n]
    assert len(arms) == 14
    assert names[20] == "left_gripper_joint" and names[-1] == "right_gripper_joint"
    units = {d.name: d.unit for d in ROBOT.control_mode("joint_pos").dims}
    assert units["left_gripper_joint"] == "m" and units["left_elbow_joint"] == "rad"
    assert ROBOT.control_mode("upper_body").size == 16


def test_the_model_is_168_m_and_70_kg():
    model = mujoco.MjModel.from_xml_path(ROBOT.asset)
    assert model.nu == 29 and sum(model.body_mass) == pytest.approx(70.0, abs=0.01)
    sim = _sim("joint_pos")
    head_top = sim.data.geom("head").xpos[2] + model.geom("head").size[2]
    assert head_top == pytest.approx(1.68, abs=0.02)
    for joint, actuator in zip(ROBOT.joints, ROBOT.actuators, strict=True):
        assert model.joint(joint.name).range == pytest.approx([joint.lower, joint.upper])
        assert model.actuator(actuator).forcerange == pytest.approx(
            [-joint.max_effort, joint.max_effort])


def test_pd_alone_stands_and_torques_hold_under_a_shove():
    worst = _run(_sim("joint_pos"), np.array(NOMINAL), 250)
    assert worst["low"] > 0.95 and worst["tilt"] < 0.1
    sim = _sim("joint_pos", [Push("torso_link", 0.2, 0.1, (300.0, 0.0, 0.0))])
    limits = np.array([j.max_effort for j in ROBOT.joints])
    for _ in range(50):
        sim.step(np.array(NOMINAL))
        assert np.all(np.abs(sim.data.actuator_force) <= limits + 1e-6)


def test_the_balance_controller_rides_out_a_shove_that_topples_pd_alone():
    push = [Push("torso_link", 1.0, 0.1, (-250.0, 0.0, 0.0))]  # 25 N s backwards
    assert _run(_sim("joint_pos", push), np.array(NOMINAL), 200)["low"] < 0.6
    balanced = _run(_sim("upper_body", push), np.array(NOMINAL[N_HELD:]), 200)
    assert balanced["low"] > 0.9 and balanced["tilt"] < 0.4


def test_upper_body_closes_a_gripper_and_holds_the_legs():
    sim = _sim("upper_body")
    upper = np.array(NOMINAL[N_HELD:])
    upper[7] = 0.0  # the left gripper closes
    _run(sim, upper, 50)
    q = sim.controller.arm_q
    assert q[20] == pytest.approx(0.0, abs=0.005) and q[28] == pytest.approx(0.08, abs=0.005)
    assert np.abs(q[:N_HELD] - np.array(NOMINAL[:N_HELD])).max() < 0.1
