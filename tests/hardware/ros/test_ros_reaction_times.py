"""Reaction times on the real-time rosbridge emulator (`ros:emulator`, wall clock): Fetch
and TIAGo driven at 10 Hz through the mobile safety layer, each fault injected while the base
moves at 0.5 m/s. Measured: from the injection to the safety layer latching the typed fault
(its watchdog polls every quarter period), and to the robot being told to stop (the emulator
receiving the zero twist) or, with the link gone, to the base standing still by its own
cmd_vel timeout. TIAGo has no run-stop topic: its pressed button shows as the arm's goal
aborted (`ActionAborted`). Printed with -s; the bounds leave room for a loaded machine."""

from __future__ import annotations

import time

import numpy as np
import pytest

from librobot_gym.hardware.driver import DriverError
from librobot_gym.hardware.mobile_safety import MobileSafetyLayer, TwistLimits, arm_limits
from librobot_gym.hardware.ros.driver import RosDriver
from librobot_gym.hardware.ros.errors import (
    ActionAborted,
    ActionPreempted,
    RosLinkDropped,
    RunStopPressed,
    StaleJointStates,
)
from librobot_gym.hardware.ros.robots import ROBOTS
from librobot_gym.hardware.ros.stand_in import joint_ranges
from librobot_gym.robots import get_robot
from tests.waiting import wait_until

PERIOD = 0.1
FAULTS = {"drop_link": RosLinkDropped, "stale_joint_states": StaleJointStates,
          "abort_goal": ActionAborted, "preempt_goal": ActionPreempted,
          "press_runstop": RunStopPressed}


@pytest.mark.parametrize("robot", ["fetch", "tiago"])
@pytest.mark.parametrize("fault", list(FAULTS))
def test_reaction_time(fault, robot):
    spec, ros = get_robot(robot), ROBOTS[robot]
    error = ActionAborted if fault == "press_runstop" and ros.runstop is None else FAULTS[fault]
    driver = RosDriver.emulated(spec, ros)
    safety = MobileSafetyLayer(driver, PERIOD, TwistLimits.for_robot(spec),
                               arm=arm_limits(spec, PERIOD),
                               torso_range=joint_ranges(spec.asset)[ros.torso_joint])
    emulator = driver.emulator
    try:
        driver.connect()
        safety.start()
        safety.begin_episode()
        posture = driver.read_state().joint_pos

        def command():
            safety.command(np.array([0.5, 0.0]), posture, 0.0, 0.05)

        give_up = time.monotonic() + 3.0
        while emulator.robot.twist[0] < 0.45 and time.monotonic() < give_up:
            command()
            time.sleep(PERIOD)
        injected = time.monotonic()
        getattr(emulator, fault)()
        next_command = injected
        while not safety.faulted and time.monotonic() < injected + 2.0:
            if time.monotonic() >= next_command:
                try:
                    command()
                except DriverError:
                    break
                next_command += PERIOD
            time.sleep(0.002)
        latched = time.monotonic()
        cause = safety.fault
        cause = cause if isinstance(cause, error) else cause.__cause__
        assert isinstance(cause, error), repr(safety.fault)
        if fault == "drop_link":
            assert wait_until(lambda: emulator.robot.twist[0] == 0.0, 2.0)
            stopped = time.monotonic()
            what = "base still (its cmd_vel timeout)"
        else:
            def zero_twist_at():
                for at, topic, msg in emulator.received:
                    if at >= injected and topic == ros.cmd_vel and msg["linear"]["x"] == 0.0:
                        return at
                return None
            assert wait_until(lambda: zero_twist_at() is not None, 2.0)
            stopped, what = zero_twist_at(), "zero twist received"
        print(f"\n{robot} {fault}: {type(cause).__name__} latched "
              f"{(latched - injected) * 1e3:.0f} ms after the fault; {what} "
              f"{(stopped - injected) * 1e3:.0f} ms after")
        assert latched - injected < 1.0
        assert stopped - injected < (1.5 if fault == "drop_link" else 1.0)
    finally:
        safety.close()
        driver.close()
