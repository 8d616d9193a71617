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

Speed: the law solves both legs every control step, and on chains this small numpy's cost is
per call, not per number, so the arithmetic lives in `ChainStack`, which stacks both legs and
all their joints into as few array operations as it can (a `LegChain` is a stack of one).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from librobot_gym.errors import ConfigError

ITERATIONS = 6
DAMPING = 1e-4  # m^2: keeps the step finite at a straight knee
_DAMPING_6 = DAMPING * np.eye(6)
CONVERGED = 1e-3  # rad: a smaller step ends the iterations
# Task weights: position (m) 1; orientation (rad) pitch and yaw 0.5, roll 0.1 (5-joint legs).
WEIGHTS = np.array([1.0, 1.0, 1.0, 0.1, 0.5, 0.5])
_ROT_WEIGHTS = WEIGHTS[3:]
_ROT_WEIGHTS_COLUMN = _ROT_WEIGHTS[:, None]
_EYE = np.eye(3)
_NEXT, _LAST = np.array([1, 2, 0]), np.array([2, 0, 1])  # cyclic index shifts
_SKEW_PLUS, _SKEW_MINUS = np.array([7, 2, 3]), np.array([5, 6, 1])  # (2,1) (0,2) (1,0)


def axis_rotation(axis: np.ndarray, angle: float) -> np.ndarray:
    """The rotation matrix of `angle` rad about the unit `axis` (Rodrigues)."""
    x, y, z = float(axis[0]), float(axis[1]), float(axis[2])
    c, s = math.cos(angle), math.sin(angle)
    C = 1.0 - c
    return np.array([[c + x * x * C, x * y * C - z * s, x * z * C + y * s],
                     [y * x * C + z * s, c + y * y * C, y * z * C - x * s],
                     [z * x * C - y * s, z * y * C + x * s, c + z * z * C]])


def cross(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The cross product over the last axis (numpy's `np.cross` costs four times more on the
    small arrays the law uses at every control step)."""
    return a.take(_NEXT, -1) * b.take(_LAST, -1) - a.take(_LAST, -1) * b.take(_NEXT, -1)


def vee_skew(m: np.ndarray) -> np.ndarray:
    """The vector w of the skew part of 3x3 matrices (..., 3, 3): m - m^T = 2 [w]x."""
    flat = m.reshape(*m.shape[:-2], 9)
    return 0.5 * (flat.take(_SKEW_PLUS, -1) - flat.take(_SKEW_MINUS, -1))


def yaw_rotation(yaw: float) -> np.ndarray:
    c, s = math.cos(yaw), math.sin(yaw)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


@dataclass
class LegChain:
    """One leg: `offsets` (n, 3) m, `axes` (n, 3) unit, `sole` (3,) m, joint limits (rad),
    the servos' stiffness `kp` (N m/rad: a feedforward torque becomes a target offset).
    Read-only once made: its `ChainStack` copies the arrays."""

    offsets: np.ndarray
    axes: np.ndarray
    sole: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    kp: np.ndarray

    def __post_init__(self):
        self._stack = ChainStack((self,))

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
        p, R, points, axes = self._stack.forward(np.asarray(q, float)[None])
        return p[0], R[0], points[0], axes[0]

    def solve(self, q0: np.ndarray, position: np.ndarray, rotation: np.ndarray) -> np.ndarray:
        """Joint angles (rad, within limits) placing the sole at `position` with `rotation`
        (pelvis frame), from `q0`."""
        return self._stack.solve(np.asarray(q0, float)[None], np.asarray(position)[None],
                                 np.asarray(rotation)[None])[0]


class ChainStack:
    """Chains of as many joints (a robot's two legs) stacked, so that their kinematics and
    inverse kinematics are one set of numpy calls for all of them: on chains of five to seven
    joints each numpy call's overhead, not its arithmetic, is the cost, and a loop over joints
    and legs in numpy made the walking law cost five physics steps a control step.

    `forward` composes the joints' rotations (Rodrigues, all joints at once) by one matrix
    product per joint; `solve` runs the damped least-squares iterations on every chain
    together, each chain stopping (its angles no longer updated) on its own criterion, so each
    gets what it would have got alone."""

    def __init__(self, chains):
        if len({len(c.offsets) for c in chains}) != 1:
            raise ConfigError(f"chains stacked for one solve need as many joints each; got "
                              f"{[len(c.offsets) for c in chains]}: solve them one by one")
        self.n = len(chains[0].offsets)
        axes = np.stack([c.axes for c in chains])  # (L, n, 3)
        zero = np.zeros(axes.shape[:-1])
        x, y, z = axes[..., 0], axes[..., 1], axes[..., 2]
        # Rodrigues: R = a a^T + c (I - a a^T) + s [a]x (as `axis_rotation`, regrouped).
        self.skew = np.stack([np.stack([zero, -z, y], -1), np.stack([z, zero, -x], -1),
                              np.stack([-y, x, zero], -1)], -2)
        self.outer = axes[..., :, None] * axes[..., None, :]
        self.across = _EYE - self.outer
        # Each joint's offset and axis as two columns, then the sole's offset (and no axis)
        # from the last frame: one product maps them all to the pelvis.
        offsets = np.stack([np.concatenate([c.offsets, c.sole[None]]) for c in chains])
        no_axis = np.zeros((len(chains), 1, 3))
        self.columns = np.stack([offsets, np.concatenate([axes, no_axis], axis=1)], -1)
        self.lower = np.stack([c.lower for c in chains])
        self._frames = {count: np.broadcast_to(_EYE, (count, self.n + 1, 3, 3))
                        for count in range(1, len(chains) + 1)}
        self.upper = np.stack([c.upper for c in chains])

    def forward(self, q: np.ndarray):
        """For joint angles `q` (L, n): (sole positions (L, 3), sole rotations (L, 3, 3),
        joint positions (L, n, 3), joint axes (L, n, 3)), pelvis frame."""
        angles = q[..., None, None]
        c, s = np.cos(angles), np.sin(angles)
        frames = self._frames[len(q)].copy()  # each joint's parent frame: the first is I
        chain = frames[:, 1:]  # the joints' rotations, then their running products
        np.multiply(c, self.across, out=chain)
        chain += self.outer
        chain += s * self.skew
        # The running product R_0 R_1 ... R_i by doubling (log2 n stacked products, not n).
        k = 1
        while k < self.n:
            chain[:, k:] = chain[:, :-k] @ chain[:, k:]
            k *= 2
        mapped = frames @ self.columns  # (L, n + 1, 3, 2)
        points = mapped[..., 0].cumsum(axis=1)  # the joints', then the sole's
        return points[:, -1], frames[:, -1], points[:, :-1], mapped[:, :-1, :, 1]

    def solve(self, q0: np.ndarray, position: np.ndarray, rotation: np.ndarray) -> np.ndarray:
        """Joint angles (L, n; rad, within limits) placing each sole at `position` (L, 3) with
        `rotation` (L, 3, 3), pelvis frame, from `q0` (L, n)."""
        q = np.minimum(np.maximum(q0, self.lower), self.upper)
        active = [True] * len(q)
        err = np.empty((len(q), 6))  # weighted (WEIGHTS; the position's are 1)
        J = np.empty((len(q), 6, self.n))
        for _ in range(ITERATIONS):
            p, R, points, axes = self.forward(q)
            Rt = R.swapaxes(-1, -2)
            err[:, :3] = position - p
            # Orientation error (rad) in the sole's frame, so its roll, pitch, yaw components
            # can be weighted: the rotation vector w = 1/2 sum_k r_k x d_k over the columns of
            # R and the target D (pelvis frame) is the vee of the skew part of D R^T, and
            # R^T w that of R^T D.
            err[:, 3:] = vee_skew(Rt @ rotation) * _ROT_WEIGHTS
            J[:, :3] = cross(axes, p[:, None] - points).swapaxes(-1, -2)
            J[:, 3:] = (Rt @ axes.swapaxes(-1, -2)) * _ROT_WEIGHTS_COLUMN
            JT = J.swapaxes(-1, -2)
            dq = (JT @ np.linalg.solve(J @ JT + _DAMPING_6, err[..., None]))[..., 0]
            step = np.minimum(np.maximum(q + dq, self.lower), self.upper)
            if all(active):
                q = step
            else:  # a chain that has converged keeps its answer
                q = np.where(np.array(active)[:, None], step, q)
            moved = np.abs(dq).max(axis=1).tolist()
            missed = np.einsum("ij,ij->i", err[:, :3], err[:, :3]).tolist()
            active = [a and not (e < 1e-8 or m < CONVERGED)
                      for a, e, m in zip(active, missed, moved, strict=True)]
            if not any(active):
                break
        return q
