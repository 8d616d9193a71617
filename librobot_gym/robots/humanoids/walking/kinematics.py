"""A leg's kinematics as data, and its inverse by damped least squares. Pure numpy: the
simulator reads the chain off the MuJoCo model (`LegChain.from_arrays`), a real backend
from the same MJCF, so the walking law never imports a backend.

A chain runs from the pelvis to the sole: for each joint, the offset of its body from the
parent body (m, parent frame; the joint sits at the body's origin, bodies unrotated at zero
angle, as in every humanoid MJCF here) and its hinge axis (body frame); then the sole's
offset from the last body. `solve` finds joint angles that put the sole at a position with
an orientation (both in the pelvis frame), warm-started from the previous answer: a few
damped Gauss-Newton steps per control step (at most ITERATIONS, fewer once a step moves no
joint by CONVERGED rad). On a 5-joint leg (the H1's: no ankle roll) the sole's
roll is not free; a small weight on it lets the solver trade it off instead of failing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

ITERATIONS = 6
DAMPING = 1e-4  # m^2: keeps the step finite at a straight knee
_DAMPING_6 = DAMPING * np.eye(6)
CONVERGED = 1e-3  # rad: a smaller step ends the iterations
# Task weights: position (m) 1; orientation (rad) pitch and yaw 0.5, roll 0.1 (5-joint legs).
WEIGHTS = np.array([1.0, 1.0, 1.0, 0.1, 0.5, 0.5])


def axis_rotation(axis: np.ndarray, angle: float) -> np.ndarray:
    """The rotation matrix of `angle` rad about the unit `axis` (Rodrigues)."""
    x, y, z = float(axis[0]), float(axis[1]), float(axis[2])
    c, s = math.cos(angle), math.sin(angle)
    C = 1.0 - c
    return np.array([[c + x * x * C, x * y * C - z * s, x * z * C + y * s],
                     [y * x * C + z * s, c + y * y * C, y * z * C - x * s],
                     [z * x * C - y * s, z * y * C + x * s, c + z * z * C]])


def cross(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The cross product over the last axis (numpy's `np.cross` costs ten times more on the
    small arrays the law uses at every control step)."""
    a0, a1, a2 = a[..., 0], a[..., 1], a[..., 2]
    b0, b1, b2 = b[..., 0], b[..., 1], b[..., 2]
    return np.stack((a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0), axis=-1)


def yaw_rotation(yaw: float) -> np.ndarray:
    c, s = math.cos(yaw), math.sin(yaw)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


@dataclass
class LegChain:
    """One leg: `offsets` (n, 3) m, `axes` (n, 3) unit, `sole` (3,) m, joint limits (rad),
    the servos' stiffness `kp` (N m/rad: a feedforward torque becomes a target offset)."""

    offsets: np.ndarray
    axes: np.ndarray
    sole: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    kp: np.ndarray

    @classmethod
    def from_arrays(cls, offsets, axes, sole, lower, upper, kp) -> LegChain:
        return cls(*(np.asarray(a, float) for a in (offsets, axes, sole, lower, upper, kp)))

    def support_torques(self, q: np.ndarray, force: np.ndarray, at_joint: int) -> np.ndarray:
        """The joint torques (N m) that hold `force` (N, pelvis frame) pushed by the leg
        through the point of joint `at_joint` (the ankle: the joints from it on carry none)."""
        _, _, points, axes = self.forward(q)
        arm = points[at_joint] - points
        tau = np.einsum("ij,ij->i", axes, cross(arm, force))
        tau[at_joint:] = 0.0
        return tau

    def forward(self, q: np.ndarray):
        """(sole position, sole rotation, joint positions, joint axes), pelvis frame."""
        n = len(q)
        R, p = np.eye(3), np.zeros(3)
        points, axes = np.empty((n, 3)), np.empty((n, 3))
        for i in range(n):
            p = p + R @ self.offsets[i]
            points[i] = p
            axes[i] = R @ self.axes[i]
            R = R @ axis_rotation(self.axes[i], q[i])
        return p + R @ self.sole, R, points, axes

    def solve(self, q0: np.ndarray, position: np.ndarray, rotation: np.ndarray) -> np.ndarray:
        """Joint angles (rad, within limits) placing the sole at `position` with `rotation`
        (pelvis frame), from `q0`."""
        q = np.clip(np.asarray(q0, float).copy(), self.lower, self.upper)
        for _ in range(ITERATIONS):
            p, R, points, axes = self.forward(q)
            err = np.empty(6)
            err[:3] = position - p
            # Orientation error (rad, pelvis frame), then expressed in the sole's frame so
            # its roll, pitch, yaw components can be weighted.
            w = 0.5 * cross(R.T, rotation.T).sum(axis=0)
            err[3:] = R.T @ w
            J = np.empty((6, len(q)))
            J[:3] = cross(axes, p - points).T
            J[3:] = R.T @ axes.T
            Jw = J * WEIGHTS[:, None]
            ew = err * WEIGHTS
            dq = Jw.T @ np.linalg.solve(Jw @ Jw.T + _DAMPING_6, ew)
            q = np.minimum(np.maximum(q + dq, self.lower), self.upper)
            if float(err[:3] @ err[:3]) < 1e-8 or float(np.abs(dq).max()) < CONVERGED:
                break
        return q
