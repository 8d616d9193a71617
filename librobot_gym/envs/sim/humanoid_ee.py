"""Humanoids' `ee_delta_pose` mode: both hands steered in the pelvis frame by damped least
squares inverse kinematics on the arm joints, the legs and torso (or waist) held by the
balance law, as `upper_body` holds them.

Each control step the action moves each hand's goal (the grip point's position and the hand's
orientation, kept in the pelvis frame, so a sway of the standing body carries the goal with
it) by the step it asks for; two damped least-squares iterations then move the arm's servo
targets towards the goal on a scratch copy of the model (kinematics only, at the targets, not
at the sagging measured posture: a target held is a pose held). The goal is kept within
`LEASH` of where the targets put the hand, so a goal out of reach does not wind up. The
rotation rows are weighted by the robot's `ik_rotation_weight` (the H1's 4-DoF arm cannot
orient its hand: its weight is small and rotation is best effort). The gripper dimension is
the jaws' opening target (m).
"""

from __future__ import annotations

import mujoco
import numpy as np

from librobot_gym.envs.sim.humanoid import ROOT, HumanoidUpperBodyController
from librobot_gym.robots import RobotSpec
from librobot_gym.robots.humanoids.common import hands_for

IK_DAMPING = 0.05  # m: the least-squares damping
IK_ITERATIONS = 2  # per control step (one is 15% faster, but its lag let the Figure-class
# expert's hand clip 3 cups in 40 seeds)
LEASH = 0.1  # m: the goal stays this close to where the targets put the grip point
MAX_ROT_ERROR = 0.5  # rad: the orientation error one step works on at most


def _rotation(vec: np.ndarray) -> np.ndarray:
    """The rotation matrix of a rotation vector (axis times angle, rad)."""
    quat = np.empty(4)
    angle = float(np.linalg.norm(vec))
    if angle < 1e-12:
        return np.eye(3)
    mujoco.mju_axisAngle2Quat(quat, vec / angle, angle)
    mat = np.empty(9)
    mujoco.mju_quat2Mat(mat, quat)
    return mat.reshape(3, 3)


def _rotation_error(goal: np.ndarray, now: np.ndarray) -> np.ndarray:
    """The rotation vector (rad) turning `now` onto `goal` (both 3x3, one frame)."""
    quat = np.empty(4)
    mujoco.mju_mat2Quat(quat, (goal @ now.T).ravel())
    if quat[0] < 0:
        quat = -quat
    vec = np.empty(3)
    mujoco.mju_quat2Vel(vec, quat, 1.0)
    return vec


class HumanoidEeDeltaPoseController(HumanoidUpperBodyController):
    """`ee_delta_pose` for humanoids: [left dx, dy, dz (m), drx, dry, drz (rad), opening (m),
    the right hand's seven] in the pelvis frame; see the module docstring."""

    def __init__(self, model: mujoco.MjModel, data: mujoco.MjData, robot: RobotSpec):
        super().__init__(model, data, robot)
        hands = hands_for(robot)
        self.hands = hands
        self._ik = mujoco.MjData(model)
        self._pelvis = model.body(ROOT).id
        self._sites = [model.site(s).id for s in hands.grip_sites]
        names = robot.joint_names
        self._arm = [np.array(ix) for ix in hands.arms]
        self._arm_qpos = [np.array([int(model.joint(names[i]).qposadr[0]) for i in ix])
                          for ix in hands.arms]
        self._arm_dof = [np.array([int(model.joint(names[i]).dofadr[0]) for i in ix])
                         for ix in hands.arms]
        self._grip = hands.grippers
        self._home = np.array(robot.home_qpos, dtype=np.float64)
        self._q_cmd = self._home.copy()
        self._goal_pos = [np.zeros(3), np.zeros(3)]
        self._goal_rot = [np.eye(3), np.eye(3)]
        self._opening = [float(self._home[g]) for g in self._grip]
        self._w = float(robot.ik_rotation_weight)
        damping = IK_DAMPING if robot.ik_damping is None else robot.ik_damping
        self._damping = np.eye(6) * damping ** 2
        self._jacp, self._jacr = np.zeros((3, model.nv)), np.zeros((3, model.nv))
        self._jac = [np.zeros((6, len(ix))) for ix in hands.arms]
        self._x = np.zeros(6)

    # --- the scratch model ----------------------------------------------------------------------
    def _pose_at_targets(self) -> tuple[np.ndarray, np.ndarray]:
        """Load the measured body with the arms at their targets into the scratch data; the
        pelvis's position and rotation (world)."""
        ik = self._ik
        ik.qpos[:] = self.data.qpos
        for side in (0, 1):
            ik.qpos[self._arm_qpos[side]] = self._q_cmd[self._arm[side]]
        mujoco.mj_kinematics(self.model, ik)
        return ik.xpos[self._pelvis].copy(), ik.xmat[self._pelvis].reshape(3, 3).copy()

    def _hand(self, side: int, origin: np.ndarray, frame: np.ndarray):
        """The grip point (m) and hand rotation of `side` in the pelvis frame, scratch data."""
        site = self._sites[side]
        pos = frame.T @ (self._ik.site_xpos[site] - origin)
        return pos, frame.T @ self._ik.site_xmat[site].reshape(3, 3)

    # --- commands --------------------------------------------------------------------------------
    def hold(self, gripper_command: float = 0.0) -> None:
        """Targets at the present posture; each hand's goal where it is."""
        super().hold(gripper_command)
        self._q_cmd[:] = self.arm_q
        origin, frame = self._pose_at_targets()
        for side in (0, 1):
            self._goal_pos[side], self._goal_rot[side] = self._hand(side, origin, frame)
            self._opening[side] = float(self.arm_q[self._grip[side]])

    def apply(self, physical: np.ndarray) -> None:
        origin, frame = self._pose_at_targets()
        for side in (0, 1):
            step = physical[7 * side: 7 * side + 7]
            pos, _ = self._hand(side, origin, frame)
            goal = self._goal_pos[side] + step[:3]
            offset = goal - pos
            far = float(np.linalg.norm(offset))
            self._goal_pos[side] = pos + offset * (LEASH / far) if far > LEASH else goal
            self._goal_rot[side] = _rotation(step[3:6]) @ self._goal_rot[side]
            self._opening[side] = float(step[6])
        for it in range(IK_ITERATIONS):
            if it:
                origin, frame = self._pose_at_targets()
            mujoco.mj_comPos(self.model, self._ik)
            for side in (0, 1):
                self._ik_step(side, origin, frame)
        upper = self._home[self.n_held:].copy()
        n = self.n_held
        for side in (0, 1):
            upper[self._arm[side] - n] = self._q_cmd[self._arm[side]]
            upper[self._grip[side] - n] = self._opening[side]
        super().apply(upper)

    def _ik_step(self, side: int, origin: np.ndarray, frame: np.ndarray) -> None:
        """One damped least-squares step of `side`'s arm targets towards its goal."""
        pos, rot = self._hand(side, origin, frame)
        e_rot = _rotation_error(self._goal_rot[side], rot)
        angle = float(np.linalg.norm(e_rot))
        if angle > MAX_ROT_ERROR:
            e_rot *= MAX_ROT_ERROR / angle
        error = np.concatenate([frame @ (self._goal_pos[side] - pos), self._w * (frame @ e_rot)])
        mujoco.mj_jacSite(self.model, self._ik, self._jacp, self._jacr, self._sites[side])
        dofs = self._arm_dof[side]
        jac = self._jac[side]
        jac[:3] = self._jacp[:, dofs]
        jac[3:] = self._jacr[:, dofs]
        jac[3:] *= self._w
        system = jac @ jac.T
        system += self._damping
        mujoco.mju_cholFactor(system, 0.0)  # MuJoCo's Cholesky: a third of numpy's solve's cost
        mujoco.mju_cholSolve(self._x, system, error)
        dq = jac.T @ self._x
        arm = self._arm[side]
        q = np.clip(self._q_cmd[arm] + dq, self.lower[arm], self.upper[arm])
        self._q_cmd[arm] = q
        self._ik.qpos[self._arm_qpos[side]] = q
