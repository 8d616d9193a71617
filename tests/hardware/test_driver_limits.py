"""Every driver refuses targets outside the robot's limits itself, with a typed
`LimitViolation`, before anything is sent: the twin, franky and Feetech drivers joint targets
outside the joint limits and gripper openings outside the gripper's range, the J1939 driver
valve commands outside [-1, 1]; the twin also refuses non-finite or unnormalised scene poses and
puts back what a reset does not name. (Feetech: tests/hardware/feetech/test_feetech_driver.py.)"""

from __future__ import annotations

import numpy as np
import pytest

from librobot_gym.envs.tasks.pick_cup import PickCup
from librobot_gym.errors import InvalidActionError
from librobot_gym.hardware.driver import LimitViolation
from librobot_gym.hardware.franky.driver import FrankyDriver
from librobot_gym.hardware.j1939.driver import J1939Driver
from librobot_gym.hardware.twin.driver import TwinDriver
from librobot_gym.robots.arms.franka_panda import FRANKA_PANDA
from librobot_gym.scene import Cell

HOME = np.array(FRANKA_PANDA.home_qpos)
CUP = (np.array([0.5, 0.05, 0.05]), np.array([1.0, 0.0, 0.0, 0.0]))
ORANGE = (0.95, 0.5, 0.08, 1.0)


@pytest.fixture(scope="module")
def twin():
    twin = TwinDriver(FRANKA_PANDA, realtime=False, scene=Cell.of(PickCup(FRANKA_PANDA)))
    yield twin
    twin.close()


def test_every_driver_refuses_targets_outside_the_limits(twin):
    huge = np.full(7, 1e30)
    for driver, who in [(twin, "the twin"),
                        (FrankyDriver(FRANKA_PANDA, "192.0.2.1", realtime=False), "Franka")]:
        with pytest.raises(LimitViolation, match=who):
            driver.command(huge, 0.04)
        with pytest.raises(LimitViolation, match="joint4"):
            driver.move_to(np.zeros(7), 0.04, 1.0)  # joint4's range is [-3.07, -0.07]
        with pytest.raises(LimitViolation, match="gripper opening"):
            driver.command(HOME, 0.5)
        with pytest.raises(LimitViolation, match="finite"):
            driver.command(np.full(7, np.nan), 0.04)
    machine = J1939Driver("test-limits", interface="virtual")  # refused before the bus is used
    with pytest.raises(LimitViolation, match=r"\[-1, 1\]") as refused:
        machine.command(np.array([1e30, 0, 0, 0, 0, 0]))
    assert isinstance(refused.value, InvalidActionError)  # what the env side expects


def test_the_twin_refuses_a_nan_cup_and_puts_back_what_a_reset_does_not_name(twin):
    with pytest.raises(LimitViolation, match="finite"):
        twin.reset_scene({"cup": (np.array([np.nan, 0, 0.05]), CUP[1])}, {})
    table = twin.objects["table"]
    home = twin.client.getBasePositionAndOrientation(table)
    assert twin.reset_scene({"table": (np.array([0.5, 0.0, 0.3]), CUP[1])}, {})
    assert twin.reset_scene({"cup": CUP}, {"cup": ORANGE})  # the table goes back
    np.testing.assert_allclose(twin.client.getBasePositionAndOrientation(table)[0], home[0],
                               atol=1e-9)
    np.testing.assert_allclose(twin.scene().object_pos["cup"], CUP[0], atol=2e-3)
