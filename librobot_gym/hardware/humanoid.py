"""`HumanoidDriver`: the driver contract a humanoid's vendor integration implements, for robots
without a public SDK here (the Figure-class humanoid): write the class on the robot's PC,
serve it with `librobot bridge serve`, and drive it from any computer with
`driver="bridge:ws://ROBOT-PC:PORT"`; the env's humanoid backend (balance estimation, the
`upper_body` balance law, the humanoid safety layer, the operator console) does the rest.
"""

from __future__ import annotations

import time
from abc import abstractmethod

import numpy as np

from librobot_gym.hardware.driver import Driver, RobotState, SceneReport

IMU_FIELDS = ("imu_quat", "imu_gyro", "imu_acc")


class HumanoidDriver(Driver):
    """What a humanoid's driver must do (the `Driver` methods, with these meanings).

    Joints: one value per joint of the robot's spec (`robot.joints`, in that order: legs,
    torso or waist, arms, grippers), rad or m.

    - `read_state()`: `RobotState(joint_pos, joint_vel, gripper_opening=0.0, stamp, extras)`,
      `stamp` on the driver's clock (`now()` if it has one, else `time.monotonic()` on the
      robot PC), no older than one control period; `extras` must hold the torso IMU:
      `imu_quat` (4, wxyz, the IMU in the world: gravity-aligned; its yaw may drift),
      `imu_gyro` (3, rad/s, IMU frame), `imu_acc` (3, m/s^2, IMU frame, +9.81 up at rest).
      The env estimates the robot's balance from these and the joints alone
      (`envs/real/humanoid_state.py`).
    - `command(joint_targets, 0.0)`: PD position targets the robot's joint servos track
      from now on, with the robot's own gains; already clipped by the env's humanoid safety
      layer (steps, joint limits, each motor's torque at its kp) and by the bridge's.
    - `move_to(joint_pos, 0.0, timeout)`: a slow move to the standing posture, between
      episodes, with the robot in its harness.
    - `stop()`: the safe stop of a humanoid: NOT a freeze (a rigid humanoid topples as one
      piece) but damping: every joint's stiffness to zero, its damping kept, so the robot
      sinks slowly into the gantry or harness it must hang in. Must never raise.
    - `scene()`: `SceneReport()` (what the task judges is the robot's own body) or object
      poses if the cell measures them.
    - optional: `advance(dt)` for a stand-in that runs in lockstep; `start_episode(seed)` to
      restart a stand-in's world; `reset_scene(...) -> True` when the robot stands itself
      up (a stand-in); `realtime = False` and `now()` for simulated time.

    Faults raise `DriverError` subclasses (after `stop()`): a lost link `DriverDisconnected`,
    a robot's own fault `RobotFault`; the bridge sends their type names to the env.
    """

    @abstractmethod
    def read_state(self) -> RobotState:
        """The joints and the torso IMU (class doc)."""

    @abstractmethod
    def stop(self) -> None:
        """Damping, never a freeze (class doc)."""

    def scene(self) -> SceneReport:
        return SceneReport()


def imu_extras(quat, gyro, acc) -> dict[str, np.ndarray]:
    """The `extras` entries of the contract from three arrays."""
    return {"imu_quat": np.asarray(quat, dtype=np.float64),
            "imu_gyro": np.asarray(gyro, dtype=np.float64),
            "imu_acc": np.asarray(acc, dtype=np.float64)}


HOMING_PERIOD = 0.02  # s between commands while homing (50 Hz)
HOMING_SPEED = 0.5  # rad/s per joint while homing


def ramp_to(driver, body: np.ndarray, joint_pos: np.ndarray, timeout: float) -> None:
    """Ramp the joints `body` (indices into the robot's joints) of a humanoid `driver` to
    `joint_pos` at HOMING_SPEED, one command per HOMING_PERIOD, in at most `timeout` s;
    lockstep drivers advance their emulator, others wait out the period."""
    start = driver.read_state().joint_pos[body]
    goal = np.asarray(joint_pos, dtype=np.float64)[body]
    steps = max(1, int(np.ceil(np.abs(goal - start).max() / (HOMING_SPEED * HOMING_PERIOD))))
    if steps * HOMING_PERIOD > timeout:
        steps = max(1, int(timeout / HOMING_PERIOD))
    full = np.zeros(len(driver.robot.joints))
    for k in range(1, steps + 1):
        full[body] = start + (goal - start) * k / steps
        driver.command(full, 0.0)
        if not driver.advance(HOMING_PERIOD):
            time.sleep(HOMING_PERIOD)
        driver.read_state()


class EmulatorScene:
    """What a humanoid driver with an optional in-process `emulator` (None on a robot) does
    about the task's scene: a stand-in stands itself up and applies the task's shoves; a robot
    needs its operator and is never pushed from here."""

    emulator = None

    def reset_scene(self, poses, colours, base_pose=None) -> bool:
        """A stand-in stands itself up (True); a robot needs the operator (False)."""
        if self.emulator is None:
            return False
        if base_pose is not None:
            self.emulator.restart(base_pose)
        return True

    def schedule_pushes(self, pushes) -> bool:
        """The task's shoves [(body, start s from now, duration s, force N)], applied by a
        stand-in's physics; False on a robot."""
        if self.emulator is None:
            return False
        now = self.emulator.time
        self.emulator.schedule_pushes([(b, now + t, d, f) for b, t, d, f in pushes])
        return True
