"""Reaction times on the real-time GR1 emulator (`fourier:emulator`: 400 Hz physics and state,
wall clock): the GR1 held standing at 10 Hz through the humanoid safety layer and Fourier's
client, each fault injected while it stands. Measured: from the injection to the safety layer
latching the typed fault (its watchdog polls every quarter period), and to the robot being in
its safe state (the emulator running damping gains: kp 0) where the link still carries it.
Printed with -s; the bounds leave room for a loaded machine."""

from __future__ import annotations

import time

import numpy as np
import pytest

from librobot_gym.hardware.driver import DriverError
from librobot_gym.hardware.fourier.driver import FourierDriver
from librobot_gym.hardware.fourier.errors import (
    GrxLinkLost,
    MotorNotPowered,
    StaleGrxState,
)
from librobot_gym.hardware.humanoid_safety import HumanoidSafetyLayer
from librobot_gym.robots import get_robot
from tests.waiting import wait_until

PERIOD = 0.1  # 10 Hz: the watchdog's two periods (0.2 s) leave the driver's limits to trip
ROBOT = get_robot("gr1")
FAULTS = {"stale": StaleGrxState, "lost_link": GrxLinkLost, "disabled": MotorNotPowered,
          "motor_error": MotorNotPowered}


@pytest.mark.xdist_group("zenoh-7447")
@pytest.mark.parametrize("fault", list(FAULTS))
def test_reaction_time(fault):
    driver = FourierDriver.emulated(ROBOT)
    emulator = driver.emulator
    safety = None
    try:
        driver.connect()
        safety = HumanoidSafetyLayer(driver, ROBOT, PERIOD, driver.joint_kp,
                                     driver.joint_effort)
        safety.start()
        safety.begin_episode()
        home = np.array(ROBOT.home_qpos)
        next_command = time.monotonic()
        for _ in range(int(0.3 / PERIOD)):  # standing, commanded every period
            safety.command(home)
            next_command += PERIOD
            time.sleep(max(0.0, next_command - time.monotonic()))
        injected = time.monotonic()
        emulator.inject(fault, slot=3)
        while not safety.faulted and time.monotonic() < injected + 2.0:
            if time.monotonic() >= next_command:
                try:
                    safety.command(home)
                except DriverError:
                    break
                next_command += PERIOD
            time.sleep(0.001)
        latched = time.monotonic()
        cause = safety.fault
        cause = cause if isinstance(cause, FAULTS[fault]) else cause.__cause__
        assert isinstance(cause, FAULTS[fault]), repr(safety.fault)
        line = f"\ngr1 {fault}: {type(cause).__name__} latched {(latched - injected) * 1e3:.0f}" \
               " ms after the fault"
        if fault != "lost_link":  # the damping gains reach the server
            assert wait_until(lambda: np.all(emulator.kp == 0.0), 2.0)
            line += f"; damping on the robot {(time.monotonic() - injected) * 1e3:.0f} ms after"
        print(line)
        assert latched - injected < 1.0
    finally:
        if safety is not None:
            safety.close()
        driver.close()
