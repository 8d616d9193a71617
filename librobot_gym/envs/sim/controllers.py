"""Control modes in simulation: each turns a physical-unit action into actuator targets.

On hardware the robot's own controller does this; in MuJoCo we solve it here, once per control
step (not per physics substep), so the overhead over raw `mj_step` stays small.
"""

from __future__ import annotations

import mujoco
import numpy as np

from librobot_gym.errors import ConfigError
from librobot_gym.robots import RobotSpec

# Damping of the least-squares inverse kinematics step; keeps it bounded near singularities.
IK_DAMPING = 0.05
# Pull towards the home posture in the Jacobian's null space (fraction of the gap per step).
NULLSPACE_GAIN = 0.2


def contiguous(addresses: list[int], what: str) -> slice:
    """The addresses as a slice. Arm joints must be contiguous in the model, so the hot path can
    read and write them through views instead of fancy indexing (a copy each time)."""
    if not addresses or any(b - a != 1 for a, b in zip(addresses, addresses[1:], strict=False)):
        raise ConfigError(f"{what} must be contiguous in the MJCF model, got {addresses}")
    return slice(addresses[0], addresses[-1] + 1)


class ArmController:
    """Shared parts: joint addresses, limits and the gripper channel of one arm. Controllers
    write actuator targets straight into `data.ctrl`."""

    def __init__(self, model: mujoco.MjModel, data: mujoco.MjData, robot: RobotSpec):
        self.model, self.data, self.robot = model, data, robot
        self.qpos_adr = contiguous([int(model.joint(n).qposadr[0]) for n in robot.joint_names],
                                   f"{robot.name} arm joint positions")
        self.dof_adr = contiguous([int(model.joint(n).dofadr[0]) for n in robot.joint_names],
                                  f"{robot.name} arm joint velocities")
        self.arm_q = data.qpos[self.qpos_adr]  # live views into MjData
        self.arm_qd = data.qvel[self.dof_adr]
        self.ctrl = data.ctrl
        self._tool_mat = data.site_xmat[model.site(robot.tool_site).id] if robot.tool_site \
            else np.eye(3).ravel()
        self._quat = np.zeros(4)
        self._opening = np.zeros(1)
        self.lower, self.upper = robot.joint_lower, robot.joint_upper
        self.home = np.array(robot.home_qpos)
        self.n_arm = len(robot.joint_names)
        # Gripper command in [-1, 1] -> tendon target = half the opening, m.
        self.half_stroke = robot.gripper.max_opening / 2 if robot.gripper else 0.0

    def gripper_target(self, command: float) -> float:
        return (min(max(float(command), -1.0), 1.0) + 1.0) * 0.5 * self.half_stroke

    def hold(self, gripper_command: float) -> None:
        """Targets that keep the arm where it is, with the gripper as commanded."""
        self.ctrl[: self.n_arm] = self.arm_q
        if self.half_stroke:
            self.ctrl[self.n_arm] = self.gripper_target(gripper_command)

    def after_step(self, dt: float) -> None:
        """Nothing to integrate for an electric arm."""

    def proprio(self, state) -> list[np.ndarray]:
        """joint_pos, joint_vel, gripper_opening, ee_pos, ee_quat (w >= 0): `robot.proprio`."""
        mujoco.mju_mat2Quat(self._quat, self._tool_mat)
        self._opening[0] = state.gripper_opening
        return [self.arm_q, self.arm_qd, self._opening, state.ee_pos,
                self._quat if self._quat[0] >= 0 else -self._quat]


class JointPosController(ArmController):
    """Absolute joint targets (already in rad) plus the gripper command."""

    def apply(self, physical: np.ndarray) -> None:
        self.ctrl[: self.n_arm] = np.minimum(np.maximum(physical[: self.n_arm], self.lower),
                                             self.upper)
        if self.half_stroke:
            self.ctrl[self.n_arm] = self.gripper_target(physical[self.n_arm])


class EeDeltaPoseController(ArmController):
    """Tool-frame delta (m, rad about world axes) -> joint targets by one damped IK step.

    dq = J^T (J J^T + d^2 I)^-1 [dp; dr], plus a pull towards the home posture projected into the
    Jacobian's null space: dq = p + J^T (J J^T + d^2 I)^-1 ([dp; dr] - J p). The 6x6 system is
    solved with MuJoCo's Cholesky routines; this runs every control step, where numpy's
    small-matrix overhead would cost more than the algebra.
    """

    def __init__(self, model, data, robot):
        super().__init__(model, data, robot)
        if robot.tool_site is None:
            raise ConfigError(f"ee_delta_pose needs a tool frame; {robot.name!r} has none")
        self.site_id = model.site(robot.tool_site).id
        jac_full = np.zeros((6, model.nv))
        self._jacp, self._jacr = jac_full[:3], jac_full[3:]
        self._jac = jac_full[:, self.dof_adr]  # a view: filled by mj_jacSite each step
        self._system = np.zeros((6, 6))
        self._x = np.zeros(6)
        self._damping = np.eye(6) * IK_DAMPING**2

    def apply(self, physical: np.ndarray) -> None:
        mujoco.mj_jacSite(self.model, self.data, self._jacp, self._jacr, self.site_id)
        jac, system, q = self._jac, self._system, self.arm_q
        np.matmul(jac, jac.T, out=system)
        system += self._damping
        mujoco.mju_cholFactor(system, 0.0)
        pull = NULLSPACE_GAIN * (self.home - q)
        mujoco.mju_cholSolve(self._x, system, physical[:6] - jac @ pull)
        target = q + pull + jac.T @ self._x
        self.ctrl[: self.n_arm] = np.minimum(np.maximum(target, self.lower), self.upper)
        if self.half_stroke:
            self.ctrl[self.n_arm] = self.gripper_target(physical[6])


def controllers() -> dict[str, type]:
    """Control mode name -> the class that implements it in MuJoCo."""
    from librobot_gym.envs.sim.hydraulics import HydraulicController

    return {"joint_pos": JointPosController, "ee_delta_pose": EeDeltaPoseController,
            "hydraulic": HydraulicController}
