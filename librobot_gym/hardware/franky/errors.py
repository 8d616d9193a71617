"""How the Franka driver reads franky's failures: a dead link, a fault to recover from, its own
stop, a planner hiccup, a robot state in Reflex.

franky raises its own exception types (and libfranka a bare RuntimeError on a dead link); the
driver turns each into one of its three errors by these tests, so that the safety layer and the
env never see franky's types. Kept apart from the driver so the policy reads in one place.
"""

from __future__ import annotations

import json

from librobot_gym.hardware.driver import DriverDisconnected, DriverError, RobotState

RECOVERY_HINT = ("check the cell, then recover: the driver's connect() runs franky's automatic "
                 "error recovery (Robot.recover_from_errors()); RealBackend.reset() calls it and "
                 "re-arms the safety layer (rearm())")
# franky's exceptions that mean the robot stopped itself (a reflex, a rejected motion).
FAULT_KINDS = ("ControlException", "CommandException", "GripperException")
# Ruckig, franky's trajectory generator, can fail to plan one streamed target (e.g. error -111,
# synchronisation, for a target at the present posture while a joint velocity chatters); the
# robot then holds its last target. That many failures in a row are an error.
MAX_PLANNER_FAILURES = 3


def error_names(errors) -> list[str]:
    """franka::Errors -> the names of the flags set (franky's repr is a JSON list of them)."""
    text = repr(errors)
    try:
        return [str(name) for name in json.loads(text)]
    except ValueError:
        return [] if text in ("", "[]") else [text]


def faulted(state: RobotState | None) -> bool:
    """The robot stopped itself (Reflex) or reports errors."""
    return state is not None and (state.extras.get("robot_mode") == "Reflex"
                                  or bool(state.extras.get("errors")))


def preempted(error: BaseException) -> bool:
    """libfranka's answer to a StopMove: only this driver's stop() sends one (FCI has a single
    client). Not "preempted due to activated safety function!", which is a fault."""
    return "Move command preempted!" in str(error)


def broken_link(error: BaseException) -> bool:
    """libfranka's errors on a dead link: NetworkException, then a bare "Net Exception"."""
    return type(error).__name__ == "NetworkException" or (
        isinstance(error, RuntimeError) and "net exception" in str(error).lower())


def planner_failed(error: BaseException) -> bool:
    """The last streamed target could not be planned (the robot holds; see above)."""
    return "Motion planner failed" in str(error)


def connect_error(error: BaseException, what: str, host: str) -> DriverError:
    """What making franky's Robot or Gripper for `what` at `host` failed with, as the driver's
    error, saying what to do."""
    kind = type(error).__name__
    if kind == "RealtimeException":
        return DriverError(f"franky refused to run: {error}. Use a real-time (PREEMPT_RT) "
                           "kernel, or pass realtime=False to accept timing jitter")
    if kind == "IncompatibleVersionException":
        return DriverError(f"{what} at {host} speaks another libfranka version: "
                           f"{error}; install the franky build for the robot's firmware")
    return DriverDisconnected(f"cannot reach {what} at {host}: {kind}: {error}. Is the "
                              "robot on, its brakes open and FCI activated in Desk, and the "
                              "network up? Then connect() again")
