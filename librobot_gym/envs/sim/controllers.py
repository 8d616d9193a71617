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


class ArmController:
    """Shared parts: joint addresses, limits and the gripper channel of one arm."""

    def __init__(self, model: mujoco.MjModel, data: mujoco.MjData, robot: RobotSpec):
        self.model, self.data, self.robot = model, data, robot
        self.qpos_adr = np.array([model.joint(n).qposadr[0] for n in robot.joint_names])
        self.dof_adr = np.array([model.joint(n).dofadr[0] for n in robot.joint_names])
        self.lower, self.upper = robot.joint_lower, robot.joint_upper
        self.home = np.array(robot.home_qpos)
        self.ctrl = np.zeros(model.nu)
        self.n_arm = len(robot.joint_names)
        # Gripper command in [-1, 1] -> tendon target = half the opening, m.
        self.half_stroke = robot.gripper.max_opening / 2 if robot.gripper else 0.0

    def gripper_target(self, command: float) -> float:
        return (float(np.clip(command, -1.0, 1.0)) + 1.0) * 0.5 * self.half_stroke

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
    """Tool-frame delta (m, rad about world axes) -> joint targets by one damped IK step."""

    def __init__(self, model, data, robot):
        super().__init__(model, data, robot)
        self.site_id = model.site(robot.tool_site).id
        self._jacp = np.zeros((3, model.nv))
        self._jacr = np.zeros((3, model.nv))
        self._eye6 = np.eye(6) * IK_DAMPING**2
        self._eye_arm = np.eye(self.n_arm)

    def __call__(self, physical: np.ndarray) -> np.ndarray:
        mujoco.mj_jacSite(self.model, self.data, self._jacp, self._jacr, self.site_id)
        jac = np.vstack((self._jacp[:, self.dof_adr], self._jacr[:, self.dof_adr]))
        pinv = jac.T @ np.linalg.inv(jac @ jac.T + self._eye6)
        q = self.data.qpos[self.qpos_adr]
        dq = pinv @ physical[:6]
        dq += (self._eye_arm - pinv @ jac) @ (NULLSPACE_GAIN * (self.home - q))
        self.ctrl[: self.n_arm] = np.clip(q + dq, self.lower, self.upper)
        if self.half_stroke:
            self.ctrl[self.n_arm] = self.gripper_target(physical[6])
        return self.ctrl


CONTROLLERS = {"joint_pos": JointPosController, "ee_delta_pose": EeDeltaPoseController}
