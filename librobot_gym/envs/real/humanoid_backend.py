"""The real-hardware backend for humanoids: a joint-space driver (the H1 through Unitree's SDK,
`unitree:IFACE`; a vendor's integration behind the bridge) behind `HumanoidSafetyLayer`, the
operator console, and `HumanoidEstimator` (balance quantities from encoders and the IMU).

`base_velocity` (the H1, whose locomotion controller runs on the robot): each step's (vx, vy,
yaw rate) goes through the safety layer (the fall check; clipped into the robot's `WalkLayout`
bounds) to the driver's loco client (SetVelocity, held `WALK_COMMAND_HOLD` unless renewed);
state comes from LowState as for the other modes. At reset the robot is not homed by joint
commands: after the operator's confirmation the loco service stands it up and starts walking
(StandUp, Start); a fall or fault stops it with the service's Damp. Drivers without a loco
service (the bridge, the GR1) refuse the mode.

One control step: `joint_pos` sends the policy's whole-body PD targets; `upper_body` fills
the legs' and torso's from the balance law (`robots/humanoids/balance.py`, the same law the
simulator runs) on the estimated state, the arms' from the action; the safety layer clips
(steps, limits, torque) and checks the tilt, the driver sends; the backend waits out the
period (or a lockstep stand-in advances it) and reads. A fall the safety layer catches
(`FallDetected`: damping mode, latched) ends the episode as a fall (`fall_detected` in the
state the task judges); the robot gets no command until the next reset re-arms it.

Between episodes: the robot hangs in its gantry or harness (the console asks before the
first command of every episode; a safe stop is the driver's damping mode, in which a
humanoid sinks: only the harness keeps it off the floor), the joints home to the nominal
standing posture, the operator lowers the robot onto its feet and confirms. A stand-in
stands itself up and schedules the task's pushes (the emulator's physics applies them).
"""

from __future__ import annotations

import math
import time

import numpy as np

from librobot_gym.envs.real.backend import reported_world_state
from librobot_gym.envs.real.cell import CellBackend, connect_driver
from librobot_gym.envs.real.humanoid_state import HumanoidEstimator
from librobot_gym.envs.real.scene_cameras import split_sources
from librobot_gym.envs.tasks.base import TaskReset, WorldState
from librobot_gym.errors import ConfigError
from librobot_gym.hardware.driver import RobotState, SceneReport
from librobot_gym.hardware.humanoid_safety import FallDetected, HumanoidSafetyLayer
from librobot_gym.robots import RobotSpec
from librobot_gym.robots.humanoids.balance import BalanceLaw
from librobot_gym.robots.humanoids.common import layout_for
from librobot_gym.robots.humanoids.walking import walk_layout_for

WALK_COMMAND_HOLD = 0.5  # s a velocity holds on the robot unless the next step renews it
HOME_TIMEOUT = 30.0  # s for the between-episode move to the standing posture
HARNESS = ("the robot hangs in its gantry or harness (its safe stop is damping mode: the "
           "joints go limp and only the harness keeps it off the floor); lower it onto its "
           "feet once it has homed")
SPORT_ON = "; base_velocity walks through the robot's own sport service: keep it on"


class HumanoidBackend(CellBackend):
    """What `RobotEnv` needs of a backend, for a humanoid reached through `driver` (a driver
    or its spec: "unitree:eth0", "unitree:emulator:lockstep", "bridge:ws://HOST:PORT")."""

    def __init__(self, robot: RobotSpec, task, control_mode: str, control_hz: float,
                 driver, cameras=None, operator=None):
        if robot.family != "humanoid":
            raise ConfigError(f"the humanoid backend drives humanoids; {robot.name!r} is a "
                              f"{robot.family}")
        if control_mode not in ("joint_pos", "upper_body", "base_velocity"):
            raise ConfigError(f"control_mode={control_mode!r} does not run on hardware; use "
                              f"joint_pos, upper_body or base_velocity")
        if split_sources(dict(cameras or {}))[1]:
            raise ConfigError("cameras=NAME=sim renders arms only so far; give a humanoid's "
                              "cameras a device index, a stream URL or a FrameSource")
        self.robot, self.task, self.control_mode = robot, task, control_mode
        self.control_dt = 1.0 / control_hz
        self._open_cell(robot, task, control_mode, cameras, operator)
        self.driver = connect_driver(driver, robot, task)
        self.walking = control_mode == "base_velocity"
        self._odom_start = None  # walking: (start pose, odometry) when the episode began
        if self.walking:
            if not hasattr(self.driver, "loco_client"):
                self.driver.close()  # built, maybe a stand-in started: leave nothing behind
                raise ConfigError(f"control_mode='base_velocity' on hardware needs the "
                                  f"robot's own locomotion service (the H1's loco client, "
                                  f"driver unitree:IFACE); {self.driver.name!r} drives joints "
                                  f"only: use joint_pos or upper_body")
            lay = walk_layout_for(robot)
            self.walk_bounds = (tuple(lay.vx_range), lay.vy_max, lay.yaw_rate_max)
        kp, effort = self._gains(robot)
        self.safety = HumanoidSafetyLayer(self.driver, robot, self.control_dt, kp, effort)
        self.estimator = HumanoidEstimator(robot)
        self.home = np.array(robot.home_qpos, dtype=np.float64)
        self.law = None
        if control_mode == "upper_body":
            layout = layout_for(robot)
            self.n_held = layout.n_held
            self.law = BalanceLaw(self.home[:layout.n_held], (), layout=layout)
        self.violations: dict[str, float] = {}
        self.automatic_cell = False
        self._state: RobotState | None = None
        self._extras: dict[str, float] = {}
        self._episode_start = 0.0
        try:
            self.driver.connect()
            preflight = getattr(self.driver, "check_motor_owner", None)
            if preflight is not None:  # the sport service on for walking, off for joints
                preflight(self.walking)
            if self.walking:
                self.driver.loco_client(self.walk_bounds)
            self.safety.start()
            self._read()
        except BaseException:
            self.close()
            raise

    def _gains(self, robot: RobotSpec) -> tuple[np.ndarray, np.ndarray]:
        """Per joint kp (N m/rad) and torque limit (N m): the driver's if it says (the H1's
        LowCmd gains), else the MJCF servos' (what the simulator runs)."""
        kp = getattr(self.driver, "joint_kp", None)
        if kp is not None:
            return np.asarray(kp), np.asarray(self.driver.joint_effort)
        from librobot_gym.hardware.humanoid_sim import servo_gains

        gains = servo_gains(robot.asset, robot.joint_names)
        return gains[0], gains[2]

    # --- episode -----------------------------------------------------------------------------
    def reset(self, joint_pos: np.ndarray, gripper_command: float, task_reset: TaskReset,
              seed: int | None = None) -> None:
        """Harness check, home, the stand-in stands itself (or the operator lowers the robot),
        confirm, re-arm, go."""
        self.safety.end_episode()
        self.driver.connect()
        self.driver.start_episode(seed)
        start = task_reset.base_pose or (0.0, 0.0, 0.0)
        self.automatic_cell = bool(self.driver.reset_scene({}, {}))
        if not self.automatic_cell:
            note = HARNESS + (SPORT_ON if self.walking else "")
            self.operator.reset_scene(f"{task_reset.instruction} [{self.robot.name}: {note}]",
                                      task_reset.poses)
        if self.safety.faulted:
            self.safety.rearm()
        if not self.walking:
            with self.safety.guard():
                self.driver.move_to(np.asarray(joint_pos, dtype=np.float64), 0.0,
                                    HOME_TIMEOUT)
        if not self.automatic_cell:
            self.operator.confirm_start()
        self._odom_start = None
        if self.walking:  # the robot's loco service stands it up and walks it
            with self.safety.guard():
                self.driver.start_walking()
                self._odom_start = (start, self.driver.odometry())
        self.estimator.reset(start[0], start[1])
        self._read()
        self._episode_start = self._state.stamp
        schedule = getattr(self.driver, "schedule_pushes", None)
        if schedule is not None and task_reset.pushes:  # times from now, as the task's clock
            schedule([(p.body, p.start, p.duration, p.force) for p in task_reset.pushes])
        self.violations = {}
        self.safety.begin_episode()
        self._deadline = time.monotonic() + self.control_dt

    def step(self, physical_action: np.ndarray) -> bool:
        """One control period on the robot. Driver and safety faults raise (typed)."""
        physical = np.asarray(physical_action, dtype=np.float64)
        if self.walking:
            if not isinstance(self.safety.fault, FallDetected):
                try:
                    self.violations = self.safety.walk(physical, self.walk_bounds,
                                                       WALK_COMMAND_HOLD)
                except FallDetected:
                    self.violations = {}
            with self.safety.guard():
                self._next_period()
                self._read()
            return True
        if self.law is not None:
            targets = self.home.copy()
            targets[:self.n_held] = self.law.targets(self._extras)
            targets[self.n_held:] = physical
        else:
            targets = physical
        if not isinstance(self.safety.fault, FallDetected):
            try:
                self.violations = self.safety.command(targets)
            except FallDetected:  # damped and latched: the episode ends as a fall (below)
                self.violations = {}
        with self.safety.guard():
            self._next_period()
            self._read()
        return True

    def _read(self) -> None:
        self._state = self.driver.read_state()
        self._extras = self.estimator.extras(self._state)
        if self._odom_start is not None:
            self._place_by_odometry()
            self.safety.watch_fall(self._state)
        # The safety layer caught a fall (the trunk past its tilt limit): the robot is in
        # damping mode, hanging in its harness; the task reads this as a fall.
        self._extras["fall_detected"] = float(isinstance(self.safety.fault, FallDetected))

    def _place_by_odometry(self) -> None:
        """Walking: the base's x, y, yaw from the loco service's odometry, as moved since the
        episode began, placed at the task's start pose (the estimator alone anchors the
        support at the start: right for standing, not for walking); the CoM and support
        move with it."""
        (x0, y0, *rest), (ox, oy, oyaw) = self._odom_start
        yaw0 = rest[0] if rest else 0.0
        x, y, yaw = self.driver.odometry()
        turn = yaw0 - oyaw
        c, s = math.cos(turn), math.sin(turn)
        dx, dy = x - ox, y - oy
        bx, by = x0 + c * dx - s * dy, y0 + s * dx + c * dy
        e = self._extras
        shift = (bx - e["base_x"], by - e["base_y"])
        for axis, move in zip("xy", shift, strict=True):
            e[f"base_{axis}"] += move
            e[f"com_{axis}"] += move
            e[f"support_{axis}"] += move
        e["base_yaw"] = (yaw0 + yaw - oyaw + math.pi) % (2 * math.pi) - math.pi

    def _posture(self):
        return self._state, SceneReport()

    # --- reading the world -----------------------------------------------------------------
    def world_state(self, privileged: bool = False) -> WorldState:
        """The robot's measured state and the estimated balance quantities (module doc); the
        time is seconds since the episode began, on the driver's clock."""
        state = self._state
        world = reported_world_state(self.robot, state, SceneReport(), np.zeros(3),
                                     np.eye(3).reshape(-1), dict(self._extras))
        world.time = float(state.stamp - self._episode_start)
        return world

    def proprio(self, state: WorldState) -> list[np.ndarray]:
        """joint_pos, joint_vel, imu_quat, imu_gyro, imu_acc: as measured."""
        s = self._state
        fields = {"joint_pos": s.joint_pos, "joint_vel": s.joint_vel,
                  "imu_quat": s.extras["imu_quat"], "imu_gyro": s.extras["imu_gyro"],
                  "imu_acc": s.extras["imu_acc"]}
        return [np.asarray(fields[f.name], dtype=np.float64) for f in self.robot.proprio]
