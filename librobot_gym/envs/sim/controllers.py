"""Control modes in simulation: each turns a physical-unit action into actuator targets.

On hardware the robot's own controller does this; in MuJoCo we solve it here, once per control
step (not per physics substep), so the overhead over raw `mj_step` stays small.
"""

from __future__ import annotations

import mujoco
import numpy as np

from librobot_gym.errors import ConfigError
from librobot_gym.robots import RobotSpec
from librobot_gym.scene import canonical_quat

# Damping of the least-squares inverse kinematics step; keeps it bounded near singularities.
IK_DAMPING = 0.05
# Pull towards the home posture in the Jacobian's null space (fraction of the gap per step).
NULLSPACE_GAIN = 0.2


def servo_compliance(model: mujoco.MjModel, robot: RobotSpec) -> np.ndarray | None:
    """1 / kp of each arm joint's position servo, where the arm's links carry their own weight
    (no `gravcomp` in the MJCF: hobby servos such as the SO-100's STS3215 run a plain P loop);
    None where the robot compensates gravity itself (the Franka) or its servos are not plain
    position servos. A P servo holding a load sags by load / kp below its target."""
    joints = [model.joint(n).id for n in robot.joint_names]
    bodies = model.jnt_bodyid[joints]
    actuators = [model.actuator(a).id for a in robot.actuators[: len(joints)]]
    kp = model.actuator_gainprm[actuators, 0]
    position_servo = (model.actuator_biastype[actuators] == mujoco.mjtBias.mjBIAS_AFFINE) & \
        (kp > 0) & np.isclose(model.actuator_biasprm[actuators, 1], -kp)
    if model.body_gravcomp[bodies].any() or not position_servo.all():
        return None
    return 1.0 / kp


def contiguous(addresses: list[int], what: str) -> slice:
    """The addresses as a slice. Arm joints must be contiguous in the model, so the hot path can
    read and write them through views instead of fancy indexing (a copy each time)."""
    if not addresses or any(b - a != 1 for a, b in zip(addresses, addresses[1:], strict=False)):
        raise ConfigError(f"{what} must be contiguous in the MJCF model, got {addresses}")
    return slice(addresses[0], addresses[-1] + 1)


class ArmController:
    """Shared parts: joint addresses, limits and the gripper channel of one arm. Controllers
    write actuator targets straight into `data.ctrl`.

    An arm whose servos carry the links' weight on a plain P loop (`servo_compliance`) gets
    its targets raised by the sag, gravity torque / kp at the present posture (MuJoCo's RNE),
    so a target is where the joint settles and a zero delta holds the pose: without it, each
    step's target (the measured posture plus the delta) would sink with the arm. The real
    backend computes its targets with these controllers, so it sends the same offset.
    """

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
        self.gripper = robot.gripper
        self.max_opening = robot.gripper.max_opening if robot.gripper else 0.0
        # The gripper's one actuator takes the target of its first joint (the finger tendon:
        # half the opening, m; a jaw: its angle, rad): `GripperSpec.joints_from_opening`.
        self.has_gripper = self.max_opening > 0
        self._compliance = servo_compliance(model, robot)
        self._bias = np.zeros(model.nv)
        self._bias_arm = self._bias[self.dof_adr]

    def _servo_targets(self, joint_targets: np.ndarray) -> None:
        """Write the arm's servo targets: joint targets within the limits, plus the sag."""
        target = np.minimum(np.maximum(joint_targets, self.lower), self.upper)
        if self._compliance is not None:
            # Bias forces at the posture last computed (gravity; velocity terms are small).
            mujoco.mj_rne(self.model, self.data, 0, self._bias)
            target = target + self._bias_arm * self._compliance
        self.ctrl[: self.n_arm] = target

    def gripper_opening(self, command: float) -> float:
        """Gripper command in [-1, 1] -> the opening it asks for, m (-1 closed, +1 fully open)."""
        return (min(max(float(command), -1.0), 1.0) + 1.0) * 0.5 * self.max_opening

    def gripper_target(self, command: float) -> float:
        """Gripper command in [-1, 1] -> the gripper actuator's target (joint units)."""
        return float(self.gripper.joints_from_opening(self.gripper_opening(command))[0])

    def hold(self, gripper_command: float) -> None:
        """Targets that keep the arm where it is, with the gripper as commanded."""
        if self._compliance is None:
            self.ctrl[: self.n_arm] = self.arm_q
        else:
            self._servo_targets(self.arm_q)
        if self.has_gripper:
            self.ctrl[self.n_arm] = self.gripper_target(gripper_command)

    def after_step(self, dt: float) -> None:
        """Nothing to integrate for an electric arm."""

    def proprio(self, state) -> list[np.ndarray]:
        """joint_pos, joint_vel, gripper_opening, ee_pos, ee_quat (`canonical_quat`):
        `robot.proprio`."""
        mujoco.mju_mat2Quat(self._quat, self._tool_mat)
        self._opening[0] = state.gripper_opening
        return [self.arm_q, self.arm_qd, self._opening, state.ee_pos,
                canonical_quat(self._quat)]


class JointPosController(ArmController):
    """Absolute joint targets (already in rad) plus the gripper command."""

    def apply(self, physical: np.ndarray) -> None:
        if self._compliance is None:
            self.ctrl[: self.n_arm] = np.minimum(np.maximum(physical[: self.n_arm], self.lower),
                                                 self.upper)
        else:
            self._servo_targets(physical[: self.n_arm])
        if self.has_gripper:
            self.ctrl[self.n_arm] = self.gripper_target(physical[self.n_arm])


class EeDeltaPoseController(ArmController):
    """Tool-frame delta (m, rad about world axes) -> joint targets by one damped IK step.

    dq = J^T (J J^T + d^2 I)^-1 [dp; dr], plus a pull towards the home posture projected into the
    Jacobian's null space: dq = p + J^T (J J^T + d^2 I)^-1 ([dp; dr] - J p). The 6x6 system is
    solved with MuJoCo's Cholesky routines; this runs every control step, where numpy's
    small-matrix overhead would cost more than the algebra.

    An arm with fewer than 6 joints (the SO-100's 5) cannot meet every 6-D delta; the step is
    then the damped least-squares compromise, and `robot.ik_rotation_weight` w < 1 scales the
    rotation rows of J and of the delta, so 1 rad of orientation error costs what w m of
    position error does: the tool goes where it is sent, its orientation follows as it can.
    (With w = 1, the Franka's case, nothing is scaled.) Such an arm has no null space either:
    the pull towards home would only leak through the damping and bias the tool off its
    target, so it is applied to redundant arms (more than 6 joints) alone.
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
        damping = IK_DAMPING if robot.ik_damping is None else robot.ik_damping
        self._damping = np.eye(6) * damping**2
        weight = float(robot.ik_rotation_weight)
        if not weight > 0:
            raise ConfigError(f"{robot.name!r}: ik_rotation_weight must be > 0, got {weight}")
        self._row_weights = None if weight == 1.0 else np.array([1.0] * 3 + [weight] * 3)
        self._weighted_jac = np.zeros((6, self.n_arm))
        self._redundant = self.n_arm > 6

    def apply(self, physical: np.ndarray) -> None:
        mujoco.mj_jacSite(self.model, self.data, self._jacp, self._jacr, self.site_id)
        jac, system, q = self._jac, self._system, self.arm_q
        delta = physical[:6]
        weights = self._row_weights
        if weights is not None:
            jac = np.multiply(jac, weights[:, None], out=self._weighted_jac)
            delta = delta * weights
        np.matmul(jac, jac.T, out=system)
        system += self._damping
        mujoco.mju_cholFactor(system, 0.0)
        if self._redundant:
            pull = NULLSPACE_GAIN * (self.home - q)
            mujoco.mju_cholSolve(self._x, system, delta - jac @ pull)
            target = q + pull + jac.T @ self._x
        else:
            mujoco.mju_cholSolve(self._x, system, delta)
            target = q + jac.T @ self._x
        if self._compliance is None:
            self.ctrl[: self.n_arm] = np.minimum(np.maximum(target, self.lower), self.upper)
        else:
            self._servo_targets(target)
        if self.has_gripper:
            self.ctrl[self.n_arm] = self.gripper_target(physical[6])
