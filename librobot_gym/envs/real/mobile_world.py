"""The rosbridge emulator's robot in the task's simulated scene (`ros:emulator?world=sim`): its
base drives in MuJoCo among the flat's walls, doors and furniture, so the scanner sees them,
a wall stops the base, and the task can judge the episode on the stand-in.

`SimulatedRobot` keeps `KinematicRobot`'s controllers (the twist's timeout, trajectories, the
head, the gripper, the run-stop) and hands the base to a `MujocoSim` of the robot in the task's
scene: once per control period the twist the base controller asks for is the simulator's
`base_twist` action (the same slew at the same acceleration limits), the arm's part of the
action zero (it holds; the arm joints reported are the trajectory controller's). Odometry is
the base's pose relative to where the episode placed it. Registered as the "sim" world of
`hardware/ros/stand_in.WORLDS` when the env layer loads the mobile backend.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from librobot_gym.envs.sim.mujoco_sim import MujocoSim
from librobot_gym.envs.tasks.base import TaskReset
from librobot_gym.hardware.ros.robots import RosRobot
from librobot_gym.hardware.ros.stand_in import KinematicRobot, register_world
from librobot_gym.robots import RobotSpec
from librobot_gym.scene import Cell


@dataclass(frozen=True)
class TaskCell(Cell):
    """A `Cell` that also carries the task's whole scene (the room of a `LabCell` with its
    visible walls, which the scanner's rays hit; the colliders alone are invisible to rays):
    what the mobile backend hands its driver, so an emulator's world is the env's scene."""

    scene: tuple = ()

    @classmethod
    def of(cls, task) -> TaskCell:
        cell = Cell.of(task)
        return cls(cell.objects, cell.floor_height, tuple(task.scene()))


class SimulatedRobot(KinematicRobot):
    """A `KinematicRobot` whose base lives in the task's MuJoCo scene (module doc); `cell`:
    a `TaskCell` (a bare `Cell` builds its objects without the room)."""

    def __init__(self, spec: RobotSpec, ros: RosRobot, cell: Cell):
        substeps = round(1.0 / (spec.control_hz * spec.physics_dt))
        scene = list(getattr(cell, "scene", ()) or cell.objects)
        self.sim = MujocoSim(spec, scene, spec.default_control_mode,
                             spec.physics_dt, substeps, True, cell.floor_height)
        controller = self.sim.controller
        self.base = getattr(controller, "base", controller)  # BaseTwistController
        self.period = 1.0 / spec.control_hz
        self.placed = TaskReset("", {})
        self.since_step = 0.0
        self.start = np.zeros(3)
        super().__init__(spec, ros)

    def restart(self, joint_pos: dict[str, float] | None = None) -> None:
        super().restart(joint_pos)
        home = np.array(self.spec.home_qpos)
        self.sim.reset(home, 1.0, self.placed)
        self.start = self.base.base_pose()
        self.since_step = 0.0

    def place(self, poses: dict, colours: dict, base_pose) -> bool:
        """The scene's objects where `poses` put them, the base at `base_pose`, at rest."""
        self.placed = TaskReset("", dict(poses), colours=dict(colours),
                                base_pose=None if base_pose is None else tuple(base_pose))
        self.sim.reset(np.array(self.spec.home_qpos), 1.0, self.placed)
        self.start = self.base.base_pose()
        self.since_step = 0.0
        self._sense()
        return True

    def _drive(self, dt: float) -> None:
        """One simulator step per control period; the base's pose and twist from it."""
        self.since_step += dt
        if self.since_step + 1e-9 < self.period:
            self._turn_wheels(dt)
            return
        self.since_step = 0.0
        action = np.zeros(self.spec.control_mode(self.spec.default_control_mode).size)
        action[:2] = self.asked_twist()
        if self.spec.gripper is not None:
            action[-1] = 1.0  # the simulated fingers stay open; the reported ones are ours
        self.sim.step(action)
        self._sense()
        self._turn_wheels(dt)

    def _sense(self) -> None:
        x, y, yaw = self.base.base_pose()
        x0, y0, yaw0 = self.start
        c, s = math.cos(yaw0), math.sin(yaw0)
        dyaw = (yaw - yaw0 + math.pi) % (2 * math.pi) - math.pi
        self.pose = np.array([c * (x - x0) + s * (y - y0), -s * (x - x0) + c * (y - y0), dyaw])
        self.twist = self.base.twist()

    def press_runstop(self):
        stopped = super().press_runstop()
        self.base.hold()
        return stopped

    def scan(self) -> np.ndarray:
        return self.base.lidar().copy()


register_world("sim", SimulatedRobot)
