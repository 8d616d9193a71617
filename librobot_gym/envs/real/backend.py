"""The real-hardware backend of `RobotEnv`: a driver behind the safety layer, cameras, the
operator console, and the robot's kinematics model.

One control step: the action becomes joint targets through the same control law as in
simulation (`ArmKinematics`), the safety layer clips them and sends them, the backend waits out
the control period (or lets a lockstep twin advance it), then reads the robot and the cameras.
Between episodes the driver's cell places the objects itself (the PyBullet twin) or the operator
console asks a person to; at the end a success detector (a cell that measures object poses)
judges, else the operator labels success and progress (what a cell can judge: `cell.py`).
"""

from __future__ import annotations

import time

import numpy as np

from librobot_gym.envs.real.cell import CellBackend, connect_driver
from librobot_gym.envs.real.kinematics import ArmKinematics
from librobot_gym.envs.tasks.base import TaskReset, WorldState
from librobot_gym.errors import ConfigError
from librobot_gym.hardware.cameras import FrameSource
from librobot_gym.hardware.console import OperatorConsole
from librobot_gym.hardware.driver import Driver, RobotState, SceneReport
from librobot_gym.hardware.safety import SafetyLayer, SafetyLimits
from librobot_gym.robots import RobotSpec
from librobot_gym.scene import canonical_quat

HOME_TIMEOUT = 30.0  # s for the between-episode move to the start posture


def colour_names(task_reset: TaskReset, task) -> dict[str, str]:
    """Object -> colour name for the operator's prompt, where the task names one (PickCup)."""
    colour = getattr(task, "colour", None)
    return {name: colour for name in task_reset.colours} if isinstance(colour, str) else {}


def reported_world_state(robot: RobotSpec, state: RobotState, scene: SceneReport,
                         ee_pos: np.ndarray, ee_rot: np.ndarray,
                         extras: dict | None = None) -> WorldState:
    """The task's view of a real cell: what the driver and the cell report, no contacts (a
    real robot does not report them), joints within 0.01 rad of a limit flagged."""
    lower, upper = robot.joint_lower, robot.joint_upper
    return WorldState(
        time=state.stamp, ee_pos=ee_pos, ee_rot=ee_rot,
        gripper_opening=float(state.gripper_opening),
        object_pos=dict(scene.object_pos),
        object_quat={n: canonical_quat(q) for n, q in scene.object_quat.items()},
        grasped=dict(scene.grasped), robot_contacts=frozenset(),
        near_joint_limit=bool(np.any(state.joint_pos < lower + 0.01)
                              or np.any(state.joint_pos > upper - 0.01)),
        joint_pos=state.joint_pos.copy(), **({"extras": extras} if extras else {}))


class RealBackend(CellBackend):
    """What `RobotEnv` needs of a backend (`reset`, `step`, `world_state`, `proprio`), on a
    robot reached through `driver` (a `Driver` or a spec such as "bridge:ws://robot-pc:8765").
    `cameras`: {name: device index, URL, FrameSource or "sim"}; `operator`: a console or its
    spec ("terminal", "scripted:y,y,n,40", "auto")."""

    def __init__(self, robot: RobotSpec, task, control_mode: str, control_hz: float,
                 driver: Driver | str | None,
                 cameras: dict[str, int | str | FrameSource] | None = None,
                 operator: OperatorConsole | str | None = None,
                 limits: SafetyLimits | None = None):
        if robot.family != "arm":
            raise ConfigError(f"the real backend drives arms so far; {robot.name!r} is a "
                              f"{robot.family} robot")
        self.robot, self.task = robot, task
        self.control_dt = 1.0 / control_hz
        self._open_cell(robot, task, control_mode, cameras, operator)  # specs checked first
        self.driver = connect_driver(driver, robot, task)
        self.kinematics = ArmKinematics(robot, control_mode)
        self.safety = SafetyLayer(self.driver,
                                  limits or SafetyLimits.for_robot(robot, self.control_dt),
                                  self.control_dt,
                                  forward_kinematics=self.kinematics.tool_position)
        self.violations: dict[str, float] = {}
        self.missed_deadlines = 0
        self._state: RobotState | None = None
        self._scene: SceneReport | None = None
        self._deadline = 0.0
        self.automatic_cell = False
        self.driver.connect()
        self.safety.start()
        self._read()

    # --- episode -------------------------------------------------------------------------------
    def reset(self, joint_pos: np.ndarray, gripper_command: float, task_reset: TaskReset,
              seed: int | None = None) -> None:
        """Set the scene (the cell or the operator), home the arm, confirm, re-arm, go. `seed`
        (the env's reset seed) restarts a lockstep stand-in's world (`start_episode`)."""
        self.safety.end_episode()
        self.driver.connect()  # no-op when connected; reconnects after a disconnect
        self.driver.start_episode(seed)
        opening = self.kinematics.gripper_opening(gripper_command)  # m, any gripper kind
        if self.scene_render is not None:
            self.scene_render.reset(joint_pos, task_reset)
        self.automatic_cell = self.driver.reset_scene(task_reset.poses, task_reset.colours)
        if not self.automatic_cell:
            self.operator.reset_scene(task_reset.instruction, task_reset.poses,
                                      colour_names(task_reset, self.task))
        if self.safety.faulted:
            self.safety.rearm()
        with self.safety.guard():
            self.driver.move_to(np.asarray(joint_pos, dtype=np.float64), opening, HOME_TIMEOUT)
        if not self.automatic_cell:
            self.operator.confirm_start()
        self._read()
        self.violations = {}
        self.safety.begin_episode()
        self._deadline = time.monotonic() + self.control_dt

    def step(self, physical_action: np.ndarray) -> bool:
        """One control period on the robot. Driver and safety faults raise (typed)."""
        state = self._state
        self.kinematics.set_posture(state.joint_pos, state.gripper_opening)
        targets, opening = self.kinematics.targets(physical_action)
        self.violations = self.safety.command(targets, opening)
        with self.safety.guard():
            self._next_period()
            self._read()
        return True

    def _read(self) -> None:
        self._state = state = self.driver.read_state()
        self.kinematics.set_posture(state.joint_pos, state.gripper_opening)
        self.kinematics.controller.arm_qd[:] = state.joint_vel
        self._scene = self.driver.scene()

    def _posture(self) -> tuple[RobotState | None, SceneReport | None]:
        return self._state, self._scene

    # --- reading the world ---------------------------------------------------------------------
    def world_state(self, privileged: bool = False) -> WorldState:
        if privileged and not self.judges_success:
            raise self.privileged_refusal("which this robot cell does not report")
        state, scene = self._state, self._scene or SceneReport()
        ee_pos, ee_rot = self.kinematics.tool_pose()
        return reported_world_state(self.robot, state, scene, ee_pos, ee_rot)

    def proprio(self, state: WorldState) -> list[np.ndarray]:
        return self.kinematics.controller.proprio(state)
