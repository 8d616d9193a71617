"""What the bridge lets through to the driver it serves, whatever its client sends.

The wire format (`protocol.py`) refuses malformed requests: wrong types and shapes, non-finite
numbers, quaternions that are not unit, oversized camera frames. What it cannot know is the
robot. The server holds every request that moves something to the robot's limits with the
safety layer's own clipping (`SafetyLayer.check`), on the robot PC, before the driver:

- `command`: one target per joint, each inside the joint limits and the gripper opening inside
  its range (else `LimitViolation`, and nothing moves: no client that went through the env's
  safety layer sends one), then clipped from a fresh reading of the robot to at most one step
  per control period and (given forward kinematics) the tool inside the workspace box; the reply
  names what was clipped.
- `move_to`: a posture inside the joint limits whose tool point lies inside the workspace box,
  and a gripper opening inside its range; anything else is refused (`LimitViolation`) and
  nothing moves.
- `reset_scene`: every object's position inside the workspace box (the robot's reach: where a
  task may put things), else `LimitViolation`.

`bridge_safety` sizes the limits a little wider than the env's safety layer (the published joint
limits with no margin, the full joint velocity rather than half) so that a command that layer
already clipped passes unchanged, while anything a broken or hostile client sends stays within
what the robot can do. Only the clipping runs here: the bridge's heartbeat is its watchdog.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from librobot_gym.hardware.bridge.protocol import ProtocolError
from librobot_gym.hardware.driver import LIMIT_TOLERANCE, Driver, LimitViolation, RobotState
from librobot_gym.hardware.safety import SafetyLayer, SafetyLimits
from librobot_gym.robots import RobotSpec


def bridge_safety(driver: Driver, robot: RobotSpec, control_hz: float | None = None,
                  forward_kinematics: Callable[[np.ndarray], np.ndarray] | None = None,
                  ) -> SafetyLayer:
    """The safety layer a bridge serving `driver` clips with (module doc): `robot`'s published
    joint limits, full joint velocities over one period at `control_hz` (default the robot's
    policy rate), its workspace box, and the tool point from `forward_kinematics`."""
    control_dt = 1.0 / float(control_hz or robot.control_hz)
    # A humanoid's tool has no box to stay in (it walks); its joints' limits still hold.
    unbounded = ((-np.inf,) * 3, (np.inf,) * 3) if robot.family == "humanoid" else None
    limits = SafetyLimits.for_robot(robot, control_dt, workspace=unbounded, margin=0.0,
                                    velocity_fraction=1.0)
    return SafetyLayer(driver, limits, control_dt, forward_kinematics)


def _within_limits(safety: SafetyLayer, joints: np.ndarray, gripper_opening: float,
                   op: str) -> None:
    """ProtocolError unless one value per joint; `LimitViolation` unless inside the joint
    limits and the gripper's range."""
    limits = safety.limits
    count = limits.joint_lower.shape[0]
    if joints.shape != (count,):
        raise ProtocolError(f"{op} needs {count} joint values (one per joint), got "
                            f"{joints.shape}")
    outside = (joints < limits.joint_lower - LIMIT_TOLERANCE) | \
        (joints > limits.joint_upper + LIMIT_TOLERANCE)
    if outside.any():
        raise LimitViolation(f"{op} refused: joints {np.flatnonzero(outside).tolist()} of "
                             f"{np.round(joints, 4).tolist()} are outside the joint limits "
                             f"{limits.joint_lower.tolist()} .. {limits.joint_upper.tolist()}")
    if not -LIMIT_TOLERANCE <= gripper_opening <= limits.max_gripper_opening + LIMIT_TOLERANCE:
        raise LimitViolation(f"{op} refused: a gripper opening of {gripper_opening:.4g} m is "
                             f"outside [0, {limits.max_gripper_opening:.4g}]")


def clip_command(safety: SafetyLayer, state: RobotState, joint_targets: np.ndarray,
                 gripper_opening: float) -> tuple[np.ndarray, float, dict[str, float]]:
    """(targets, opening, what was clipped) for a command from the posture `state` reports."""
    _within_limits(safety, joint_targets, gripper_opening, "command")
    return safety.check(joint_targets, gripper_opening, state.joint_pos,
                        hold_opening=state.gripper_opening)


def check_posture(safety: SafetyLayer, joint_pos: np.ndarray, gripper_opening: float) -> None:
    """`LimitViolation` unless a `move_to` posture is inside the limits (module doc)."""
    _within_limits(safety, joint_pos, gripper_opening, "move_to")
    if safety.forward_kinematics is not None:
        _inside(safety.limits, safety.forward_kinematics(joint_pos), "move_to refused: that "
                "posture puts the tool at")


def check_places(safety: SafetyLayer, poses: dict[str, tuple[np.ndarray, np.ndarray]]) -> None:
    """`LimitViolation` unless every object of a `reset_scene` is inside the workspace box."""
    for name, (pos, _) in poses.items():
        _inside(safety.limits, pos, f"reset_scene refused: {name!r} at")


def _inside(limits: SafetyLimits, point: np.ndarray, what: str) -> None:
    lower, upper = limits.workspace_lower, limits.workspace_upper
    if np.any(point < lower - LIMIT_TOLERANCE) or np.any(point > upper + LIMIT_TOLERANCE):
        raise LimitViolation(f"{what} {np.round(point, 4).tolist()} m, outside the workspace "
                             f"box {lower.tolist()} .. {upper.tolist()}")
