"""MuJoCo backend: physics, world state for tasks, proprioception and camera images."""

from __future__ import annotations

import mujoco
import numpy as np

from librobot_gym.envs.sim.controllers import CONTROLLERS
from librobot_gym.envs.sim.scene import build_model, free_joint_addresses, quat_from_mat
from librobot_gym.envs.tasks.base import SceneObject, TaskReset, WorldState
from librobot_gym.errors import ConfigError
from librobot_gym.robots import RobotSpec

# Any speed above this (m/s or rad/s) in a table-top scene means the integration blew up.
MAX_SANE_VELOCITY = 200.0
JOINT_LIMIT_MARGIN = 0.01  # rad


class MujocoSim:
    """One MuJoCo model and its data, driven at the control rate with `substeps` physics steps."""

    def __init__(self, robot: RobotSpec, objects: list[SceneObject], control_mode: str,
                 substeps: int, fast_render: bool = True):
        self.robot = robot
        self.model = build_model(robot, objects, fast_render)
        self.data = mujoco.MjData(self.model)
        self.substeps = substeps
        if control_mode not in CONTROLLERS:
            raise ConfigError(f"the MuJoCo backend has no controller for {control_mode!r}; "
                              f"it has {sorted(CONTROLLERS)}")
        self.controller = CONTROLLERS[control_mode](self.model, self.data, robot)
        m = self.model
        self.qpos_adr = self.controller.qpos_adr
        self.dof_adr = self.controller.dof_adr
        self.tool_site = m.site(robot.tool_site).id if robot.tool_site else None
        gripper = robot.gripper
        self.finger_qpos_adr = (
            np.array([m.joint(j).qposadr[0] for j in gripper.joints]) if gripper else None
        )
        self.pad_geoms = np.array([m.geom(g).id for g in gripper.pad_geoms]) if gripper else None
        self.objects = {o.name: o for o in objects}
        self.free = {o.name: free_joint_addresses(m, o.name) for o in objects if o.free}
        self.object_geom = {o.name: m.geom(o.name).id for o in objects}
        self.object_body = {o.name: m.body(o.name).id for o in objects}
        # Robot geoms: everything not in the world body or a scene object's body tree.
        not_robot_roots = [0] + list(self.object_body.values())
        self.is_robot_geom = ~np.isin(m.body_rootid[m.geom_bodyid], not_robot_roots)
        self.is_robot_geom[self.pad_geoms if gripper else []] = False
        fixed = [self.object_geom[o.name] for o in objects if not o.free] + [m.geom("floor").id]
        self.is_fixed_geom = np.zeros(m.ngeom, dtype=bool)
        self.is_fixed_geom[fixed] = True
        self._badqacc = 0
        self.last_ctrl = np.zeros(m.nu)

    # --- episode -------------------------------------------------------------------------------
    def reset(self, arm_qpos: np.ndarray, gripper_command: float, task_reset: TaskReset) -> None:
        m, d = self.model, self.data
        mujoco.mj_resetData(m, d)
        d.qpos[self.qpos_adr] = arm_qpos
        if self.finger_qpos_adr is not None:
            d.qpos[self.finger_qpos_adr] = self.controller.gripper_target(gripper_command)
        for name, (pos, quat) in task_reset.poses.items():
            qadr, _ = self.free[name]
            d.qpos[qadr: qadr + 3] = pos
            d.qpos[qadr + 3: qadr + 7] = quat
        for name, rgba in task_reset.colours.items():
            m.geom_rgba[self.object_geom[name]] = rgba
            for i in range(len(self.objects[name].parts)):
                part = self.objects[name].parts[i]
                if part.rgba is None:
                    m.geom_rgba[m.geom(f"{name}_part{i}").id] = rgba
        d.ctrl[:] = self.controller.hold()
        if self.finger_qpos_adr is not None:
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
        speed = np.abs(d.qvel).max(initial=0.0)
        return not (unstable or not np.isfinite(speed) or speed > MAX_SANE_VELOCITY)

    # --- reading the world -----------------------------------------------------------------------
    def world_state(self) -> WorldState:
        d = self.data
        ee_pos = d.site_xpos[self.tool_site].copy()
        ee_rot = d.site_xmat[self.tool_site].reshape(3, 3).copy()
        q = d.qpos[self.qpos_adr]
        near_limit = bool(np.any(q < self.controller.lower + JOINT_LIMIT_MARGIN)
                          or np.any(q > self.controller.upper - JOINT_LIMIT_MARGIN))
        pairs = d.contact.geom[: d.ncon] if d.ncon else np.zeros((0, 2), dtype=int)
        g1, g2 = pairs[:, 0], pairs[:, 1]
        arena_contact = bool(np.any((self.is_robot_geom[g1] & self.is_fixed_geom[g2])
                                    | (self.is_robot_geom[g2] & self.is_fixed_geom[g1])))
        object_pos, object_quat, grasped = {}, {}, {}
        for name, (qadr, _) in self.free.items():
            object_pos[name] = d.qpos[qadr: qadr + 3].copy()
            quat = d.qpos[qadr + 3: qadr + 7].copy()
            object_quat[name] = quat if quat[0] >= 0 else -quat
            grasped[name] = self._held(pairs, self.object_geom[name])
        opening = float(d.qpos[self.finger_qpos_adr].sum()) if self.finger_qpos_adr is not None \
            else 0.0
        return WorldState(
            time=float(d.time), ee_pos=ee_pos, ee_rot=ee_rot, gripper_opening=opening,
            object_pos=object_pos, object_quat=object_quat, grasped=grasped,
            robot_arena_contact=arena_contact, near_joint_limit=near_limit,
        )

    def _held(self, pairs: np.ndarray, geom: int) -> bool:
        if self.pad_geoms is None or not len(pairs):
            return False
        with_object = pairs[(pairs[:, 0] == geom) | (pairs[:, 1] == geom)]
        touching = set(with_object.ravel().tolist())
        return all(int(p) in touching for p in self.pad_geoms)

    def proprio(self, state: WorldState) -> dict[str, np.ndarray]:
        """Robot proprioception by name, in the order of `robot.proprio`."""
        d = self.data
        return {
            "joint_pos": d.qpos[self.qpos_adr],
            "joint_vel": d.qvel[self.dof_adr],
            "gripper_opening": np.array([state.gripper_opening]),
            "ee_pos": state.ee_pos,
            "ee_quat": quat_from_mat(state.ee_rot),
        }
