"""Each fault the H1 driver knows, on the emulator: in lockstep (deterministic: the typed error
and damping mode), and on the real-time emulator (500 Hz LowState) behind the humanoid safety
layer, with the reaction time measured from the injection to the safety layer latching the
typed fault and to the emulated motors running the damping command (kp 0). With the link gone
no command reaches the robot (the damping command is sent but cannot arrive), so only the
detection is timed. Printed with -s; the bounds leave room for a loaded machine."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from librobot_gym.hardware.humanoid_safety import FallDetected, HumanoidSafetyLayer
from librobot_gym.hardware.unitree.driver import UnitreeDriver
from librobot_gym.hardware.unitree.errors import (
    LowStateCrcError,
    LowStateLinkLost,
    MotorErrorFlag,
    MotorOverTemperature,
    StaleLowState,
)
from librobot_gym.robots import get_robot
from tests.waiting import wait_until

ROBOT = get_robot("h1")
HOME = np.array(ROBOT.home_qpos)
FAULTS = {"stale": StaleLowState, "bad_crc": LowStateCrcError,
          "over_temperature": MotorOverTemperature, "motor_error": MotorErrorFlag,
          "lost_link": LowStateLinkLost}
PERIOD = 0.1  # s: 10 Hz here, so the driver's 0.1 s limits trip before the 2-period watchdog


def damping(emulator) -> bool:
    return bool(np.all(emulator._cmd["kp"] == 0.0) and np.all(emulator._cmd["kd"] > 0.0))


@pytest.mark.parametrize("fault", list(FAULTS))
def test_lockstep_fault_is_typed_and_damps(fault):
    driver = UnitreeDriver.emulated(ROBOT, lockstep=True)
    try:
        driver.connect()
        driver.start_episode(0)
        for _ in range(3):
            driver.command(HOME, 0.0)
            driver.advance(0.02)
        driver.emulator.inject(fault, joint=3)
        with pytest.raises(FAULTS[fault]) as caught:
            for _ in range(3):
                driver.command(HOME, 0.0)
                driver.advance(0.02)
                driver.read_state()
        if fault in ("over_temperature", "motor_error"):
            assert "left_knee_joint" in str(caught.value)  # the motor it names
        if fault != "lost_link":
            driver.emulator.advance(0.02, commands=driver.sent)
            assert damping(driver.emulator)
    finally:
        driver.close()


def test_a_fall_stops_into_damping():
    driver = UnitreeDriver.emulated(ROBOT, lockstep=True)
    safety = HumanoidSafetyLayer(driver, ROBOT, 0.02, driver.joint_kp, driver.joint_effort)
    try:
        driver.connect()
        driver.start_episode(0)
        safety.command(HOME)
        driver.advance(0.02)
        driver.emulator.data.qpos[3:7] = (np.cos(0.4), np.sin(0.4), 0.0, 0.0)  # 0.8 rad over
        driver.advance(0.02)
        with pytest.raises(FallDetected):
            safety.command(HOME)
        driver.emulator.advance(0.02, commands=driver.sent)
        assert damping(driver.emulator) and safety.faulted
    finally:
        safety.close()
        driver.close()


@pytest.mark.parametrize("fault", list(FAULTS))
def test_reaction_time(fault):
    driver = UnitreeDriver.emulated(ROBOT)  # real time: 500 Hz LowState
    safety = HumanoidSafetyLayer(driver, ROBOT, PERIOD, driver.joint_kp, driver.joint_effort)
    emulator = driver.emulator
    try:
        driver.connect()
        safety.start()
        safety.begin_episode()
        for _ in range(4):
            safety.command(HOME)
            time.sleep(PERIOD)
        assert not safety.faulted and not damping(emulator)
        stop = threading.Event()

        def control_loop():  # the env's loop goes on commanding until the layer latches
            while not stop.is_set() and not safety.faulted:
                try:
                    safety.command(HOME)
                except Exception:  # noqa: BLE001 - the latched fault, checked below
                    return
                time.sleep(PERIOD)

        loop = threading.Thread(target=control_loop, daemon=True)
        loop.start()
        injected = time.monotonic()
        emulator.inject(fault, joint=3)
        latched = wait_until(lambda: safety.faulted, timeout=2.0, period=0.001)
        detected = time.monotonic() - injected
        damped = None
        if fault != "lost_link":
            assert wait_until(lambda: damping(emulator), timeout=2.0, period=0.001)
            damped = time.monotonic() - injected
        stop.set()
        loop.join(timeout=1.0)
        assert latched, f"{fault}: not detected"
        assert isinstance(safety.fault, FAULTS[fault]), safety.fault
        print(f"\n{fault}: latched {type(safety.fault).__name__} after {detected * 1000:.0f} "
              f"ms" + (f", damping mode after {damped * 1000:.0f} ms" if damped else ""))
        assert detected < 0.5 and (damped is None or damped < 0.6)
    finally:
        safety.close()
        driver.close()
