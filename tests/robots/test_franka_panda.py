"""The Panda model against Franka's published kinematics and limits."""

import mujoco
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from librobot_gym.robots.arms.franka_panda import FRANKA_PANDA

# Franka's published Denavit-Hartenberg parameters (Craig's convention): a, d, alpha.
DH = [
    (0.0, 0.333, 0.0),
    (0.0, 0.0, -np.pi / 2),
    (0.0, 0.316, np.pi / 2),
    (0.0825, 0.0, np.pi / 2),
    (-0.0825, 0.384, -np.pi / 2),
    (0.0, 0.0, np.pi / 2),
    (0.088, 0.0, np.pi / 2),
]
FLANGE_D = 0.107
TCP_FROM_FLANGE = 0.1034


def dh_tcp_position(q: np.ndarray) -> np.ndarray:
    transform = np.eye(4)
    for (a, d, alpha), theta in zip(DH, q, strict=True):
        ca, sa, ct, st_ = np.cos(alpha), np.sin(alpha), np.cos(theta), np.sin(theta)
        transform = transform @ np.array([
            [ct, -st_, 0, a],
            [st_ * ca, ct * ca, -sa, -d * sa],
            [st_ * sa, ct * sa, ca, d * ca],
            [0, 0, 0, 1],
        ])
    return (transform @ np.array([0, 0, FLANGE_D + TCP_FROM_FLANGE, 1]))[:3]


@pytest.fixture(scope="module")
def panda():
    model = mujoco.MjModel.from_xml_path(str(FRANKA_PANDA.asset_path))
    return model, mujoco.MjData(model)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(-1.0, 1.0), min_size=7, max_size=7))
def test_forward_kinematics_matches_the_published_dh_table(panda, fractions):
    model, data = panda
    q = FRANKA_PANDA.joint_lower + (np.array(fractions) + 1) / 2 * (
        FRANKA_PANDA.joint_upper - FRANKA_PANDA.joint_lower)
    data.qpos[:7] = q
    mujoco.mj_kinematics(model, data)
    np.testing.assert_allclose(data.site("tcp").xpos, dh_tcp_position(q), atol=1e-6)


def test_ready_pose_tool_position(panda):
    model, data = panda
    data.qpos[:7] = FRANKA_PANDA.home_qpos
    mujoco.mj_kinematics(model, data)
    # Franka's ready pose puts the flange 0.59 m up and 0.31 m forward, tool pointing down.
    np.testing.assert_allclose(data.site("tcp").xpos, [0.3069, 0.0, 0.4869], atol=1e-3)
    np.testing.assert_allclose(data.site("tcp").xmat.reshape(3, 3)[:, 2], [0, 0, -1], atol=1e-6)


def test_joint_limits_in_the_model_are_the_published_ones(panda):
    model, _ = panda
    for joint in FRANKA_PANDA.joints:
        np.testing.assert_allclose(model.joint(joint.name).range, [joint.lower, joint.upper])
        actuator = model.actuator(f"actuator{joint.name[-1]}")
        np.testing.assert_allclose(actuator.ctrlrange, [joint.lower, joint.upper])
        assert actuator.forcerange[1] == joint.max_effort


def test_every_action_dimension_is_named_with_a_unit():
    for mode in FRANKA_PANDA.control_modes.values():
        names = [d.name for d in mode.dims]
        assert len(set(names)) == len(names)
        assert all(d.unit for d in mode.dims)
        assert all(d.low < d.high for d in mode.dims)


def test_cameras_exist_in_the_model(panda):
    model, _ = panda
    names = {c.name for c in FRANKA_PANDA.cameras}
    assert names == {"front", "wrist"}
    for camera in FRANKA_PANDA.cameras:
        assert model.camera(camera.name).fovy[0] == pytest.approx(camera.fovy_deg)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(sorted(FRANKA_PANDA.control_modes)), st.data())
def test_normalised_and_physical_actions_round_trip(mode_name, data):
    mode = FRANKA_PANDA.control_modes[mode_name]
    action = np.array(data.draw(st.lists(st.floats(-1, 1), min_size=mode.size,
                                         max_size=mode.size)))
    physical = mode.to_physical(action)
    assert np.all(physical >= mode.low - 1e-9) and np.all(physical <= mode.high + 1e-9)
    np.testing.assert_allclose(mode.to_normalised(physical), action, atol=1e-9)
