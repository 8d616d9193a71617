"""The real-hardware backend for mobile robots (a `DiffDriveSpec` base: the Jackal, Fetch): a
`MobileDriver` behind `MobileSafetyLayer`, cameras, the operator console, and the robot's own
MuJoCo model for kinematics (`ArmKinematics`).

One control step: the action's twist goes to the base as it is (m/s, rad/s); a mobile
manipulator's gripper delta becomes arm targets through the simulator's own control law (the
model posed as measured: the base where the odometry puts it, the torso, the arm), its torso
speed a torso target one period ahead; the safety layer caps speeds and accelerations, clips
the arm, sends; the backend waits out the period (or a lockstep stand-in advances it) and reads.

Frames: the task's world frame is anchored at each reset: the robot stands at the reset's start
pose (a stand-in places itself there; on a robot the operator drives it there), and its pose
is that start composed with the odometry travelled since (odometry drifts; nothing corrects it
here). What the robot cannot measure it does not report: no contacts (no bumpers read), no
objects unless the driver's cell reports them; the operator labels episodes otherwise
(`cell.py`).
"""

from __future__ import annotations

import math
import time

import mujoco
import numpy as np

from librobot_gym.envs.real.backend import colour_names, reported_world_state
from librobot_gym.envs.real.cell import CellBackend, connect_driver
from librobot_gym.envs.real.kinematics import ArmKinematics
from librobot_gym.envs.real.mobile_world import SimulatedRobot, TaskCell  # the "sim" world
from librobot_gym.envs.real.scene_cameras import split_sources
from librobot_gym.envs.tasks.base import TaskReset, WorldState
from librobot_gym.errors import ConfigError
from librobot_gym.hardware.driver import RobotState, SceneReport
from librobot_gym.hardware.drivers import make_driver
from librobot_gym.hardware.mobile_safety import MobileSafetyLayer, TwistLimits, arm_limits
from librobot_gym.robots import RobotSpec
from librobot_gym.scene import canonical_quat

HOME_TIMEOUT = 60.0  # s for the between-episode move of the upper body
WORLDS = (SimulatedRobot,)  # the stand-in worlds this layer provides (`ros:...?world=sim`)


def compose(start, odom0, odom) -> np.ndarray:
    """The pose (x, y, yaw) `odom` is at, in a frame where `odom0` is `start`."""
    dx, dy = odom[0] - odom0[0], odom[1] - odom0[1]
    c0, s0 = math.cos(odom0[2]), math.sin(odom0[2])
    rx, ry = c0 * dx + s0 * dy, -s0 * dx + c0 * dy  # travel in the start's own frame
    c, s = math.cos(start[2]), math.sin(start[2])
    yaw = start[2] + odom[2] - odom0[2]
    return np.array([start[0] + c * rx - s * ry, start[1] + s * rx + c * ry,
                     (yaw + math.pi) % (2 * math.pi) - math.pi])


class MobileBackend(CellBackend):
    """What `RobotEnv` needs of a backend, for a mobile robot reached through `driver` (a
    `MobileDriver` or a spec such as "ros:ws://fetch.local:9090?robot=fetch"); `cameras` and
    `operator` as for `RealBackend` (no `sim` cameras yet: they pose arms only)."""

    def __init__(self, robot: RobotSpec, task, control_mode: str, control_hz: float,
                 driver, cameras=None, operator=None, twist: TwistLimits | None = None):
        if robot.diff_drive is None:
            raise ConfigError(f"the mobile backend drives differential-drive bases; "
                              f"{robot.name!r} has none")
        if split_sources(dict(cameras or {}))[1]:
            raise ConfigError("cameras=NAME=sim renders arms only so far; give a mobile "
                              "robot's cameras a device index, a stream URL or a FrameSource")
        self.robot, self.task, self.control_mode = robot, task, control_mode
        self.control_dt = 1.0 / control_hz
        # joint_pos (TIAGo): arm and torso targets outright, the base held; else the twist first.
        self.joint_targets = control_mode == "joint_pos" and robot.upper_body is not None
        self.manipulator = "ee_delta_pose" in control_mode or self.joint_targets
        self._open_cell(robot, task, control_mode, cameras, operator)
        if isinstance(driver, str):  # an emulator's world gets the task's whole scene
            driver = make_driver(driver, robot, scene=TaskCell.of(task))
        self.driver = connect_driver(driver, robot, task)
        self.kinematics = ArmKinematics(robot, control_mode)
        body = robot.upper_body
        self._torso_adr = None
        torso_range = None
        if body is not None:
            joint = self.kinematics.model.joint(body.torso_joint)
            self._torso_adr = int(joint.qposadr[0])
            torso_range = tuple(float(v) for v in self.kinematics.model.jnt_range[joint.id])
        self.torso_range = torso_range
        self.safety = MobileSafetyLayer(
            self.driver, self.control_dt, twist or TwistLimits.for_robot(robot),
            arm=arm_limits(robot, self.control_dt) if self.manipulator else None,
            torso_range=torso_range, torso_speed=body.torso_max_speed if body else 0.1)
        self.violations: dict[str, float] = {}
        self.automatic_cell = False
        self._state: RobotState | None = None
        self._scene: SceneReport | None = None
        self._start = np.zeros(3)
        self._odom0 = np.zeros(3)
        self._quat = np.zeros(4)
        try:
            self.driver.connect()
            self.safety.start()
            self._read()
        except BaseException:
            self.close()
            raise

    # --- episode -------------------------------------------------------------------------------
    def reset(self, joint_pos: np.ndarray, gripper_command: float, task_reset: TaskReset,
              seed: int | None = None) -> None:
        """The stand-in places itself (or the operator drives the robot to the start pose and
        sets the scene up), the upper body homes, the operator confirms, go."""
        self.safety.end_episode()
        self.driver.connect()  # reconnects after a dropped link
        self.driver.start_episode(seed)
        start = task_reset.base_pose or (0.0, 0.0, 0.0)
        self.automatic_cell = self.driver.reset_scene(task_reset.poses, task_reset.colours,
                                                      start)
        if not self.automatic_cell:
            x, y, yaw = start
            self.operator.reset_scene(
                f"{task_reset.instruction} [robot start: x {x:.2f} m, y {y:.2f} m, yaw "
                f"{math.degrees(yaw):.0f} deg]", task_reset.poses,
                colour_names(task_reset, self.task))
        if self.safety.faulted:
            self.safety.rearm()
        opening = self.kinematics.gripper_opening(gripper_command) if self.robot.gripper \
            else None
        with self.safety.guard():
            self.driver.move_to(np.asarray(joint_pos, dtype=np.float64)
                                if self.driver.has_arm else None,
                                self.torso_range[0] if self.torso_range else None, opening,
                                HOME_TIMEOUT)
        if not self.automatic_cell:
            self.operator.confirm_start()
        self._read()
        self._start = np.array(start, dtype=np.float64)
        self._odom0 = np.asarray(self._state.extras["odom"], dtype=np.float64).copy()
        self.violations = {}
        self.safety.begin_episode()
        self._deadline = time.monotonic() + self.control_dt

    def step(self, physical_action: np.ndarray) -> bool:
        """One control period on the robot. Driver and safety faults raise (typed)."""
        physical = np.asarray(physical_action, dtype=np.float64)
        arm = torso = opening = None
        twist = physical[:2]
        if self.joint_targets:
            n_arm = len(self.robot.joints)
            twist, arm, torso = np.zeros(2), physical[:n_arm], float(physical[n_arm])
            opening = self.kinematics.gripper_opening(physical[-1])
        elif self.manipulator:
            self._pose_model()
            arm, opening = self.kinematics.targets(physical)
            torso = float(self._state.extras.get("torso", 0.0)) + physical[8] * self.control_dt
        self.violations = self.safety.command(twist, arm, torso, opening)
        with self.safety.guard():
            self._next_period()
            self._read()
        return True

    def _read(self) -> None:
        self._state = self.driver.read_state()
        self._scene = self.driver.scene()

    def _posture(self):
        return self._state, self._scene

    def base_pose(self) -> np.ndarray:
        """(x, y, yaw) in the task's world frame (module doc)."""
        return compose(self._start, self._odom0, self._state.extras["odom"])

    def _pose_model(self) -> None:
        """The kinematic model as measured: base, torso, arm, gripper."""
        state, kin = self._state, self.kinematics
        kin.controller.place_base(self.base_pose())
        if self._torso_adr is not None:
            kin.data.qpos[self._torso_adr] = state.extras.get("torso", 0.0)
        kin.set_posture(state.joint_pos, state.gripper_opening)
        kin.controller.arm_qd[:] = state.joint_vel

    # --- reading the world ---------------------------------------------------------------------
    def world_state(self, privileged: bool = False) -> WorldState:
        if privileged and not self.judges_success:
            raise self.privileged_refusal("which this robot's cell does not report")
        state, scene = self._state, self._scene or SceneReport()
        self._pose_model()
        ee_pos, ee_rot = self.kinematics.tool_pose()
        x, y, yaw = self.base_pose().tolist()
        v, w = (float(t) for t in state.extras["twist"])
        extras = {"base_x": x, "base_y": y, "base_yaw": yaw, "base_speed": v,
                  "base_yaw_rate": w}
        if "torso" in state.extras:
            extras["torso"] = float(state.extras["torso"])
        return reported_world_state(self.robot, state, scene, ee_pos, ee_rot, extras)

    def proprio(self, state: WorldState) -> list[np.ndarray]:
        """`robot.proprio`'s fields, in order, from the measurements (as the simulator's
        `BaseTwistController` / `BaseTwistEeDeltaPoseController` give them)."""
        measured = self._state
        mujoco.mju_mat2Quat(self._quat, np.asarray(state.ee_rot).reshape(-1))
        extras = measured.extras
        head = extras.get("head", np.zeros(2))
        fields = {
            "joint_pos": measured.joint_pos, "joint_vel": measured.joint_vel,
            "gripper_opening": np.array([measured.gripper_opening]),
            "ee_pos": np.asarray(state.ee_pos), "ee_quat": canonical_quat(self._quat),
            "torso_head": np.array([extras.get("torso", 0.0), *head]),
            "base_pose": self.base_pose(), "base_twist": np.asarray(extras["twist"]),
            "wheel_vel": np.asarray(extras["wheel_vel"]), "lidar": np.asarray(extras["lidar"]),
        }
        return [np.asarray(fields[f.name], dtype=np.float64) for f in self.robot.proprio]
