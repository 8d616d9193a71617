"""Differential-drive bases in simulation: the `base_twist` control mode and the base's senses.

The action is a twist (forward speed m/s, yaw rate rad/s), slewed towards once per control
step at the base's acceleration limits, as a diff-drive controller does on the robot. The
chassis' forward, lateral (held at 0: no side slip) and yaw-rate servos act in its own frame
(MuJoCo site transmissions), so the twist is exact at every physics substep; they are
force-limited, so an obstacle stops the base. Wheels turn at the differential-drive speeds.
Senses: the base pose (odometry), the measured twist, the wheel speeds, and a planar lidar
cast once per control step (`mj_multiRay`, far cheaper than a rangefinder sensor per beam per
substep).
"""

from __future__ import annotations

import math

import mujoco
import numpy as np

from librobot_gym.envs.sim.controllers import contiguous
from librobot_gym.errors import ConfigError
from librobot_gym.robots import RobotSpec


class BaseTwistController:
    """`base_twist`: [forward speed m/s, yaw rate rad/s] for a robot with a `DiffDriveSpec`."""

    def __init__(self, model: mujoco.MjModel, data: mujoco.MjData, robot: RobotSpec):
        spec = robot.diff_drive
        if spec is None:
            raise ConfigError(f"base_twist needs a differential-drive base (a DiffDriveSpec); "
                              f"{robot.name!r} has none: use one of its control modes "
                              f"{sorted(robot.control_modes)}")
        self.model, self.data, self.robot, self.spec = model, data, robot, spec
        base = [model.joint(j) for j in spec.base_joints]
        self._base_q = data.qpos[contiguous([int(j.qposadr[0]) for j in base],
                                            f"{robot.name} base joints")]
        self._base_qd = data.qvel[contiguous([int(j.dofadr[0]) for j in base],
                                             f"{robot.name} base joints")]
        self.qpos_adr = contiguous([int(model.joint(n).qposadr[0]) for n in robot.joint_names],
                                   f"{robot.name} wheel joints")
        self.dof_adr = contiguous([int(model.joint(n).dofadr[0]) for n in robot.joint_names],
                                  f"{robot.name} wheel joints")
        self.arm_q = data.qpos[self.qpos_adr]  # the wheels' angles (what `joint_pos` reports)
        self.arm_qd = data.qvel[self.dof_adr]
        self.lower, self.upper = robot.joint_lower, robot.joint_upper
        self.n_arm = len(robot.joint_names)
        self._servos = [model.actuator(a).id for a in spec.actuators]
        self._wheels = np.array([model.actuator(a).id for a in spec.wheel_actuators])
        self._own = np.array(self._servos + self._wheels.tolist())
        self._wheel_qd = data.qvel[contiguous([int(model.joint(j).dofadr[0])
                                               for j in spec.wheel_joints],
                                              f"{robot.name} wheel joints")]
        n_left = spec.n_left
        self._side = np.array([-1.0] * n_left + [1.0] * (len(spec.wheel_joints) - n_left))
        self._dt = 1.0 / robot.control_hz
        self._v = self._w = 0.0  # the twist asked of the servos, after slewing
        self._ctrl = data.ctrl
        if spec.lidar_site is not None and spec.lidar_beams > 0:
            self._lidar_site = model.site(spec.lidar_site).id
            self._body = int(model.site_bodyid[self._lidar_site])
            n = spec.lidar_beams
            self._angles = np.linspace(-spec.lidar_fov / 2, spec.lidar_fov / 2, n)
            self._rays = np.zeros((n, 3))
            self._hit_geom = np.zeros(n, dtype=np.int32)
            self._hit_dist = np.zeros(n)
        else:
            self._lidar_site = None

    # --- commands ------------------------------------------------------------------------------
    def apply(self, physical: np.ndarray) -> None:
        spec = self.spec
        v_ask = min(max(float(physical[0]), -spec.max_speed), spec.max_speed)
        w_ask = min(max(float(physical[1]), -spec.max_yaw_rate), spec.max_yaw_rate)
        dv, dw = spec.max_accel * self._dt, spec.max_yaw_accel * self._dt
        self._v += min(max(v_ask - self._v, -dv), dv)
        self._w += min(max(w_ask - self._w, -dw), dw)
        ctrl = self._ctrl
        forward, lateral, yaw = self._servos
        ctrl[forward], ctrl[lateral], ctrl[yaw] = self._v, 0.0, self._w
        half_track = spec.track / 2
        ctrl[self._wheels] = (self._v + self._side * self._w * half_track) / spec.wheel_radius

    def hold(self, _gripper_command: float = 0.0) -> None:
        """Stand still: the base's servos and wheels ask for zero."""
        self._ctrl[self._own] = 0.0
        self._v = self._w = 0.0

    def after_step(self, dt: float) -> None:
        """Nothing to integrate."""

    def place_base(self, pose) -> None:
        """Put the base at (x, y, yaw) (m, m, rad), at rest (a reset)."""
        self._base_q[:] = pose
        self._base_qd[:] = 0.0

    # --- sensing -------------------------------------------------------------------------------
    def base_pose(self) -> np.ndarray:
        """x, y (m) and yaw (rad, in [-pi, pi)) of the base."""
        x, y, yaw = self._base_q.tolist()
        return np.array([x, y, (yaw + math.pi) % (2 * math.pi) - math.pi])

    def twist(self) -> np.ndarray:
        """Measured forward speed (m/s, along the heading) and yaw rate (rad/s)."""
        vx, vy, w = self._base_qd.tolist()
        yaw = float(self._base_q[2])
        return np.array([vx * math.cos(yaw) + vy * math.sin(yaw), w])

    def lidar(self) -> np.ndarray:
        """Ranges (m) of the planar scanner's beams, right to left; no hit reads the max."""
        spec = self.spec
        if self._lidar_site is None:
            return np.zeros(0)
        yaw = float(self._base_q[2])
        rays = self._rays
        rays[:, 0] = np.cos(self._angles + yaw)
        rays[:, 1] = np.sin(self._angles + yaw)
        mujoco.mj_multiRay(self.model, self.data, self.data.site_xpos[self._lidar_site],
                           rays.reshape(-1), None, 1, self._body, self._hit_geom,
                           self._hit_dist, None, len(rays), spec.lidar_range)
        dist = self._hit_dist
        return np.where((dist < 0) | (dist > spec.lidar_range), spec.lidar_range, dist)

    def machine_extras(self) -> dict[str, float]:
        """The base's pose and twist for the task and its expert (privileged state)."""
        x, y, yaw = self.base_pose().tolist()
        v, w = self.twist().tolist()
        return {"base_x": x, "base_y": y, "base_yaw": yaw, "base_speed": v, "base_yaw_rate": w}

    def proprio(self, state) -> list[np.ndarray]:
        """base_pose, base_twist, wheel_vel, lidar: `robot.proprio`."""
        return [self.base_pose(), self.twist(), self._wheel_qd.copy(), self.lidar()]
