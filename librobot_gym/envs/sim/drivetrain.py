"""Wheeled hydraulic machines in simulation: the `drive`, `drive+hydraulic` (the wheel loader's
lift and tilt valves) and `drive+dump` (the hauler's hoist valve) control modes.

The drivetrain model turns a throttle pedal, a service brake pedal and a shuttle lever into
wheel torques once per control step: the engine's power after the drivetrain's losses, capped
by the converter's stall rimpull and faded to nothing at the gear's top speed (a governor),
shared equally by the driven wheels (open differentials). The brakes are MuJoCo damper
actuators (integrated implicitly, so a held machine stays put without chatter), steering is a
flow-limited servo to the asked articulation angle, and the loader's lift and tilt valves are
the excavator's valve model (deadband, first-order lag, flow and relief limits). Tyre-ground
friction is MuJoCo's contact friction at the wheels. Sensing: cylinder forces and pressures,
ground speed, gear, rimpull, energy, and the tip-over margin of the centre of mass (load
included) inside the wheels' support polygon.
"""

from __future__ import annotations

import math

import mujoco
import numpy as np

from librobot_gym.envs.sim.controllers import contiguous
from librobot_gym.envs.sim.hydraulics import HydraulicController
from librobot_gym.errors import ConfigError
from librobot_gym.robots import DrivetrainSpec, RobotSpec
from librobot_gym.scene import canonical_quat

STEER_GAIN = 3.0  # 1/s: asked articulation rate per rad of articulation error


def tractive_force(spec: DrivetrainSpec, throttle: float, gear: int, speed: float) -> float:
    """`DrivetrainSpec.tractive_force` (kept here for its callers)."""
    return spec.tractive_force(throttle, gear, speed)


class WheeledMachineController:
    """`drive+hydraulic`: [throttle, brake, articulation, direction, lift, tilt] (physical
    units, see the robot's control modes). `drive` subclasses it with the valves closed."""

    hydraulic = True

    def __init__(self, model: mujoco.MjModel, data: mujoco.MjData, robot: RobotSpec):
        spec = robot.drivetrain
        if spec is None or robot.bucket is None or not robot.base_joints:
            raise ConfigError(f"drive control needs a wheeled machine (a drivetrain, a bucket "
                              f"and a floating base); {robot.name!r} lacks one")
        self.model, self.data, self.robot, self.spec = model, data, robot, spec
        self.qpos_adr = contiguous([int(model.joint(n).qposadr[0]) for n in robot.joint_names],
                                   f"{robot.name} joint positions")
        self.dof_adr = contiguous([int(model.joint(n).dofadr[0]) for n in robot.joint_names],
                                  f"{robot.name} joint velocities")
        self.arm_q = data.qpos[self.qpos_adr]
        self.arm_qd = data.qvel[self.dof_adr]
        self.lower, self.upper = robot.joint_lower, robot.joint_upper
        self.n_arm = len(robot.joint_names)
        self._art = robot.joint_names.index(spec.articulation_joint)
        self._steer = model.actuator(spec.articulation_actuator).id
        self._motors = np.array([model.actuator(a).id for a in spec.wheel_actuators])
        self._brakes = np.array([model.actuator(a).id for a in spec.brake_actuators])
        self._wheel_dofs = np.array([int(model.joint(j).dofadr[0]) for j in spec.wheel_joints])
        by_joint = {h.joint: h for h in robot.hydraulics}
        valves = [h for h in robot.hydraulics if h.joint != spec.articulation_joint]
        self._valves = np.array([model.actuator(h.actuator).id for h in valves])
        self._valve_speed = np.array([h.max_speed for h in valves])
        self._valve_deadband = np.array([h.deadband for h in valves])
        self._arm = np.array([by_joint[j].moment_arm for j in robot.joint_names])
        self._area = np.array([by_joint[j].piston_area for j in robot.joint_names])
        base = model.joint(robot.base_joints[0])
        if base.type[0] != mujoco.mjtJoint.mjJNT_FREE:
            raise ConfigError(f"{robot.name!r}: base joint {base.name!r} must be a free joint")
        self._base_qpos = data.qpos[int(base.qposadr[0]): int(base.qposadr[0]) + 7]
        self._base_qvel = data.qvel[int(base.dofadr[0]): int(base.dofadr[0]) + 3]
        self._base_body = int(base.bodyid[0])
        self._wheel_bodies = self._support_order(model, spec)
        self._bucket_body = model.body(robot.bucket.body).id
        self._tip = model.site(robot.bucket.tip_site).id
        working = np.ones(model.nu, dtype=bool)
        working[self._brakes] = False  # brakes dissipate; they draw no engine power
        self._working = working
        self.energy = 0.0
        self.gear = 0
        self.rimpull = 0.0

    @staticmethod
    def _support_order(model: mujoco.MjModel, spec: DrivetrainSpec) -> np.ndarray:
        """Wheel bodies counter-clockwise seen from above (at the model's rest pose), the
        vertices of the support polygon."""
        bodies = [int(model.joint(j).bodyid[0]) for j in spec.wheel_joints]
        data = mujoco.MjData(model)
        mujoco.mj_kinematics(model, data)
        centre = data.xpos[bodies].mean(axis=0)
        angles = [math.atan2(*(data.xpos[b, 1::-1] - centre[1::-1])) for b in bodies]
        return np.array(bodies)[np.argsort(angles)]

    # --- commands ------------------------------------------------------------------------------
    def apply(self, physical: np.ndarray) -> None:
        ctrl, spec = self.data.ctrl, self.spec
        throttle, brake, articulation, direction = (float(v) for v in physical[:4])
        self.gear = spec.gear(direction)
        speed = self.ground_speed()
        self.rimpull = tractive_force(spec, throttle, self.gear, speed)
        ctrl[self._motors] = self.rimpull * spec.wheel_radius / len(self._motors)
        ctrl[self._brakes] = min(max(brake, 0.0), 1.0)
        error = articulation - float(self.arm_q[self._art])
        ctrl[self._steer] = min(max(STEER_GAIN * error, -spec.steer_rate), spec.steer_rate)
        if self.hydraulic:
            pilots = physical[4:6] / self._valve_speed
            ctrl[self._valves] = HydraulicController._deadband_scale(
                pilots, self._valve_deadband) * self._valve_speed
        else:
            ctrl[self._valves] = 0.0

    def hold(self, _gripper_command: float = 0.0) -> None:
        self.data.ctrl[:] = 0.0
        self.energy, self.gear, self.rimpull = 0.0, 0, 0.0

    def after_step(self, dt: float) -> None:
        """Integrate the power the engine delivers: |force x speed| over the wheel motors and
        the cylinders (the brakes only dissipate)."""
        d = self.data
        power = np.abs(d.actuator_force * d.actuator_velocity)
        self.energy += float(power[self._working].sum()) * dt

    # --- sensing -------------------------------------------------------------------------------
    def yaw(self) -> float:
        w, x, y, z = self._base_qpos[3:7].tolist()
        return math.atan2(2.0 * (w * z + x * y), 1.0 - 2.0 * (y * y + z * z))

    def ground_speed(self) -> float:
        """m/s of the rear frame along its heading (+ forward)."""
        yaw = self.yaw()
        return float(self._base_qvel[0] * math.cos(yaw) + self._base_qvel[1] * math.sin(yaw))

    def base_pose(self) -> np.ndarray:
        return np.array([self._base_qpos[0], self._base_qpos[1], self.yaw()])

    def cylinder_forces(self) -> np.ndarray:
        """N at each cylinder (steering, lift, tilt): joint torque over the moment arm. The
        lift's includes the tilt cylinder's share through the Z-bar and the linkage weight."""
        return self.data.qfrc_actuator[self.dof_adr] / self._arm

    def tip_over_margin(self, payload_kg: float, payload_pos: np.ndarray) -> float:
        """Distance (m) from the centre of mass (load included), projected on the ground, to
        the nearest edge of the polygon of the wheel centres; negative means it is tipping.
        On a slope the projection along gravity moves downhill, so the margin shrinks, the
        more the higher the centre of mass (a loaded hauler, a raised body)."""
        d, m = self.data, self.model
        if self.robot.bucket.payload_as_mass:  # the model's masses already hold the load
            payload_kg = 0.0
        mass = float(m.body_subtreemass[self._base_body])
        com = (mass * d.subtree_com[self._base_body] + payload_kg * payload_pos) / \
            (mass + payload_kg)
        corners = d.xpos[self._wheel_bodies, :2]
        edges = np.roll(corners, -1, axis=0) - corners
        normals = np.stack([-edges[:, 1], edges[:, 0]], axis=1)  # inward for CCW corners
        normals /= np.maximum(np.linalg.norm(normals, axis=1, keepdims=True), 1e-9)
        return float(((com[:2] - corners) * normals).sum(axis=1).min())

    def machine_extras(self) -> dict[str, float]:
        """Base pose, speed and gear for the task and its expert (privileged state)."""
        x, y, yaw = self.base_pose().tolist()
        return {"base_x": x, "base_y": y, "base_yaw": yaw, "ground_speed": self.ground_speed(),
                "gear": float(self.gear)}

    def proprio(self, state) -> list[np.ndarray]:
        d = self.data
        forces = self.cylinder_forces()
        quat = np.empty(4)
        mujoco.mju_mat2Quat(quat, d.xmat[self._bucket_body])
        return [self.arm_q, self.arm_qd, forces / 1e3, forces / self._area / 1e6,
                d.site_xpos[self._tip], canonical_quat(quat), self.base_pose(),
                np.array([self.ground_speed()]), np.array([self.gear, self.rimpull / 1e3]),
                np.array([state.extras.get("payload_kg", 0.0) / 1e3])]


class DriveController(WheeledMachineController):
    """`drive`: [throttle, brake, articulation, direction]; the loader's valves stay closed."""

    hydraulic = False
