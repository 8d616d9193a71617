"""MuJoCo backend: physics, world state for tasks, proprioception and camera images."""

from __future__ import annotations

import mujoco
import numpy as np

from librobot_gym.envs.sim.control_modes import controllers
from librobot_gym.envs.sim.controllers import contiguous
from librobot_gym.envs.sim.material import MaterialModel
from librobot_gym.envs.sim.pushes import Pushes
from librobot_gym.envs.sim.scene import (
    build_model,
    colliding_geoms,
    contact_labels,
    free_joint_addresses,
    link_name,
    painted_geoms,
)
from librobot_gym.envs.tasks.base import (
    DumpZone,
    MaterialPile,
    SceneObject,
    TaskReset,
    WorldState,
)
from librobot_gym.errors import ConfigError
from librobot_gym.robots import RobotSpec
from librobot_gym.scene import canonical_quat

# Any speed above this (m/s or rad/s) means the integration blew up.
MAX_SANE_VELOCITY = 200.0
JOINT_LIMIT_MARGIN = 0.01  # rad
_BADQPOS = int(mujoco.mjtWarning.mjWARN_BADQPOS)
_BADQVEL = int(mujoco.mjtWarning.mjWARN_BADQVEL)
_BADQACC = int(mujoco.mjtWarning.mjWARN_BADQACC)


def _no_gripper(q: np.ndarray) -> float:
    return 0.0


class MujocoSim:
    """One MuJoCo model and its data, driven at the control rate with `substeps` physics steps.

    The per-step methods (`step`, `world_state`) read MjData through views cached here: they
    run every control step and their cost is the env's overhead over raw MuJoCo.
    """

    def __init__(self, robot: RobotSpec, scene: list, control_mode: str, timestep: float,
                 substeps: int, fast_render: bool = True, floor_height: float = 0.0):
        self.robot = robot
        self.model = m = build_model(robot, scene, fast_render, floor_height)
        m.opt.timestep = timestep
        self.data = d = mujoco.MjData(m)
        self.substeps = substeps
        self.control_dt = timestep * substeps
        available = controllers(robot.family)
        if control_mode not in available:
            raise ConfigError(f"the MuJoCo backend has no controller for {control_mode!r}; "
                              f"it has {sorted(available)}")
        self.controller = available[control_mode](m, d, robot)
        objects = [o for o in scene if isinstance(o, SceneObject)]
        piles = [p for p in scene if isinstance(p, MaterialPile)]
        zones = [z for z in scene if isinstance(z, DumpZone)]
        if len(piles) > 1:
            raise ConfigError("the MuJoCo backend models one material pile per scene")
        self.material = MaterialModel(m, d, piles[0], zones, robot.bucket) if piles else None
        self.tool_site = m.site(robot.tool_site).id if robot.tool_site else None
        self.objects = {o.name: o for o in objects}
        self.free = {o.name: free_joint_addresses(m, o.name) for o in objects if o.free}
        self.object_geom = {o.name: m.geom(o.name).id for o in objects}
        self.fixed_body = {o.name: m.body(o.name).id for o in objects if not o.free}
        # Articulated objects' joints: "<object>/<link>" -> qpos address.
        self._link_qpos = {f"{o.name}/{link.name}": int(m.joint(link_name(o, link)).qposadr[0])
                           for o in objects for link in o.links}
        # The geoms that show each object's colour (a reset recolours them).
        self._painted = {o.name: [m.geom(g).id for g, _ in painted_geoms(o, o.rgba)]
                         for o in objects}
        self._pair_class, self._labels, self._grasp_bits = self._classify_contacts(objects)
        self._limit_low = self.controller.lower + JOINT_LIMIT_MARGIN
        self._limit_high = self.controller.upper - JOINT_LIMIT_MARGIN
        gripper = robot.gripper
        self._fingers = (contiguous([int(m.joint(j).qposadr[0]) for j in gripper.joints],
                                    f"{robot.name} finger joints") if gripper else slice(0, 0))
        # Live views into MjData (its buffers never move), read every control step.
        self._qvel = d.qvel
        self._arm_q = self.controller.arm_q
        self._tool_pos = d.site_xpos[self.tool_site]
        self._tool_mat = d.site_xmat[self.tool_site]
        self._finger_q = d.qpos[self._fingers]
        self._opening_of = gripper.opening_from_joints if gripper else _no_gripper
        self._objects_qpos = {name: (d.qpos[q: q + 3], d.qpos[q + 3: q + 7])
                              for name, (q, _) in self.free.items()}
        self._warnings = d.warning.number  # live view of MuJoCo's warning counters
        # A mobile base reports its pose and twist (`machine_extras`) and is placed by the task.
        self._mobile = hasattr(self.controller, "place_base")
        self._blowups = 0
        self.pushes = Pushes(m, d)  # a task's shoves (humanoids' Stand)

    def _classify_contacts(self, objects: list[SceneObject]):
        """A geom-pair table of bit flags, so one lookup per step classifies every contact:
        one bit per fixed object (or named part) a robot part may touch, one bit per
        (free object, gripper pad)."""
        m = self.model
        pads = [m.geom(g).id for g in self.robot.gripper.pad_geoms] if self.robot.gripper else []
        bodies = [0] + [m.body(o.name).id for o in objects]
        is_robot = ~np.isin(m.body_rootid[m.geom_bodyid], bodies)
        is_robot[pads] = False
        table = np.zeros((m.ngeom, m.ngeom), dtype=np.int64)
        labels: list[str] = []
        for geom, label in contact_labels(m, objects).items():
            if label not in labels:
                labels.append(label)
            table[is_robot, geom] |= 1 << labels.index(label)
        bit = 1 << len(labels)
        grasp_bits = {}
        for name in self.free:
            mask = 0
            geoms = [m.geom(g).id for g in colliding_geoms(self.objects[name])]
            for pad in pads:
                table[pad, geoms] = bit
                mask |= bit
                bit <<= 1
            grasp_bits[name] = mask
        return table | table.T, labels, grasp_bits

    # --- episode -------------------------------------------------------------------------------
    def reset(self, joint_pos: np.ndarray, gripper_command: float, task_reset: TaskReset,
              seed: int | None = None) -> None:
        """The arm at `joint_pos`, the task's objects placed, at rest. `seed` is unused here:
        every state of the simulation is set from the arguments (a real backend's stand-in
        needs it)."""
        m, d = self.model, self.data
        # Fixed objects move with the model before the data is reset: with sleeping on,
        # MuJoCo places static bodies only there (mj_forward leaves them where they were).
        for name, (pos, quat) in task_reset.poses.items():
            if name in self.fixed_body:
                m.body_pos[self.fixed_body[name]] = pos
                m.body_quat[self.fixed_body[name]] = quat
        mujoco.mj_resetData(m, d)
        self._arm_q[:] = joint_pos
        gripper = self.robot.gripper
        if gripper:
            self._finger_q[:] = gripper.joints_from_opening(
                self.controller.gripper_opening(gripper_command))
        for name, (pos, quat) in task_reset.poses.items():
            if name not in self.fixed_body:
                obj_pos, obj_quat = self._objects_qpos[name]
                obj_pos[:], obj_quat[:] = pos, quat
        for name, rgba in task_reset.colours.items():
            colours = painted_geoms(self.objects[name], rgba)
            for geom, (_, colour) in zip(self._painted[name], colours, strict=True):
                m.geom_rgba[geom] = colour
        for key, value in task_reset.joints.items():
            if key not in self._link_qpos:
                raise ConfigError(f"the task sets joint {key!r}; the scene's articulated "
                                  f"joints are {sorted(self._link_qpos)}")
            d.qpos[self._link_qpos[key]] = value
        if task_reset.base_pose is not None:
            if not self._mobile:
                raise ConfigError(f"the task places a mobile base; {self.robot.name!r} with "
                                  f"control mode {type(self.controller).__name__} has none")
            self.controller.place_base(task_reset.base_pose)
        self.controller.hold(gripper_command)
        if self.material is not None:
            self.material.reset(task_reset.payload_kg)
        self.pushes.reset(task_reset.pushes)
        mujoco.mj_forward(m, d)
        self._blowups = 0  # mj_resetData cleared the warning counters

    def step(self, physical_action: np.ndarray) -> bool:
        """Apply one control step; False when the simulation went unstable."""
        self.controller.apply(physical_action)
        if self.pushes.active:
            self.pushes.apply(self.data.time, self.control_dt)
        material = self.material
        if material is not None:
            material.apply_forces()
        mujoco.mj_step(self.model, self.data, nstep=self.substeps)
        self.controller.after_step(self.control_dt)
        if material is not None:
            material.update(self.control_dt)
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
    def world_state(self, privileged: bool = False) -> WorldState:
        d, q = self.data, self._arm_q
        flags = 0
        if d.ncon:
            geoms = d.contact.geom
            flags = int(np.bitwise_or.reduce(self._pair_class[geoms[:, 0], geoms[:, 1]]))
        object_pos, object_quat, grasped = {}, {}, {}
        for name, (pos, quat) in self._objects_qpos.items():
            object_pos[name] = pos.copy()
            object_quat[name] = canonical_quat(quat)
            bits = self._grasp_bits[name]
            grasped[name] = bits != 0 and flags & bits == bits
        touching = frozenset(label for i, label in enumerate(self._labels) if flags >> i & 1) \
            if flags else frozenset()
        material = self.material
        return WorldState(
            time=d.time,
            ee_pos=self._tool_pos.copy(),
            ee_rot=self._tool_mat.reshape(3, 3).copy(),
            gripper_opening=self._opening_of(self._finger_q),
            object_pos=object_pos,
            object_quat=object_quat,
            grasped=grasped,
            robot_contacts=touching,
            near_joint_limit=bool((q < self._limit_low).any() or (q > self._limit_high).any()),
            joint_pos=q.copy(),
            extras=self._machine_extras() if material is not None else
            self.controller.machine_extras() if self._mobile else {},
            terrain=material.terrain() if privileged and material is not None else None,
            object_joints={k: float(d.qpos[a]) for k, a in self._link_qpos.items()},
        )

    def _machine_extras(self) -> dict[str, float]:
        material, controller = self.material, self.controller
        payload = material.payload_kg
        extras = {
            "payload_kg": payload,
            "delivered_kg": material.delivered,
            "spilled_kg": material.spilled,
            "pile_kg": material.pile_kg,
            "energy_j": controller.energy,
        }
        if hasattr(controller, "tip_over_margin"):
            site = self.data.site_xpos[material.payload_site]
            extras["tip_margin_m"] = controller.tip_over_margin(payload, site)
        if hasattr(controller, "machine_extras"):  # a wheeled machine's pose, speed and gear
            extras.update(controller.machine_extras())
        return extras

    def proprio(self, state: WorldState) -> list[np.ndarray]:
        """The robot's proprioception, in the order of `robot.proprio`."""
        return self.controller.proprio(state)
