"""The GR1 driver on its lockstep emulator through Fourier's client over loopback Zenoh: the
connect sequence on the wire (liveness, gains, enable), targets in degrees in GRX's order,
state back in radians, each fault's typed error, damping as the safe stop."""

from __future__ import annotations

import numpy as np
import pytest

from librobot_gym.hardware.fourier import grx
from librobot_gym.hardware.fourier.driver import FourierDriver
from librobot_gym.hardware.fourier.errors import (
    GrxLinkLost,
    MotorError,
    MotorNotPowered,
    StaleGrxState,
)
from librobot_gym.robots import get_robot

ROBOT = get_robot("gr1")
HOME = np.array(ROBOT.home_qpos)
pytestmark = pytest.mark.xdist_group("zenoh-7447")


@pytest.fixture(scope="module")
def driver():
    drv = FourierDriver.emulated(ROBOT, lockstep=True)
    drv.connect()
    yield drv
    drv.close()


def _hold(driver, target, steps):
    for _ in range(steps):
        driver.command(target, 0.0)
        driver.advance(0.02)


def test_connect_is_liveness_gains_enable(driver):
    emulator = driver.emulator
    services = [s for s, _ in emulator.queries]
    assert services[:3] == ["robot/info", "control/gains", "control/enable"]
    gains = emulator.queries[1][1]
    knee = grx.SLOT_OF["left_knee_pitch_joint"]
    assert gains["kp"][knee] == 600.0 and gains["kd"][knee] == 8.0  # the MJCF servo's
    assert gains["control_mode"] == [grx.PD_MODE] * 32
    assert emulator.queries[2][1] == "ON" and emulator.enabled.all()


def test_targets_go_out_in_degrees_in_grx_order(driver):
    driver.start_episode(0)
    target = HOME.copy()
    head_yaw = ROBOT.joint_names.index("head_yaw_joint")
    target[head_yaw] = 0.4
    _hold(driver, target, 30)
    emulator = driver.emulator
    assert emulator._target[17] == pytest.approx(0.4)  # GRX slot 17 is the head's yaw
    assert np.rad2deg(emulator._target[17]) == pytest.approx(22.918, abs=1e-3)
    state = driver.read_state()
    assert state.joint_pos[head_yaw] == pytest.approx(0.4, abs=0.03)
    body = driver.body  # the 32 body joints; the grippers appended after them have no slot
    np.testing.assert_allclose(state.joint_pos[body], np.deg2rad(
        driver.client.states["joint"]["position"])[driver.slots])
    assert len(body) == 32 and not np.delete(state.joint_pos, body).any()
    assert state.extras["imu_acc"][2] == pytest.approx(9.81, abs=1.0)  # standing
    assert abs(state.extras["imu_gyro"]).max() < 0.5  # rad/s (deg/s on the wire)


def test_stop_is_damping_and_the_next_command_restores_the_gains(driver):
    driver.start_episode(0)
    _hold(driver, HOME, 5)
    driver.stop()
    emulator = driver.emulator
    assert np.all(emulator.kp == 0.0) and np.all(emulator.kd > 0.0)
    assert emulator.enabled.all()  # not disabled: damped
    for _ in range(50):
        driver.advance(0.02)
    assert emulator.data.qpos[2] < 0.8  # it sinks (a real GR1 into its harness)
    driver.command(HOME, 0.0)
    assert emulator.kp[grx.SLOT_OF["left_knee_pitch_joint"]] == 600.0


def test_stale_state_is_typed_and_damps(driver):
    driver.start_episode(0)
    _hold(driver, HOME, 3)
    driver.emulator.inject("stale")
    with pytest.raises(StaleGrxState, match="froze"):
        _hold(driver, HOME, 3)
    assert driver.damping and np.all(driver.emulator.kp == 0.0)


def test_a_lost_link_is_typed(driver):
    driver.start_episode(0)
    _hold(driver, HOME, 3)
    driver.emulator.inject("lost_link")
    with pytest.raises(GrxLinkLost, match="link to the GR1 is gone"):
        driver.advance(0.02)
    driver.emulator.clear()


def test_a_disabled_motor_is_typed(driver):
    driver.start_episode(0)
    _hold(driver, HOME, 3)
    driver.emulator.inject("disabled")
    with pytest.raises(MotorNotPowered, match="gives 0 N m"):
        _hold(driver, HOME, 20)


def test_a_motor_error_is_typed_with_the_servers_text(driver):
    driver.start_episode(0)
    _hold(driver, HOME, 3)
    driver.emulator.inject("motor_error", slot=grx.SLOT_OF["right_knee_pitch_joint"])
    with pytest.raises(MotorNotPowered, match="right_knee_pitch_joint"):
        _hold(driver, HOME, 20)
    with pytest.raises(MotorError, match="motor 9 \\(r_knee_pitch\\)"):
        driver.command(HOME, 0.0)  # after the stop: gains back, enable refused
    driver.emulator.clear()
    driver.command(HOME, 0.0)  # the cause gone: enabled again
    assert driver.emulator.enabled.all()


def test_an_absent_server_is_a_lost_link():
    driver = FourierDriver(ROBOT, "127.0.0.1", namespace="gr/nobody-here")
    with pytest.raises(GrxLinkLost, match="did not answer robot/info"):
        driver.connect()
    driver.close()
