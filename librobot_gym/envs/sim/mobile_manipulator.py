"""Mobile manipulators in simulation: the `base_twist+ee_delta_pose` and `joint_pos` modes.

One action drives everything: the base's twist (`base_twist.py`), a gripper delta in the
base's frame (rotated by the base's heading into the world frame the arm's damped IK step
works in, `controllers.EeDeltaPoseController`: the IK moves the arm's joints only, so a zero
delta holds the arm's posture on the moving base), the torso's speed (integrated into its
position servo's target, within its travel) and the gripper's opening. The head's pan and
tilt servos hold the robot's `head_home`. `joint_pos` (`MobileJointPosController`) sets the
arm's and the torso's targets outright and keeps the base still: reaching from where it stands.
"""

from __future__ import annotations

import math

import mujoco
import numpy as np

from librobot_gym.envs.sim.base_twist import BaseTwistController
from librobot_gym.envs.sim.controllers import (
    EeDeltaPoseController,
    JointPosController,
    contiguous,
)
from librobot_gym.errors import ConfigError
from librobot_gym.robots import RobotSpec


class BaseTwistEeDeltaPoseController(EeDeltaPoseController):
    """[forward speed, yaw rate, dx, dy, dz, droll, dpitch, dyaw (base frame), torso speed,
    gripper] in physical units (the robot's `base_twist+ee_delta_pose` mode)."""

    def __init__(self, model: mujoco.MjModel, data: mujoco.MjData, robot: RobotSpec):
        body = robot.upper_body
        if body is None or robot.diff_drive is None:
            raise ConfigError(f"base_twist+ee_delta_pose needs a mobile manipulator (a "
                              f"diff-drive base and a torso); {robot.name!r} is not one: use "
                              f"one of its control modes {sorted(robot.control_modes)}")
        super().__init__(model, data, robot)
        self.base = BaseTwistController(model, data, robot)
        torso = model.joint(body.torso_joint)
        adr = int(torso.qposadr[0])
        self._torso_q = data.qpos[adr: adr + 1]
        self._torso_low, self._torso_high = (float(v) for v in model.jnt_range[torso.id])
        self._torso = model.actuator(body.torso_actuator).id
        self._head_q = data.qpos[contiguous([int(model.joint(j).qposadr[0])
                                             for j in body.head_joints],
                                            f"{robot.name} head joints")]
        self._head = np.array([model.actuator(a).id for a in body.head_actuators])
        self._head_home = np.array(body.head_home)
        self._torso_target = 0.0
        self._dt = 1.0 / robot.control_hz
        self._arm_action = np.zeros(7)

    def apply(self, physical: np.ndarray) -> None:
        self.base.apply(physical[:2])
        yaw = float(self.base._base_q[2])
        c, s = math.cos(yaw), math.sin(yaw)
        arm = self._arm_action
        dx, dy, rx, ry = (float(physical[i]) for i in (2, 3, 5, 6))
        arm[0], arm[1], arm[2] = c * dx - s * dy, s * dx + c * dy, physical[4]
        arm[3], arm[4], arm[5] = c * rx - s * ry, s * rx + c * ry, physical[7]
        arm[6] = physical[9]
        super().apply(arm)
        target = self._torso_target + float(physical[8]) * self._dt
        self._torso_target = min(max(target, self._torso_low), self._torso_high)
        self.ctrl[self._torso] = self._torso_target
        self.ctrl[self._head] = self._head_home

    def hold(self, gripper_command: float) -> None:
        """The arm and torso where they are, the base still, the head at its home."""
        super().hold(gripper_command)
        self.base.hold()
        self._torso_target = float(self._torso_q[0])
        self.ctrl[self._torso] = self._torso_target
        self._head_q[:] = self._head_home
        self.ctrl[self._head] = self._head_home

    def place_base(self, pose) -> None:
        self.base.place_base(pose)

    def machine_extras(self) -> dict[str, float]:
        return {**self.base.machine_extras(), "torso": float(self._torso_q[0])}

    def proprio(self, state) -> list[np.ndarray]:
        """The arm's (joint_pos, joint_vel, gripper_opening, ee_pos, ee_quat), torso_head,
        then the base's (base_pose, base_twist, wheel_vel, lidar)."""
        upper = np.concatenate([self._torso_q, self._head_q])
        return super().proprio(state) + [upper] + self.base.proprio(state)


class MobileJointPosController(JointPosController):
    """`joint_pos` on a mobile manipulator: [arm joint targets (rad), torso target (m),
    gripper]; the base stands still (its servos ask for zero) and the head holds its home.
    Senses what `base_twist+ee_delta_pose` senses, so both modes share one proprio layout."""

    def __init__(self, model: mujoco.MjModel, data: mujoco.MjData, robot: RobotSpec):
        if robot.upper_body is None or robot.diff_drive is None:
            raise ConfigError(f"a mobile joint_pos needs a diff-drive base and a torso; "
                              f"{robot.name!r} has neither")
        super().__init__(model, data, robot)
        self._twist = BaseTwistEeDeltaPoseController(model, data, robot)  # its senses, holds

    def apply(self, physical: np.ndarray) -> None:
        twist = self._twist
        twist.base.hold()
        super().apply(np.concatenate([physical[: self.n_arm], physical[-1:]]))
        target = min(max(float(physical[self.n_arm]), twist._torso_low), twist._torso_high)
        twist._torso_target = target
        self.ctrl[twist._torso] = target
        self.ctrl[twist._head] = twist._head_home

    def hold(self, gripper_command: float) -> None:
        super().hold(gripper_command)
        self._twist.hold(gripper_command)

    def place_base(self, pose) -> None:
        self._twist.place_base(pose)

    def machine_extras(self) -> dict[str, float]:
        return self._twist.machine_extras()

    def proprio(self, state) -> list[np.ndarray]:
        return self._twist.proprio(state)


def joint_pos_controller(model: mujoco.MjModel, data: mujoco.MjData, robot: RobotSpec):
    """`joint_pos` for any robot: the mobile manipulators' (a torso and a base to keep still)
    or the arms' `JointPosController`."""
    if robot.upper_body is not None and robot.diff_drive is not None:
        return MobileJointPosController(model, data, robot)
    return JointPosController(model, data, robot)
