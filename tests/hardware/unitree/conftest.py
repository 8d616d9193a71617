"""Shared fixture of the H1 driver tests: one lockstep emulated H1 per test module."""

from __future__ import annotations

import pytest

from librobot_gym.hardware.unitree.driver import UnitreeDriver
from librobot_gym.robots import get_robot


@pytest.fixture(scope="module")
def driver():
    """The H1 driver connected to its emulator in lockstep (closed after the module)."""
    drv = UnitreeDriver.emulated(get_robot("h1"), lockstep=True)
    drv.connect()
    yield drv
    drv.close()
