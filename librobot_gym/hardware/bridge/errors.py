"""How a driver's errors cross the robot bridge: the wire name of each `DriverError` type, so
that the client raises the type the served driver raised (`protocol.py`, "Error TYPEs").
Shared by the server (`server.py`) and the client (`client.py`)."""

from __future__ import annotations

from librobot_gym.hardware.driver import (
    DriverDisconnected,
    DriverError,
    LimitViolation,
    RobotFault,
)

REMOTE_ERRORS: dict[str, type[DriverError]] = {"RobotFault": RobotFault,
                                               "DriverDisconnected": DriverDisconnected,
                                               "LimitViolation": LimitViolation}


def error_type(exc: BaseException) -> str:
    """The wire name of a driver's exception (anything unexpected is a DriverError)."""
    for kind, cls in REMOTE_ERRORS.items():
        if isinstance(exc, cls):
            return kind
    return "DriverError"
