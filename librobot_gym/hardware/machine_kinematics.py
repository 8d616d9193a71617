"""A hydraulic machine's own MJCF used for kinematics and statics only (never stepped): the
bucket pose from the measured joint angles, the cylinder loads the attachment's own weight
causes, and from those a payload estimate out of the boom cylinder pressure.

Payload weighing, as on-board weighing systems do it: at a posture q the boom cylinder holds
the attachment's weight, tau_0(q) (gravity through the model's masses: MuJoCo's bias force at
zero velocity), plus the payload's, m g dz/dq_boom (dz/dq_boom: how fast the payload's centre
rises per radian of boom, from the site Jacobian). So m = (p A r - tau_0(q)) / (g dz/dq_boom)
with p the boom's net load pressure, A its piston area and r its moment arm (the same
first-order linkage model the simulator reports pressures with). It is only defined where the
boom lifts the payload, dz/dq_boom >= MIN_LEVER; elsewhere the payload is unknown. Moving, the
flow losses in the lines bias it by a few per cent; a real machine calibrates tau_0 with an
empty bucket (`tare_mpa`).
"""

from __future__ import annotations

import mujoco
import numpy as np

from librobot_gym.robots import RobotSpec
from librobot_gym.scene import canonical_quat

GRAVITY = 9.81
MIN_LEVER = 1.0  # m of payload rise per radian of boom; below it the estimate is unknown
# The joint that lifts the payload, by machine: excavator boom, loader lift arms, hauler hoist.
LIFT_JOINTS = ("boom", "lift", "hoist")


class MachineKinematics:
    def __init__(self, robot: RobotSpec):
        if robot.bucket is None or not robot.hydraulics:
            raise ValueError(f"{robot.name!r} is not a hydraulic machine with a bucket")
        self.robot = robot
        self.model = mujoco.MjModel.from_xml_path(str(robot.asset_path))
        self.data = mujoco.MjData(self.model)
        joints = [self.model.joint(name) for name in robot.joint_names]
        self._qpos = np.array([int(j.qposadr[0]) for j in joints])
        self._dof = np.array([int(j.dofadr[0]) for j in joints])
        self._tip = self.model.site(robot.bucket.tip_site).id
        self._payload = self.model.site(robot.bucket.payload_site).id
        self._bucket = self.model.body(robot.bucket.body).id
        by_joint = {h.joint: h for h in robot.hydraulics}
        specs = [by_joint[name] for name in robot.joint_names]  # robot.joints order
        self.moment_arm = np.array([h.moment_arm for h in specs])
        self.piston_area = np.array([h.piston_area for h in specs])
        self._boom = next(robot.joint_names.index(name) for name in LIFT_JOINTS
                          if name in robot.joint_names)
        base = self.model.joint(robot.base_joints[0]) if robot.base_joints else None
        free = base is not None and base.type[0] == mujoco.mjtJoint.mjJNT_FREE
        self._base = int(base.qposadr[0]) if free else None  # wheeled machines' free base
        self._jacobian = np.zeros((3, self.model.nv))
        self._bias = np.zeros(self.model.nv)

    def set_posture(self, joint_pos: np.ndarray, base_pose=None) -> None:
        """Pose the model at the measured joint angles (robot.joints order, rad) and, for a
        machine on a floating base, at `base_pose` (x, y, yaw; None: where its model puts
        it)."""
        if base_pose is not None and self._base is not None:
            x, y, yaw = (float(v) for v in base_pose)
            self.data.qpos[self._base: self._base + 7] = [
                x, y, self.model.qpos0[self._base + 2], np.cos(yaw / 2), 0.0, 0.0, np.sin(yaw / 2)]
        self.data.qpos[self._qpos] = joint_pos
        self.data.qvel[:] = 0.0
        mujoco.mj_kinematics(self.model, self.data)
        mujoco.mj_comPos(self.model, self.data)

    def bucket_pose(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(tip position [3] m, bucket quaternion wxyz (`canonical_quat`), tip rotation [3, 3])."""
        quat = np.empty(4)
        mujoco.mju_mat2Quat(quat, self.data.xmat[self._bucket])
        return (self.data.site_xpos[self._tip].copy(), canonical_quat(quat),
                self.data.site_xmat[self._tip].reshape(3, 3).copy())

    def _lift_lever(self) -> np.ndarray:
        """dz/dq of the payload site per joint (robot.joints order) at the posture set."""
        mujoco.mj_jacSite(self.model, self.data, self._jacobian, None, self._payload)
        return self._jacobian[2, self._dof].copy()

    def static_pressures(self, joint_pos: np.ndarray, payload_kg: float = 0.0) -> np.ndarray:
        """Net load pressures (Pa, robot.joints order) that hold the attachment and a payload
        still at `joint_pos`."""
        self.set_posture(joint_pos)
        mujoco.mj_rne(self.model, self.data, 0, self._bias)  # gravity only: qvel = 0
        torque = self._bias[self._dof] + payload_kg * GRAVITY * self._lift_lever()
        return torque / (self.moment_arm * self.piston_area)

    def payload_kg(self, joint_pos: np.ndarray, pressures_pa: np.ndarray,
                   tare_pa: float = 0.0) -> float | None:
        """The payload estimated from the boom's pressure (module doc); None where unknown."""
        empty = self.static_pressures(joint_pos)[self._boom] + tare_pa
        lever = self._lift_lever()[self._boom]
        if not np.isfinite(pressures_pa[self._boom]) or lever < MIN_LEVER:
            return None
        load = (pressures_pa[self._boom] - empty) * self.moment_arm[self._boom] \
            * self.piston_area[self._boom]
        return max(0.0, float(load / (GRAVITY * lever)))
