"""Hydraulic machines in simulation: pilot commands to valve-limited joint speeds, and the
machine's own sensing (cylinder forces and pressures, bucket pose, energy, tip-over margin).

The valve lag is MuJoCo actuator dynamics (a first-order filter integrated with the physics);
the deadband and the track mixing are applied here, once per control step.
"""

from __future__ import annotations

import mujoco
import numpy as np

from librobot_gym.envs.sim.controllers import contiguous
from librobot_gym.errors import ConfigError
from librobot_gym.robots import RobotSpec
from librobot_gym.scene import canonical_quat


class HydraulicController:
    """`hydraulic` control mode: [boom, stick, bucket, swing, left track, right track]."""

    def __init__(self, model: mujoco.MjModel, data: mujoco.MjData, robot: RobotSpec):
        if not robot.hydraulics or robot.bucket is None or robot.tracks is None:
            raise ConfigError(f"hydraulic control needs a machine with hydraulics, a bucket and "
                              f"tracks; {robot.name!r} lacks one")
        self.model, self.data, self.robot = model, data, robot
        self.qpos_adr = contiguous([int(model.joint(n).qposadr[0]) for n in robot.joint_names],
                                   f"{robot.name} joint positions")
        self.dof_adr = contiguous([int(model.joint(n).dofadr[0]) for n in robot.joint_names],
                                  f"{robot.name} joint velocities")
        self.arm_q = data.qpos[self.qpos_adr]
        self.arm_qd = data.qvel[self.dof_adr]
        self.lower, self.upper = robot.joint_lower, robot.joint_upper
        self.n_arm = len(robot.joint_names)
        by_joint = {h.joint: h for h in robot.hydraulics}
        self._specs = [by_joint[j] for j in ("boom", "stick", "bucket", "swing")]
        self._valves = np.array([model.actuator(h.actuator).id for h in self._specs])
        self._max_speed = np.array([h.max_speed for h in self._specs])
        self._deadband = np.array([h.deadband for h in self._specs])
        # Cylinder force = joint torque / moment arm; pressure = force / piston area.
        order = [robot.joint_names.index(h.joint) for h in self._specs]
        arms = np.array([h.moment_arm for h in self._specs])
        areas = np.array([h.piston_area for h in self._specs])
        self._proprio_order = np.argsort(order)  # back to robot.joints order
        self._arm_in_joint_order = arms[self._proprio_order]
        self._area_in_joint_order = areas[self._proprio_order]
        self._drive = model.actuator("drive").id
        self._turn = model.actuator("turn").id
        self._tracks = robot.tracks
        self._base_adr = contiguous([int(model.joint(n).qposadr[0]) for n in robot.base_joints],
                                    f"{robot.name} base joints")
        self.base_pose = data.qpos[self._base_adr]
        self._base_body = model.body(model.joint(robot.base_joints[0]).bodyid[0]).id
        self._bucket_body = model.body(robot.bucket.body).id
        self._tip = model.site(robot.bucket.tip_site).id
        self.energy = 0.0

    @staticmethod
    def _deadband_scale(command: np.ndarray, deadband: np.ndarray | float) -> np.ndarray:
        magnitude = np.clip((np.abs(command) - deadband) / (1.0 - deadband), 0.0, 1.0)
        return np.sign(command) * magnitude

    def apply(self, physical: np.ndarray) -> None:
        ctrl = self.data.ctrl
        pilots = physical[:4] / self._max_speed
        ctrl[self._valves] = self._deadband_scale(pilots, self._deadband) * self._max_speed
        tracks = self._deadband_scale(physical[4:6] / self._tracks.max_speed, 0.05) \
            * self._tracks.max_speed
        ctrl[self._drive] = 0.5 * (tracks[0] + tracks[1])
        ctrl[self._turn] = (tracks[1] - tracks[0]) / self._tracks.gauge

    def hold(self, _gripper_command: float = 0.0) -> None:
        self.data.ctrl[:] = 0.0
        self.energy = 0.0

    def after_step(self, dt: float) -> None:
        """Integrate the hydraulic output power (|force x speed| summed over actuators)."""
        d = self.data
        power = float(np.abs(d.actuator_force * d.actuator_velocity).sum())
        self.energy += power * dt

    # --- sensing -------------------------------------------------------------------------------
    def cylinder_forces(self) -> np.ndarray:
        """N at each cylinder (N m for the swing motor), robot.joints order. Includes the
        attachment's weight, which the actuators carry."""
        return self.data.qfrc_actuator[self.dof_adr] / self._arm_in_joint_order

    def tip_over_margin(self, payload_kg: float, payload_pos: np.ndarray) -> float:
        """Distance (m) from the machine's centre of mass, projected on the ground, to the
        nearest edge of the track footprint; negative means it is tipping."""
        d, m = self.data, self.model
        mass = float(m.body_subtreemass[self._base_body])
        com = (mass * d.subtree_com[self._base_body] + payload_kg * payload_pos) / \
            (mass + payload_kg)
        local = d.xmat[self._base_body].reshape(3, 3).T @ (com - d.xpos[self._base_body])
        return float(min(self._tracks.length / 2 - abs(local[0]),
                         self._tracks.width / 2 - abs(local[1])))

    def proprio(self, state) -> list[np.ndarray]:
        d = self.data
        forces = self.cylinder_forces()
        pressure = forces / self._area_in_joint_order
        quat = np.empty(4)
        mujoco.mju_mat2Quat(quat, d.xmat[self._bucket_body])
        return [self.arm_q, self.arm_qd, forces / 1e3, pressure / 1e6,
                d.site_xpos[self._tip], canonical_quat(quat), self.base_pose,
                np.array([state.extras.get("payload_kg", 0.0) / 1e3])]
