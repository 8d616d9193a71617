"""The PyBullet twin driver: tracking, delay, latency, noise, kinematics against the MuJoCo
model, the cell (cup placement, grasp report, a scripted pick), cameras, clocks, isolation."""

import time

import mujoco
import numpy as np
import pytest

from librobot_gym.envs.tasks.pick_cup import PickCup
from librobot_gym.errors import ConfigError
from librobot_gym.hardware.driver import (
    DriverDisconnected,
    DriverError,
    lockstep_advance,
)
from librobot_gym.hardware.drivers import make_driver
from librobot_gym.hardware.twin.driver import TwinDriver
from librobot_gym.robots.arms.common import TOOL_DOWN
from librobot_gym.robots.arms.franka_panda import FRANKA_PANDA
from librobot_gym.robots.arms.franka_panda.layouts import PICK_CUP
from librobot_gym.scene import Cell

CELL = Cell.of(PickCup(FRANKA_PANDA))  # the PickCup cell the twin simulates
CUP_HALF_HEIGHT = PICK_CUP["cup_half_height"]

HOME = np.array(FRANKA_PANDA.home_qpos)
POSTURE = HOME + np.array([0.3, 0.2, -0.2, 0.3, 0.2, -0.3, 0.3])
BLUE = (0.12, 0.30, 0.85, 1.0)


def yaw_quat(yaw):
    return np.array([np.cos(yaw / 2), 0.0, 0.0, np.sin(yaw / 2)])


@pytest.fixture
def make_twin():
    twins = []

    def make(**options):
        options.setdefault("realtime", False)
        twin = TwinDriver(FRANKA_PANDA, scene=CELL, **options)
        twins.append(twin)
        return twin

    yield make
    for twin in twins:
        twin.close()


class MujocoArm:
    """The project's MJCF, for forward kinematics and a damped least-squares IK."""

    def __init__(self):
        self.model = mujoco.MjModel.from_xml_path(str(FRANKA_PANDA.asset_path))
        self.data = mujoco.MjData(self.model)
        self.site = self.model.site(FRANKA_PANDA.tool_site).id

    def tcp(self, q):
        self.data.qpos[:7] = q
        mujoco.mj_kinematics(self.model, self.data)
        mujoco.mj_comPos(self.model, self.data)
        return (self.data.site_xpos[self.site].copy(),
                self.data.site_xmat[self.site].reshape(3, 3).copy())

    def ik(self, pos, q0, rot=TOOL_DOWN):
        q = np.array(q0, dtype=np.float64)
        jac_p, jac_r = np.zeros((3, self.model.nv)), np.zeros((3, self.model.nv))
        for _ in range(200):
            tcp, cur = self.tcp(q)
            err = np.concatenate([pos - tcp,
                                  0.5 * sum(np.cross(cur[:, i], rot[:, i]) for i in range(3))])
            if np.linalg.norm(err) < 1e-6:
                break
            mujoco.mj_jacSite(self.model, self.data, jac_p, jac_r, self.site)
            jac = np.vstack([jac_p, jac_r])[:, :7]
            q = np.clip(q + jac.T @ np.linalg.solve(jac @ jac.T + 1e-4 * np.eye(6), err),
                        FRANKA_PANDA.joint_lower, FRANKA_PANDA.joint_upper)
        return q


def test_joint_targets_are_tracked(make_twin):
    twin = make_twin(joint_noise=0.0)
    twin.command(POSTURE, 0.04)
    assert lockstep_advance(twin, 1.0)
    state = twin.read_state()
    assert np.abs(state.joint_pos - POSTURE).max() < 0.02
    assert np.abs(state.joint_vel).max() < 0.05
    assert state.gripper_opening == pytest.approx(0.04, abs=0.002)
    assert twin.now() == pytest.approx(1.0)


def test_actuator_delay_holds_a_command_back(make_twin):
    delayed = make_twin(joint_noise=0.0, latency=0.0, actuator_delay=0.02)
    prompt = make_twin(joint_noise=0.0, latency=0.0, actuator_delay=0.0)
    for twin in (delayed, prompt):
        twin.advance(0.1)
        start = twin.now()
        before = twin.read_state().joint_pos
        twin.command(POSTURE, 0.08)
        twin.advance(0.019)  # just short of the delay
        assert twin.now() < start + 0.02
        moved = np.abs(twin.read_state().joint_pos - before).max()
        if twin is delayed:
            assert moved < 1e-4  # nothing has reached the motors yet
        else:
            assert moved > 1e-3
    delayed.advance(0.03)
    assert np.abs(delayed.read_state().joint_pos - before).max() > 1e-3


def test_readings_are_latency_old(make_twin):
    late = make_twin(joint_noise=0.0, latency=0.005)
    fresh = make_twin(joint_noise=0.0, latency=0.0)
    truth, gap = {}, 0.0
    for twin in (late, fresh):
        twin.command(POSTURE, 0.0)
    for _ in range(60):  # 0.25 s of motion, every physics step
        for twin in (late, fresh):
            twin.advance(1 / 240)
        state = fresh.read_state()
        assert state.stamp == pytest.approx(fresh.now())
        truth[round(state.stamp * 240)] = state.joint_pos
        reading = late.read_state()
        lag = late.now() - reading.stamp
        assert 0.005 - 1e-9 <= lag < 0.005 + 1 / 240
        if round(reading.stamp * 240) in truth:  # the state of that (earlier) moment
            # (the late twin's clock warmed up one latency of resting physics: microradians)
            np.testing.assert_allclose(reading.joint_pos, truth[round(reading.stamp * 240)],
                                       atol=1e-4)
        gap = max(gap, np.abs(reading.joint_pos - truth[max(truth)]).max())
    assert gap > 0.005  # a moving arm's reading is visibly older than the present


def test_joint_noise_is_present_but_small(make_twin):
    twin = make_twin(joint_noise=0.0005, seed=3)
    twin.advance(0.1)
    readings = np.array([twin.read_state().joint_pos for _ in range(400)])
    spread = readings.std(axis=0)
    assert np.all(spread > 0.0003) and np.all(spread < 0.0008)
    assert np.abs(readings.mean(axis=0) - HOME).max() < 0.002
    same = make_twin(joint_noise=0.0005, seed=3)
    same.advance(0.1)
    np.testing.assert_array_equal(same.read_state().joint_pos, readings[0])  # seeded


def test_urdf_tcp_matches_mujoco_forward_kinematics(make_twin):
    twin, arm = make_twin(joint_noise=0.0, latency=0.0), MujocoArm()
    rng = np.random.default_rng(7)
    lower, upper = FRANKA_PANDA.joint_lower, FRANKA_PANDA.joint_upper
    for _ in range(5):
        twin.move_to(rng.uniform(lower + 0.1, upper - 0.1), 0.08, 5.0)
        q = twin.read_state().joint_pos  # the measured posture (the arm may rest on things)
        pos, rot = twin.tcp_pose()
        mj_pos, mj_rot = arm.tcp(q)
        assert np.linalg.norm(pos - mj_pos) < 0.01
        assert np.abs(rot - mj_rot).max() < 0.01


def test_cup_placement_and_scene_report(make_twin):
    twin = make_twin()
    pos = np.array([0.58, -0.12, CUP_HALF_HEIGHT])
    quat = -yaw_quat(1.0)  # w < 0: the same rotation, reported with w >= 0
    assert twin.reset_scene({"cup": (pos, quat)}, {"cup": BLUE}) is True
    report = twin.scene()
    np.testing.assert_allclose(report.object_pos["cup"], pos, atol=0.002)
    assert report.object_quat["cup"][0] >= 0
    np.testing.assert_allclose(report.object_quat["cup"], yaw_quat(1.0), atol=0.01)
    assert report.grasped == {"cup": False}
    with pytest.raises(DriverError, match="no object"):
        twin.reset_scene({"mug": (pos, quat)}, {})


def test_a_cup_placed_into_the_robot_is_not_launched(make_twin):
    twin, arm = make_twin(), MujocoArm()
    cup = np.array([0.5, 0.0, CUP_HALF_HEIGHT])
    twin.move_to(arm.ik(cup + [0, 0.03, 0.01], HOME), 0.08, 5.0)  # a finger where the cup goes
    twin.reset_scene({"cup": (cup, yaw_quat(0.0))}, {})
    assert twin._ghosts == {"cup"}  # it passes through the robot until they are apart
    twin.advance(0.5)
    report = twin.scene()
    np.testing.assert_allclose(report.object_pos["cup"], cup, atol=0.005)
    assert not report.grasped["cup"]
    twin.move_to(HOME, 0.08, 5.0)
    assert twin._ghosts == set()  # solid again
    np.testing.assert_allclose(twin.scene().object_pos["cup"], cup, atol=0.005)


def test_scripted_grasp_lifts_the_cup(make_twin):
    twin, arm = make_twin(), MujocoArm()
    cup = np.array([0.55, 0.1, CUP_HALF_HEIGHT])
    twin.reset_scene({"cup": (cup, yaw_quat(0.7))}, {"cup": BLUE})
    twin.move_to(HOME, 0.08, 10.0)

    def go(target, opening, seconds, q0):
        """Joint targets on a straight joint-space ramp, one command per 50 ms period."""
        goal, start = arm.ik(target, q0), twin.read_state().joint_pos
        periods = int(round(seconds / 0.05))
        for k in range(1, periods + 1):
            twin.command(start + (goal - start) * min(1.0, k / (0.7 * periods)), opening)
            assert lockstep_advance(twin, 0.05)
        return goal

    q = go(cup + [0, 0, 0.12], 0.08, 1.5, HOME)  # above the cup
    q = go(cup + [0, 0, 0.01], 0.08, 1.0, q)  # descend around it
    assert not twin.scene().grasped["cup"]
    q = go(cup + [0, 0, 0.01], 0.0, 0.5, q)  # close
    assert twin.scene().grasped["cup"]
    assert twin.read_state().gripper_opening == pytest.approx(0.06, abs=0.003)  # cup's width
    go(cup + [0, 0, 0.16], 0.0, 1.5, q)  # lift 0.15 m
    report = twin.scene()
    assert report.grasped["cup"]
    lift = report.object_pos["cup"][2] - CUP_HALF_HEIGHT
    assert lift == pytest.approx(0.15, abs=0.015)


def project(point, twin, camera, size):
    """Pixel (row, col) of a world point in a MuJoCo-convention camera (for the front one)."""
    cam = next(c for c in twin._cameras if c.name == camera)
    local = cam.rot.T @ (np.asarray(point) - cam.pos)
    focal = size[0] / 2 / np.tan(np.radians(cam.fovy) / 2)
    return (size[0] / 2 - focal * local[1] / -local[2],
            size[1] / 2 + focal * local[0] / -local[2])


def test_camera_frames_show_the_cup_where_the_mujoco_camera_would(make_twin):
    twin = make_twin()
    cup = np.array([0.5, 0.1, CUP_HALF_HEIGHT])
    twin.reset_scene({"cup": (cup, yaw_quat(0.0))}, {"cup": BLUE})
    frames = twin.camera_frames((48, 64))
    assert set(frames) == {"front", "wrist"}
    for frame in frames.values():
        assert frame.shape == (48, 64, 3) and frame.dtype == np.uint8
        assert frame.std() > 10  # not blank
    front = twin.camera_frames((128, 128))["front"].astype(int)
    r, g, b = front[..., 0], front[..., 1], front[..., 2]
    blue = (b > 1.6 * r) & (b > 1.6 * g) & (b > 60)
    assert blue.sum() > 20
    rows, cols = np.nonzero(blue)
    row, col = project(cup, twin, "front", (128, 128))
    assert abs(rows.mean() - row) < 3 and abs(cols.mean() - col) < 3
    twin.reset_scene({"cup": (cup, yaw_quat(0.0))}, {"cup": (0.85, 0.12, 0.10, 1.0)})
    front = twin.camera_frames((128, 128))["front"].astype(int)
    assert ((front[..., 2] > 1.6 * front[..., 0]) & (front[..., 2] > 60)).sum() < 3
    sized = make_twin(camera_size=(96, 96))  # the cameras' own resolution, resized
    assert sized.camera_frames((64, 48))["wrist"].shape == (64, 48, 3)


def test_realtime_twin_runs_on_its_own_and_close_stops_it(make_twin):
    twin = make_twin(realtime=True, joint_noise=0.0)
    assert twin.running and not lockstep_advance(twin, 0.05)
    first = twin.read_state()
    assert first.stamp <= time.monotonic() - twin.latency
    target = HOME + np.array([0.15, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0])
    twin.command(target, 0.08)
    time.sleep(0.5)
    state = twin.read_state()
    assert state.stamp - first.stamp > 0.3  # its clock ran
    assert abs(state.joint_pos[0] - target[0]) < 0.02  # and so did its motors
    twin.move_to(HOME, 0.08, 5.0)  # a smooth homing move
    assert np.abs(twin.read_state().joint_pos - HOME).max() < 0.02
    twin.stop()
    twin.close()
    assert not twin.running
    with pytest.raises(DriverDisconnected):
        twin.read_state()
    with pytest.raises(DriverDisconnected):
        twin.connect()
    twin.stop()  # never raises
    twin.close()  # idempotent


def test_two_twins_in_one_process_do_not_interfere(make_twin):
    a, b = make_twin(joint_noise=0.0), make_twin(joint_noise=0.0)
    a.reset_scene({"cup": (np.array([0.45, -0.15, CUP_HALF_HEIGHT]), yaw_quat(0.0))}, {})
    a.command(POSTURE, 0.0)
    a.advance(1.0)
    b.advance(1.0)
    assert np.abs(a.read_state().joint_pos - POSTURE).max() < 0.02
    assert np.abs(b.read_state().joint_pos - HOME).max() < 0.005
    np.testing.assert_allclose(b.scene().object_pos["cup"], [0.5, 0.0, CUP_HALF_HEIGHT],
                               atol=0.002)
    assert a.client._client != b.client._client


def test_driver_specs_make_twins():
    with pytest.raises(ConfigError, match="needs the cell"):
        make_driver("twin:lockstep", FRANKA_PANDA)
    twin = make_driver("twin:lockstep", FRANKA_PANDA, scene=CELL, joint_noise=0.0)
    try:
        assert isinstance(twin, TwinDriver) and not twin.realtime
        assert lockstep_advance(twin, 0.05) and twin.now() == pytest.approx(0.05)
    finally:
        twin.close()
