"""MuJoCo backend: physics, world state for tasks, proprioception and camera images."""

from __future__ import annotations

import mujoco
import numpy as np

from librobot_gym.envs.sim.controllers import CONTROLLERS, contiguous
from librobot_gym.envs.sim.scene import build_model, free_joint_addresses
from librobot_gym.envs.tasks.base import SceneObject, TaskReset, WorldState
from librobot_gym.errors import ConfigError
from librobot_gym.robots import RobotSpec

# Any speed above this (m/s or rad/s) in a table-top scene means the integration blew up.
MAX_SANE_VELOCITY = 200.0
JOINT_LIMIT_MARGIN = 0.01  # rad
# Bit 0 of a contact's class: a robot part other than the gripper pads touches the arena.
ARENA_CONTACT = 1
_BADQPOS = int(mujoco.mjtWarning.mjWARN_BADQPOS)
_BADQVEL = int(mujoco.mjtWarning.mjWARN_BADQVEL)
_BADQACC = int(mujoco.mjtWarning.mjWARN_BADQACC)


class MujocoSim:
    """One MuJoCo model and its data, driven at the control rate with `substeps` physics steps.

    The per-step methods (`step`, `world_state`, `proprio`) read MjData through views cached
    here: they run every control step and their cost is the env's overhead over raw MuJoCo.
    """

    def __init__(self, robot: RobotSpec, objects: list[SceneObject], control_mode: str,
                 timestep: float, substeps: int, fast_render: bool = True):
        self.robot = robot
        self.model = m = build_model(robot, objects, fast_render)
        m.opt.timestep = timestep
        self.data = d = mujoco.MjData(m)
        self.substeps = substeps
        if control_mode not in CONTROLLERS:
            raise ConfigError(f"the MuJoCo backend has no controller for {control_mode!r}; "
                              f"it has {sorted(CONTROLLERS)}")
        self.controller = CONTROLLERS[control_mode](m, d, robot)
        self.tool_site = m.site(robot.tool_site).id if robot.tool_site else None
        self.objects = {o.name: o for o in objects}
        self.free = {o.name: free_joint_addresses(m, o.name) for o in objects if o.free}
        self.object_geom = {o.name: m.geom(o.name).id for o in objects}
        self._pair_class, self._grasp_bits = self._classify_contacts(objects)
        self._limit_low = self.controller.lower + JOINT_LIMIT_MARGIN
        self._limit_high = self.controller.upper - JOINT_LIMIT_MARGIN
        gripper = robot.gripper
        self._fingers = (contiguous([int(m.joint(j).qposadr[0]) for j in gripper.joints],
                                    f"{robot.name} finger joints") if gripper else slice(0, 0))
        # Live views into MjData (its buffers never move), read every control step.
        self._qpos, self._qvel = d.qpos, d.qvel
        self._arm_q = self.controller.arm_q
        self._arm_qd = d.qvel[self.controller.dof_adr]
        self._tool_pos = d.site_xpos[self.tool_site]
        self._tool_mat = d.site_xmat[self.tool_site]
        self._finger_q = d.qpos[self._fingers]
        self._objects_qpos = {name: (d.qpos[q: q + 3], d.qpos[q + 3: q + 7])
                              for name, (q, _) in self.free.items()}
        self._quat = np.zeros(4)
        self._opening = np.zeros(1)
        self._warnings = d.warning.number  # live view of MuJoCo's warning counters
        self._blowups = 0

    def _classify_contacts(self, objects: list[SceneObject]):
        """A geom-pair table of bit flags, so one lookup per step classifies every contact:
        bit 0 = robot touches the arena; one bit per (free object, gripper pad)."""
        m = self.model
        pads = [m.geom(g).id for g in self.robot.gripper.pad_geoms] if self.robot.gripper else []
        bodies = [0] + [m.body(o.name).id for o in objects]
        is_robot = ~np.isin(m.body_rootid[m.geom_bodyid], bodies)
        is_robot[pads] = False
        fixed = [self.object_geom[o.name] for o in objects if not o.free] + [m.geom("floor").id]
        table = np.zeros((m.ngeom, m.ngeom), dtype=np.int64)
        table[np.ix_(is_robot, fixed)] = ARENA_CONTACT
        grasp_bits = {}
        bit = 1
        for name in self.free:
            mask = 0
            for pad in pads:
                bit <<= 1
                table[pad, self.object_geom[name]] = bit
                mask |= bit
            grasp_bits[name] = mask
        return table | table.T, grasp_bits

    # --- episode -------------------------------------------------------------------------------
    def reset(self, arm_qpos: np.ndarray, gripper_command: float, task_reset: TaskReset) -> None:
        m, d = self.model, self.data
        mujoco.mj_resetData(m, d)
        self._arm_q[:] = arm_qpos
        d.qpos[self._fingers] = self.controller.gripper_target(gripper_command)
        for name, (pos, quat) in task_reset.poses.items():
            obj_pos, obj_quat = self._objects_qpos[name]
            obj_pos[:], obj_quat[:] = pos, quat
        for name, rgba in task_reset.colours.items():
            m.geom_rgba[self.object_geom[name]] = rgba
            for i, part in enumerate(self.objects[name].parts):
                if part.rgba is None:
                    m.geom_rgba[m.geom(f"{name}_part{i}").id] = rgba
        self.controller.hold(gripper_command)
        mujoco.mj_forward(m, d)
        self._blowups = 0  # mj_resetData cleared the warning counters

    def step(self, physical_action: np.ndarray) -> bool:
        """Apply one control step; False when the simulation went unstable."""
        self.controller.apply(physical_action)
        mujoco.mj_step(self.model, self.data, nstep=self.substeps)
        # MuJoCo counts a warning (and resets the data) when positions, velocities or
        # accelerations diverge; a velocity beyond any plausible motion counts too.
        # NaN fails both velocity tests.
        warnings = self._warnings
        blowups = int(warnings[_BADQPOS] + warnings[_BADQVEL] + warnings[_BADQACC])
        qvel = self._qvel
        stable = blowups == self._blowups and qvel.max() < MAX_SANE_VELOCITY and \
            qvel.min() > -MAX_SANE_VELOCITY
        self._blowups = blowups
        return stable

    # --- reading the world -----------------------------------------------------------------------
    def world_state(self) -> WorldState:
        d, q = self.data, self._arm_q
        flags = 0
        if d.ncon:
            geoms = d.contact.geom
            flags = int(np.bitwise_or.reduce(self._pair_class[geoms[:, 0], geoms[:, 1]]))
        object_pos, object_quat, grasped = {}, {}, {}
        for name, (pos, quat) in self._objects_qpos.items():
            object_pos[name] = pos.copy()
            object_quat[name] = quat.copy() if quat[0] >= 0 else -quat
            bits = self._grasp_bits[name]
            grasped[name] = bits != 0 and flags & bits == bits
        return WorldState(
            time=d.time,
            ee_pos=self._tool_pos.copy(),
            ee_rot=self._tool_mat.reshape(3, 3).copy(),
            gripper_opening=float(self._finger_q.sum()),
            object_pos=object_pos,
            object_quat=object_quat,
            grasped=grasped,
            robot_arena_contact=bool(flags & ARENA_CONTACT),
            near_joint_limit=bool((q < self._limit_low).any() or (q > self._limit_high).any()),
        )

    def proprio(self, state: WorldState) -> list[np.ndarray]:
        """Robot proprioception in the order of `robot.proprio` (joint_pos, joint_vel,
        gripper_opening, ee_pos, ee_quat with w >= 0)."""
        mujoco.mju_mat2Quat(self._quat, self._tool_mat)
        self._opening[0] = state.gripper_opening
        return [self._arm_q, self._arm_qd, self._opening, state.ee_pos,
                self._quat if self._quat[0] >= 0 else -self._quat]
