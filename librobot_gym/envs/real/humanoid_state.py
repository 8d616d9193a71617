"""What a humanoid's encoders and torso IMU say about its balance, for a real cell: the same
quantities the simulator reports as privileged state (`envs/sim/humanoid.py`
`machine_extras`), estimated from measurements alone, so the balance law (`upper_body`),
the Stand task's judging and its expert run on the robot as in simulation.

Model: the robot's own MJCF posed at the measured joints, its pelvis turned so the IMU site
has the measured orientation, and the whole body shifted so the lower sole rests on the
floor (z = 0) with the middle of the soles at the episode's start (x, y). Hence: the pelvis
height, the trunk's tilt and pitch, the centre of mass and the support centre. The CoM
velocity is J_com qdot - J_support qdot: the joint speeds and the pelvis's angular velocity
(the torso gyro, less the torso joint's rate) through the model's Jacobians, relative to the
middle of the soles (the feet assumed to stand still: true while standing; a stepping robot
needs a leg odometry this does not have). Differencing CoM positions at 50 Hz instead is
noisy enough to make the balance law chatter.
The heading (yaw) is the IMU's (it drifts on a real IMU; nothing here corrects it).
"""

from __future__ import annotations

import math

import mujoco
import numpy as np

from librobot_gym.hardware.driver import RobotState
from librobot_gym.robots import RobotSpec

SOLES = ("left_sole", "right_sole")
TRUNK = "torso_link"
IMU_SITE = "imu"


class HumanoidEstimator:
    """Privileged-style quantities from a `RobotState` (module doc); `reset(x, y)` anchors the
    support centre at the episode's start."""

    def __init__(self, robot: RobotSpec):
        self.model = mujoco.MjModel.from_xml_path(robot.asset)
        self.data = mujoco.MjData(self.model)
        m = self.model
        self.qadr = np.array([m.joint(j.name).qposadr[0] for j in robot.joints])
        self._soles = [m.site(s).id for s in SOLES]
        self._imu = m.site(IMU_SITE).id
        self._trunk = m.body(TRUNK).id
        self._root = m.body("pelvis").id
        self.vadr = np.array([m.joint(j.name).dofadr[0] for j in robot.joints])
        names = {m.joint(i).name for i in range(m.njnt)}
        self._torso_joint = "torso_joint" if "torso_joint" in names else None
        self._jac = np.zeros((3, m.nv))
        self._jac_site = np.zeros((3, m.nv))
        self._anchor = np.zeros(2)
        self._rel = np.zeros(4)
        self._quat = np.zeros(4)

    def _com_velocity(self, state: RobotState) -> np.ndarray:
        """The CoM's horizontal velocity over the support (m/s, world; module doc)."""
        m, d = self.model, self.data
        d.qvel[:] = 0.0
        d.qvel[self.vadr] = state.joint_vel
        gyro = np.asarray(state.extras.get("imu_gyro", np.zeros(3)), dtype=np.float64)
        omega = d.site_xmat[self._imu].reshape(3, 3) @ gyro  # world
        if self._torso_joint is not None:  # the gyro sits on the torso, above its joint
            torso = m.joint(self._torso_joint)
            omega = omega - d.xaxis[torso.id] * d.qvel[int(torso.dofadr[0])]
        d.qvel[3:6] = d.xmat[self._root].reshape(3, 3).T @ omega  # the free joint's: local
        mujoco.mj_jacSubtreeCom(m, d, self._jac, self._root)
        v = self._jac @ d.qvel
        for site in self._soles:
            mujoco.mj_jacSite(m, d, self._jac_site, None, site)
            v -= 0.5 * (self._jac_site @ d.qvel)
        return v[:2].copy()

    def reset(self, x: float = 0.0, y: float = 0.0) -> None:
        self._anchor = np.array([x, y], dtype=np.float64)

    def extras(self, state: RobotState) -> dict[str, float]:
        m, d = self.model, self.data
        d.qpos[self.qadr] = state.joint_pos
        d.qpos[:7] = (0, 0, 0, 1, 0, 0, 0)
        mujoco.mj_kinematics(m, d)
        # The pelvis orientation that puts the IMU site at the measured orientation.
        mujoco.mju_mat2Quat(self._rel, d.site_xmat[self._imu])
        imu = np.asarray(state.extras.get("imu_quat", (1.0, 0.0, 0.0, 0.0)), dtype=np.float64)
        imu = imu / (np.linalg.norm(imu) or 1.0)
        inverse = np.zeros(4)
        mujoco.mju_negQuat(inverse, self._rel)
        mujoco.mju_mulQuat(self._quat, imu, inverse)
        d.qpos[3:7] = self._quat
        mujoco.mj_kinematics(m, d)
        left, right = (d.site_xpos[s].copy() for s in self._soles)
        support = (left + right) / 2
        shift = np.array([self._anchor[0] - support[0], self._anchor[1] - support[1],
                          -min(left[2], right[2])])
        mujoco.mj_comPos(m, d)
        com = d.subtree_com[self._root] + shift
        base = d.qpos[:3] + shift
        w, x, y, z = self._quat.tolist()
        yaw = math.atan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z))
        r = d.xmat[self._trunk]
        up_z = min(max(float(r[8]), -1.0), 1.0)
        forward = math.cos(yaw) * r[2] + math.sin(yaw) * r[5]
        velocity = self._com_velocity(state)
        return {
            "base_x": float(base[0]), "base_y": float(base[1]), "base_z": float(base[2]),
            "base_yaw": yaw, "tilt": math.acos(up_z), "trunk_pitch": math.atan2(forward, up_z),
            "com_x": float(com[0]), "com_y": float(com[1]), "com_z": float(com[2]),
            "com_vx": float(velocity[0]), "com_vy": float(velocity[1]),
            "support_x": float(self._anchor[0]), "support_y": float(self._anchor[1]),
            "support_z": 0.0,
        }
