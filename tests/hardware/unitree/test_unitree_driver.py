"""The H1 driver on its emulator in lockstep, over the SDK's DDS channels on loopback: the motor
map both ways, the gains and modes it sends, commands with a bad CRC dropped and counted,
damping mode as the safe stop, the scheme's specs."""

from __future__ import annotations

import numpy as np
import pytest

from librobot_gym.errors import ConfigError
from librobot_gym.hardware.drivers import make_driver
from librobot_gym.hardware.unitree import h1
from librobot_gym.hardware.unitree.sdk import crc, publisher, sdk
from librobot_gym.robots import get_robot

ROBOT = get_robot("h1")
HOME = np.array(ROBOT.home_qpos)


def test_motor_map_is_unitrees():
    assert h1.SLOTS["right_hip_roll_joint"] == 0 and h1.SLOTS["left_hip_yaw_joint"] == 7
    assert h1.SLOTS["torso_joint"] == 6 and h1.SLOTS["left_elbow_joint"] == 19
    assert sorted(h1.SLOTS.values()) == [s for s in range(20) if s != h1.UNUSED_SLOT]
    assert h1.mode_of(10) == h1.MODE_WEAK and h1.mode_of(1) == h1.MODE_STRONG


def test_state_comes_through_the_slots(driver):
    driver.start_episode(0)
    state = driver.read_state()
    body = driver.body  # the 19 motors; the grippers appended after them have no LowCmd slot
    np.testing.assert_allclose(state.joint_pos[body], HOME[body], atol=1e-3)  # standing
    assert len(body) == 19 and not np.delete(state.joint_pos, body).any()  # grippers read 0
    np.testing.assert_allclose(state.extras["imu_quat"], [1, 0, 0, 0], atol=0.02)
    for _ in range(10):  # it starts 1 mm above the floor: in free fall the IMU reads 0
        driver.command(HOME, 0.0)
        driver.advance(0.02)
    assert driver.read_state().extras["imu_acc"][2] == pytest.approx(9.81, abs=1.0)


def test_a_command_moves_the_joint_its_slot_names(driver):
    driver.start_episode(0)
    target = HOME.copy()
    elbow = ROBOT.joint_names.index("left_elbow_joint")
    target[elbow] += 0.3
    for _ in range(40):
        driver.command(target, 0.0)
        driver.advance(0.02)
    state = driver.read_state()
    assert state.joint_pos[elbow] == pytest.approx(HOME[elbow] + 0.3, abs=0.05)
    emulator = driver.emulator
    slot = list(emulator.slots).index(h1.SLOTS["left_elbow_joint"])
    assert emulator._cmd["kp"][slot] == pytest.approx(50.0)  # the MJCF's shoulder yaw/elbow kp
    assert emulator._cmd["mode"][slot] == h1.MODE_WEAK


def test_the_lowcmd_on_the_wire(driver):
    driver.start_episode(0)
    driver.command(HOME, 0.0)
    msg = driver._cmd
    assert msg.crc == crc(msg) and msg.level_flag == h1.LEVEL_LOW
    assert msg.motor_cmd[h1.UNUSED_SLOT].mode == h1.MODE_OFF
    knee = msg.motor_cmd[h1.SLOTS["left_knee_joint"]]
    assert (knee.mode, knee.kp, knee.kd) == (h1.MODE_STRONG, 1000.0, 10.0)
    assert knee.q == pytest.approx(HOME[ROBOT.joint_names.index("left_knee_joint")], abs=1e-6)


def test_a_command_with_a_bad_crc_is_dropped_and_counted(driver):
    driver.start_episode(0)
    emulator = driver.emulator
    parts = sdk()
    rogue = publisher("rt/lowcmd", parts.LowCmd)  # the process's LowCmd writer
    msg = parts.default_lowcmd()
    for motor in msg.motor_cmd:
        motor.mode, motor.kp = h1.MODE_STRONG, 500.0  # would yank every joint to 0
    msg.crc = crc(msg) ^ 1
    before, bad = dict(emulator._cmd), emulator.bad_crc
    rogue.Write(msg)
    driver.sent += 1  # lockstep: the emulator waits for it
    driver.advance(0.02)
    assert emulator.bad_crc == bad + 1
    assert emulator._cmd is before or np.array_equal(emulator._cmd["kp"], before["kp"])


def test_stop_is_damping_not_freeze(driver):
    driver.start_episode(0)
    driver.command(HOME, 0.0)
    driver.advance(0.02)
    driver.stop()
    driver.advance(0.02)
    cmd = driver.emulator._cmd
    assert np.all(cmd["kp"] == 0.0) and np.all(cmd["kd"] > 0.0)
    assert np.all(cmd["mode"] != h1.MODE_OFF)  # motors on, damping
    assert np.all(cmd["q"] >= h1.POS_STOP / 2)  # no position target
    for _ in range(50):
        driver.advance(0.02)
    assert driver.emulator.data.qpos[2] < 0.9  # it sinks (a real H1 into its harness)


def test_specs():
    with pytest.raises(ConfigError, match="drives the Unitree H1"):
        make_driver("unitree:emulator", get_robot("gr1"))
    with pytest.raises(ConfigError, match="options"):
        make_driver("unitree:emulator?speed=2", ROBOT)
    with pytest.raises(ConfigError, match="network interface"):
        make_driver("unitree:eth0;rm", ROBOT)
    driver = make_driver("unitree:emulator:lockstep?max_temperature=80", ROBOT)
    assert driver.lockstep and driver.max_temperature == 80
    assert driver.stand_in.spec == "unitree:emulator:lockstep"
