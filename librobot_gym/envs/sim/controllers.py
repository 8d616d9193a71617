"""Control modes in simulation: each turns a physical-unit action into actuator targets.

On hardware the robot's own controller does this; in MuJoCo we solve it here, once per control
step (not per physics substep), so the overhead over raw `mj_step` stays small.
"""

from __future__ import annotations

import mujoco
import numpy as np

from librobot_gym.robots import RobotSpec

# Damping of the least-squares inverse kinematics step; keeps it bounded near singularities.
IK_DAMPING = 0.05
# Pull towards the home posture in the Jacobian's null space (fraction of the gap per step).
NULLSPACE_GAIN = 0.2


def as_index(addresses: np.ndarray) -> slice | np.ndarray:
    """A slice when the addresses are contiguous (a view, several times cheaper than fancy
    indexing in the per-step hot path), else the address array itself."""
    addresses = np.asarray(addresses)
    if len(addresses) and np.all(np.diff(addresses) == 1):
        return slice(int(addresses[0]), int(addresses[-1]) + 1)
    return addresses


class ArmController:
    """Shared parts: joint addresses, limits and the gripper channel of one arm."""

    def __init__(self, model: mujoco.MjModel, data: mujoco.MjData, robot: RobotSpec):
        self.model, self.data, self.robot = model, data, robot
        self.qpos_adr = as_index([model.joint(n).qposadr[0] for n in robot.joint_names])
        self.dof_adr = as_index([model.joint(n).dofadr[0] for n in robot.joint_names])
        self.lower, self.upper = robot.joint_lower, robot.joint_upper
        self.home = np.array(robot.home_qpos)
        self.ctrl = np.zeros(model.nu)
        self.n_arm = len(robot.joint_names)
        # Gripper command in [-1, 1] -> tendon target = half the opening, m.
        self.half_stroke = robot.gripper.max_opening / 2 if robot.gripper else 0.0

    def gripper_target(self, command: float) -> float:
        return (min(max(float(command), -1.0), 1.0) + 1.0) * 0.5 * self.half_stroke

    def hold(self) -> np.ndarray:
        """Targets that keep the arm where it is and the gripper as commanded last."""
        self.ctrl[: self.n_arm] = self.data.qpos[self.qpos_adr]
        return self.ctrl


class JointPosController(ArmController):
    """Absolute joint targets (already in rad) plus the gripper command."""

    def __call__(self, physical: np.ndarray) -> np.ndarray:
        self.ctrl[: self.n_arm] = np.clip(physical[: self.n_arm], self.lower, self.upper)
        if self.half_stroke:
            self.ctrl[self.n_arm] = self.gripper_target(physical[self.n_arm])
        return self.ctrl


class EeDeltaPoseController(ArmController):
    """Tool-frame delta (m, rad about world axes) -> joint targets by one damped IK step.

    dq = J^T (J J^T + d^2 I)^-1 [dp; dr], plus a pull towards the home posture projected into the
    Jacobian's null space. The 6x6 system is solved with MuJoCo's Cholesky routines: this runs
    every control step and numpy's small-matrix overhead would cost more than the algebra.
    """

    def __init__(self, model, data, robot):
        super().__init__(model, data, robot)
        self.site_id = model.site(robot.tool_site).id
        self._jac_full = np.zeros((6, model.nv))
        self._jac = np.zeros((6, self.n_arm))
        self._system = np.zeros((6, 6))
        self._x = np.zeros(6)
        self._x2 = np.zeros(6)
        self._damping = np.eye(6) * IK_DAMPING**2

    def __call__(self, physical: np.ndarray) -> np.ndarray:
        jac_full = self._jac_full
        mujoco.mj_jacSite(self.model, self.data, jac_full[:3], jac_full[3:], self.site_id)
        jac = self._jac
        jac[:] = jac_full[:, self.dof_adr]
        system = self._system
        np.matmul(jac, jac.T, out=system)
        system += self._damping
        mujoco.mju_cholFactor(system, 0.0)
        q = self.data.qpos[self.qpos_adr]
        mujoco.mju_cholSolve(self._x, system, physical[:6])
        pull = NULLSPACE_GAIN * (self.home - q)
        mujoco.mju_cholSolve(self._x2, system, jac @ pull)
        target = q + jac.T @ (self._x - self._x2) + pull
        np.minimum(np.maximum(target, self.lower, out=target), self.upper, out=target)
        self.ctrl[: self.n_arm] = target
        if self.half_stroke:
            self.ctrl[self.n_arm] = self.gripper_target(physical[6])
        return self.ctrl


CONTROLLERS = {"joint_pos": JointPosController, "ee_delta_pose": EeDeltaPoseController}
