"""Humanoids in simulation: the `joint_pos` and `upper_body` control modes and the senses.

`joint_pos` writes the PD servo targets (rad; the H1's 19, the GR1's 32) the policy
sends, clipped to the joints' limits; the servos (MJCF position actuators, kp/kv per joint
group, force-limited at the joints' torques) run at every physics substep, as the H1's motor
drivers run Unitree's LowCmd PD loop. `upper_body` takes the upper body's targets (the arms';
the GR1's head's too) and fills in the legs' and torso's (the robot's `BalanceLayout`,
`robots/humanoids/common.py`) from the balance law (`robots/humanoids/balance.py`), once
per control step (50 Hz).

Senses: joint positions and speeds, the torso IMU (orientation, gyro, accelerometer: MJCF
sensors) as proprioception; privileged quantities for tasks and experts (`machine_extras`):
the pelvis pose, the trunk's tilt and pitch, the centre of mass and its velocity, the support
centre (the midpoint of the two soles); the hands' grip points (`left_grip_x`..., world, m)
and the grip frames' rotation matrices (`left_grip_r0`...`r8`, row-major, world) on robots
with grippers.
"""

from __future__ import annotations

import math

import mujoco
import numpy as np

from librobot_gym.envs.sim.controllers import contiguous
from librobot_gym.errors import ConfigError
from librobot_gym.robots import RobotSpec
from librobot_gym.robots.humanoids.balance import BalanceLaw
from librobot_gym.robots.humanoids.common import layout_for

SOLES = ("left_sole", "right_sole")
ROOT = "pelvis"
TRUNK = "torso_link"
SENSORS = ("imu_quat", "imu_gyro", "imu_acc")


class HumanoidJointPosController:
    """`joint_pos`: [one PD target per joint, rad] in `robot.joints` order."""

    def __init__(self, model: mujoco.MjModel, data: mujoco.MjData, robot: RobotSpec):
        if robot.family != "humanoid":
            raise ConfigError(f"this controller drives humanoids; {robot.name!r} is a "
                              f"{robot.family}: use one of its control modes "
                              f"{sorted(robot.control_modes)}")
        self.model, self.data, self.robot = model, data, robot
        names = robot.joint_names
        qpos = [int(model.joint(n).qposadr[0]) for n in names]
        dofs = [int(model.joint(n).dofadr[0]) for n in names]
        self._gathered = qpos != list(range(qpos[0], qpos[0] + len(qpos)))
        if self._gathered:
            # Hands appended after the body's joints (the H1's and GR1's grippers) sit inside
            # the arms' subtrees in the model: the joint vector is no slice of qpos, so it is
            # kept in buffers, gathered after every step and scattered before a reset's use.
            self.qpos_adr, self.dof_adr = np.array(qpos), np.array(dofs)
            self.arm_q, self.arm_qd = data.qpos[self.qpos_adr], data.qvel[self.dof_adr]
        else:
            self.qpos_adr = contiguous(qpos, f"{robot.name} joints")
            self.dof_adr = contiguous(dofs, f"{robot.name} joints")
            self.arm_q = data.qpos[self.qpos_adr]  # live views: every joint, not just the arms
            self.arm_qd = data.qvel[self.dof_adr]
        self.lower, self.upper = robot.joint_lower, robot.joint_upper
        self.n_arm = len(names)
        self._act = contiguous([model.actuator(a).id for a in robot.actuators],
                               f"{robot.name} actuators")
        self.ctrl = data.ctrl[self._act]
        root = model.body(ROOT)
        free = int(model.body_jntadr[root.id])
        if model.jnt_type[free] != mujoco.mjtJoint.mjJNT_FREE:
            raise ConfigError(f"{robot.name}: the {ROOT!r} body needs a free joint")
        adr = int(model.jnt_qposadr[free])
        self._base_pos, self._base_quat = data.qpos[adr: adr + 3], data.qpos[adr + 3: adr + 7]
        self._base_vel = data.qvel[int(model.jnt_dofadr[free]):][:6]
        self._root = root.id
        self._trunk_mat = data.xmat[model.body(TRUNK).id]
        self._soles = [data.site_xpos[model.site(s).id] for s in SOLES]
        self._com = data.subtree_com[root.id]
        self._com_vel = data.subtree_linvel[root.id]
        # The hands' grip points (`*_grip` sites between the jaws), where a robot has them.
        self._grips = [(side, data.site_xpos[model.site(f"{side}_grip").id],
                        data.site_xmat[model.site(f"{side}_grip").id])
                       for side in ("left", "right")
                       if mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_SITE, f"{side}_grip") >= 0]
        self._sensors = [data.sensordata[model.sensor_adr[model.sensor(s).id]:][
            : model.sensor_dim[model.sensor(s).id]] for s in SENSORS]

    # --- commands ------------------------------------------------------------------------------
    def apply(self, physical: np.ndarray) -> None:
        np.minimum(np.maximum(physical, self.lower), self.upper, out=self.ctrl)

    def hold(self, _gripper_command: float = 0.0) -> None:
        """Servo targets at the joints' present positions, the base at rest."""
        self._scatter()
        self.ctrl[:] = self.arm_q
        self._base_vel[:] = 0.0
        self._gather()

    def after_step(self, dt: float) -> None:
        """Nothing to integrate; a gathered joint vector is read back from MjData."""
        self._gather()

    def _scatter(self) -> None:
        """A gathered joint vector's positions (the backend's reset writes them) into MjData."""
        if self._gathered:
            self.data.qpos[self.qpos_adr] = self.arm_q

    def _gather(self) -> None:
        """MjData's joint positions and speeds into a gathered joint vector."""
        if self._gathered:
            self.arm_q[:] = self.data.qpos[self.qpos_adr]
            self.arm_qd[:] = self.data.qvel[self.dof_adr]

    def place_base(self, pose) -> None:
        """Stand the robot at (x, y, yaw) (m, m, rad): the pelvis raised so the lower sole
        rests on the ground (z = 0) at the joints' present posture, at rest."""
        x, y, yaw = (float(v) for v in pose)
        self._scatter()
        self._base_pos[:] = (x, y, 1.0)
        self._base_quat[:] = (math.cos(yaw / 2), 0.0, 0.0, math.sin(yaw / 2))
        self._base_vel[:] = 0.0
        mujoco.mj_kinematics(self.model, self.data)
        lowest = min(s[2] for s in self._soles)
        self._base_pos[2] = 1.0 - lowest + 0.001

    # --- sensing -------------------------------------------------------------------------------
    def machine_extras(self) -> dict[str, float]:
        """Privileged quantities (m, rad, m/s) for the task and its expert."""
        m, d = self.model, self.data
        mujoco.mj_subtreeVel(m, d)
        w, x, y, z = self._base_quat.tolist()
        yaw = math.atan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z))
        r = self._trunk_mat  # trunk's z axis = (r[2], r[5], r[8])
        up_z = min(max(float(r[8]), -1.0), 1.0)
        c, s = math.cos(yaw), math.sin(yaw)
        forward = c * r[2] + s * r[5]  # the trunk's z axis leaning ahead (+) in the heading frame
        left, right = self._soles
        com, vel = self._com, self._com_vel
        extras = {f"{side}_grip_{a}": float(pos[i]) for side, pos, _ in self._grips
                  for i, a in enumerate("xyz")}
        extras.update({f"{side}_grip_r{i}": float(mat[i]) for side, _, mat in self._grips
                       for i in range(9)})
        return extras | {
            "base_x": float(self._base_pos[0]), "base_y": float(self._base_pos[1]),
            "base_z": float(self._base_pos[2]), "base_yaw": yaw,
            "tilt": math.acos(up_z), "trunk_pitch": math.atan2(forward, up_z),
            "com_x": float(com[0]), "com_y": float(com[1]), "com_z": float(com[2]),
            "com_vx": float(vel[0]), "com_vy": float(vel[1]),
            "support_x": float(left[0] + right[0]) / 2, "support_y": float(left[1] + right[1]) / 2,
            "support_z": float(min(left[2], right[2])),
        }

    def proprio(self, state) -> list[np.ndarray]:
        """joint_pos, joint_vel, imu_quat, imu_gyro, imu_acc: `robot.proprio`."""
        return [self.arm_q, self.arm_qd, *self._sensors]


class HumanoidUpperBodyController(HumanoidJointPosController):
    """`upper_body`: [the PD targets of every joint after the held ones (arms; the GR1's head
    too), rad]; the legs and torso (or waist) follow the balance law, placed by the robot's
    `BalanceLayout`."""

    def __init__(self, model: mujoco.MjModel, data: mujoco.MjData, robot: RobotSpec):
        super().__init__(model, data, robot)
        home = np.array(robot.home_qpos)
        layout = layout_for(robot)
        self.n_held = layout.n_held
        self.law = BalanceLaw(home[:layout.n_held], (), layout=layout)
        self._target = home.copy()

    def apply(self, physical: np.ndarray) -> None:
        target, n = self._target, self.n_held
        target[:n] = self.law.targets(self.machine_extras())
        target[n:] = physical
        super().apply(target)
