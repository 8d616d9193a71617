"""MuJoCo backend: physics, world state for tasks, proprioception and camera images."""

from __future__ import annotations

import mujoco
import numpy as np

from librobot_gym.envs.sim.controllers import CONTROLLERS
from librobot_gym.envs.sim.scene import build_model, free_joint_addresses
from librobot_gym.envs.tasks.base import SceneObject, TaskReset, WorldState
from librobot_gym.errors import ConfigError
from librobot_gym.robots import RobotSpec

# Any speed above this (m/s or rad/s) in a table-top scene means the integration blew up.
MAX_SANE_VELOCITY = 200.0
JOINT_LIMIT_MARGIN = 0.01  # rad
# Bit 0 of a contact's class: a robot part other than the gripper pads touches the arena.
ARENA_CONTACT = 1


class MujocoSim:
    """One MuJoCo model and its data, driven at the control rate with `substeps` physics steps."""

    def __init__(self, robot: RobotSpec, objects: list[SceneObject], control_mode: str,
                 substeps: int, fast_render: bool = True):
        self.robot = robot
        self.model = m = build_model(robot, objects, fast_render)
        self.data = mujoco.MjData(m)
        self.substeps = substeps
        if control_mode not in CONTROLLERS:
            raise ConfigError(f"the MuJoCo backend has no controller for {control_mode!r}; "
                              f"it has {sorted(CONTROLLERS)}")
        self.controller = CONTROLLERS[control_mode](m, self.data, robot)
        self.qpos_adr = self.controller.qpos_adr
        self.dof_adr = self.controller.dof_adr
        self.tool_site = m.site(robot.tool_site).id if robot.tool_site else None
        gripper = robot.gripper
        self.finger_qpos_adr = (
            [int(m.joint(j).qposadr[0]) for j in gripper.joints] if gripper else []
        )
        self.objects = {o.name: o for o in objects}
        self.free = {o.name: free_joint_addresses(m, o.name) for o in objects if o.free}
        self.object_geom = {o.name: m.geom(o.name).id for o in objects}
        self._pair_class, self._grasp_bits = self._classify_contacts(objects)
        self._limit_low = self.controller.lower + JOINT_LIMIT_MARGIN
        self._limit_high = self.controller.upper - JOINT_LIMIT_MARGIN
        self._quat = np.zeros(4)
        self._badqacc = 0

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
        d.qpos[self.qpos_adr] = arm_qpos
        d.qpos[self.finger_qpos_adr] = self.controller.gripper_target(gripper_command)
        for name, (pos, quat) in task_reset.poses.items():
            qadr, _ = self.free[name]
            d.qpos[qadr: qadr + 3] = pos
            d.qpos[qadr + 3: qadr + 7] = quat
        for name, rgba in task_reset.colours.items():
            m.geom_rgba[self.object_geom[name]] = rgba
            for i, part in enumerate(self.objects[name].parts):
                if part.rgba is None:
                    m.geom_rgba[m.geom(f"{name}_part{i}").id] = rgba
        d.ctrl[:] = self.controller.hold()
        if self.finger_qpos_adr:
            d.ctrl[self.controller.n_arm] = self.controller.gripper_target(gripper_command)
        mujoco.mj_forward(m, d)
        self._badqacc = int(d.warning[mujoco.mjtWarning.mjWARN_BADQACC].number)

    def step(self, physical_action: np.ndarray) -> bool:
        """Apply one control step; False when the simulation went unstable."""
        d = self.data
        d.ctrl[:] = self.controller(physical_action)
        mujoco.mj_step(self.model, d, nstep=self.substeps)
        bad = int(d.warning[mujoco.mjtWarning.mjWARN_BADQACC].number)
        unstable = bad != self._badqacc
        self._badqacc = bad
        # NaN fails both comparisons, so a non-finite velocity also counts as unstable.
        qvel = d.qvel
        return not unstable and qvel.max() < MAX_SANE_VELOCITY and qvel.min() > -MAX_SANE_VELOCITY

    # --- reading the world -----------------------------------------------------------------------
    def world_state(self) -> WorldState:
        d = self.data
        qpos = d.qpos
        q = qpos[self.qpos_adr]
        near_limit = bool((q < self._limit_low).any() or (q > self._limit_high).any())
        flags = 0
        if d.ncon:
            geoms = d.contact.geom[: d.ncon]
            flags = int(np.bitwise_or.reduce(self._pair_class[geoms[:, 0], geoms[:, 1]]))
        object_pos, object_quat, grasped = {}, {}, {}
        for name, (qadr, _) in self.free.items():
            object_pos[name] = qpos[qadr: qadr + 3].copy()
            quat = qpos[qadr + 3: qadr + 7].copy()
            object_quat[name] = quat if quat[0] >= 0 else -quat
            bits = self._grasp_bits[name]
            grasped[name] = bits != 0 and flags & bits == bits
        opening = sum(float(qpos[a]) for a in self.finger_qpos_adr)
        return WorldState(
            time=d.time, ee_pos=d.site_xpos[self.tool_site].copy(),
            ee_rot=d.site_xmat[self.tool_site].reshape(3, 3).copy(), gripper_opening=opening,
            object_pos=object_pos, object_quat=object_quat, grasped=grasped,
            robot_arena_contact=bool(flags & ARENA_CONTACT), near_joint_limit=near_limit,
        )

    def proprio(self, state: WorldState) -> list[np.ndarray | float]:
        """Robot proprioception in the order of `robot.proprio` (joint_pos, joint_vel,
        gripper_opening, ee_pos, ee_quat with w >= 0)."""
        d = self.data
        mujoco.mju_mat2Quat(self._quat, d.site_xmat[self.tool_site])
        quat = self._quat if self._quat[0] >= 0 else -self._quat
        return [d.qpos[self.qpos_adr], d.qvel[self.dof_adr], state.gripper_opening,
                state.ee_pos, quat]
