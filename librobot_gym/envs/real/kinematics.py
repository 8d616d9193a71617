"""The robot's own MuJoCo model used for kinematics only (never stepped): it turns a control
mode's action into joint targets for a driver with the very control law the simulator uses
(`envs/sim/controllers.py`), and gives the tool pose (forward kinematics) for observations and
the safety layer's workspace check. Sim and real thus differ only in the world, not in how an
action is interpreted."""

from __future__ import annotations

import mujoco
import numpy as np

from librobot_gym.envs.sim.control_modes import controllers
from librobot_gym.envs.sim.scene import build_model
from librobot_gym.robots import RobotSpec


class ArmKinematics:
    def __init__(self, robot: RobotSpec, control_mode: str):
        self.robot = robot
        self.model = build_model(robot, [], fast_render=True)
        self.data = mujoco.MjData(self.model)
        self.controller = controllers()[control_mode](self.model, self.data, robot)
        self.n_arm = len(robot.joint_names)
        self._site = self.model.site(robot.tool_site).id if robot.tool_site else None
        fingers = [int(self.model.joint(j).qposadr[0]) for j in robot.gripper.joints] \
            if robot.gripper else []
        self._fingers = np.array(fingers, dtype=int)

    def set_posture(self, joint_pos: np.ndarray, gripper_opening: float = 0.0) -> None:
        """Pose the model as the robot measured it (Jacobians and tool pose follow)."""
        self.controller.arm_q[:] = joint_pos
        if len(self._fingers):
            self.data.qpos[self._fingers] = self.robot.gripper.joints_from_opening(
                gripper_opening)
        mujoco.mj_kinematics(self.model, self.data)
        mujoco.mj_comPos(self.model, self.data)

    def gripper_opening(self, gripper_command: float) -> float:
        """The opening (m) a gripper command in [-1, 1] asks for."""
        return self.controller.gripper_opening(gripper_command)

    def targets(self, physical_action: np.ndarray) -> tuple[np.ndarray, float]:
        """(joint targets rad, gripper opening m) for an action in physical units, from the
        posture last set: what the simulator's controller would ask its actuators for."""
        action = np.asarray(physical_action, dtype=np.float64)
        self.controller.apply(action)
        opening = self.controller.gripper_opening(action[-1]) \
            if self.robot.gripper else 0.0
        return self.data.ctrl[: self.n_arm].copy(), opening

    def tool_pose(self) -> tuple[np.ndarray, np.ndarray]:
        """(position [3] m, rotation [3, 3]) of the tool frame at the posture last set."""
        return (self.data.site_xpos[self._site].copy(),
                self.data.site_xmat[self._site].reshape(3, 3).copy())

    def tool_position(self, joint_pos: np.ndarray) -> np.ndarray:
        """Forward kinematics of the tool centre point (for the safety layer's workspace)."""
        data = mujoco.MjData(self.model)
        data.qpos[self.controller.qpos_adr] = joint_pos
        mujoco.mj_kinematics(self.model, data)
        return data.site_xpos[self._site].copy()
