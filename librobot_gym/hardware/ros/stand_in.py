"""`KinematicRobot`: the robot a rosbridge emulator stands in for, integrated on its own clock.

What it models is what the robot's controllers do, not the world: the base follows the last
/cmd_vel at the `DiffDriveSpec`'s acceleration limits (the same slew as the simulator's
`base_twist`), and stops when no twist came for the robot's `cmd_vel_timeout` (its
diff_drive_controller's: 0.5 s, TIAGo's 0.25 s); trajectory goals move their joints linearly
to each point at its time_from_start, no faster than each joint's published velocity and
inside its range (the torso's travel, the head's and the fingers' ranges as the robot's MJCF
has them, so Fetch's 0.386 m torso and TIAGo's 0.35 m one each stop where theirs does); a
PointHead goal (Fetch) turns the head towards the point, a head trajectory (TIAGo) moves it
at the robot's head speed; a GripperCommand (Fetch) moves the fingers at GRIPPER_SPEED, a
finger trajectory (TIAGo) too, its goal succeeding once they are there. A pressed run-stop
cuts the drives: the base stops at once and every goal is aborted. On its own it drives on
empty floor (the scanner reads its maximum range on every beam); a world registered in
`WORLDS` (the env layer's "sim": the task's MuJoCo scene) replaces the base's motion and scan.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import mujoco
import numpy as np

from librobot_gym.hardware.ros.robots import RosRobot
from librobot_gym.robots import RobotSpec

GRIPPER_SPEED = 0.1  # m/s of opening


@functools.cache
def joint_ranges(asset: str) -> dict[str, tuple[float, float]]:
    """Each limited joint's range (m or rad) in the robot's MJCF at `asset`."""
    model = mujoco.MjModel.from_xml_path(asset)
    return {model.joint(i).name: (float(model.jnt_range[i][0]), float(model.jnt_range[i][1]))
            for i in range(model.njnt) if model.jnt_limited[i]}


@dataclass
class Motion:
    """A trajectory under way: per joint, (end time, end position) of each remaining point."""

    goal_id: str
    joints: tuple[str, ...]
    points: list[tuple[float, np.ndarray]] = field(default_factory=list)


class KinematicRobot:
    """The stand-in's state: the base pose (odometry frame), its twist, named joints."""

    def __init__(self, spec: RobotSpec, ros: RosRobot):
        self.spec, self.ros = spec, ros
        self.drive = spec.diff_drive
        self.limits = {j.name: (j.lower, j.upper, j.max_velocity) for j in spec.joints}
        ranges = joint_ranges(spec.asset) if spec.upper_body is not None else {}
        body = spec.upper_body
        if ros.torso_joint and body is not None:
            self.limits[ros.torso_joint] = (*ranges[body.torso_joint], body.torso_max_speed)
        for ours, name in zip(body.head_joints if body else (), ros.head_joints, strict=False):
            self.limits[name] = (*ranges[ours], body.head_max_speed)
        self.head_speed = body.head_max_speed if body else 1.57
        for name in ros.gripper_joints:
            self.limits[name] = (*ranges.get(name, (0.0, math.inf)), GRIPPER_SPEED / 2)
        self.restart()

    def restart(self, joint_pos: dict[str, float] | None = None) -> None:
        """At rest at the odometry origin, the joints at `joint_pos` (else 0)."""
        self.time = 0.0
        self.pose = np.zeros(3)
        self.twist = np.zeros(2)
        self.asked = np.zeros(2)
        self.asked_at = -math.inf
        names = list(self.ros.wheel_joints) + list(self.limits)
        self.position = dict.fromkeys(names, 0.0)
        self.position.update(joint_pos or {})
        self.velocity = dict.fromkeys(names, 0.0)
        self.opening_target = self.opening
        self.head_target: np.ndarray | None = None
        self.motions: dict[str, Motion] = {}  # server -> its goal under way
        self.runstopped = False

    @property
    def opening(self) -> float:
        return sum(self.position[j] for j in self.ros.gripper_joints)

    # --- commands ------------------------------------------------------------------------------
    def cmd_vel(self, linear_x: float, angular_z: float) -> None:
        self.asked = np.array([linear_x, angular_z], dtype=np.float64)
        self.asked_at = self.time

    def follow(self, server: str, goal_id: str, joints, points) -> None:
        """A trajectory goal: `points` [(time_from_start s, positions)], replacing the goal
        under way on that server. Over the fingers (TIAGo's gripper) it also sets the opening
        the fingers then hold."""
        if points and set(joints) == set(self.ros.gripper_joints):
            self.opening_target = float(sum(points[-1][1]))
        start = self.time
        self.motions[server] = Motion(goal_id, tuple(joints), [
            (start + float(t), np.array(p, dtype=np.float64)) for t, p in points])

    def point_head(self, x: float, y: float, z: float) -> None:
        """Look at a point (m, base frame)."""
        torso = self.position.get(self.ros.torso_joint or "", 0.0)
        pan = math.atan2(y, x)
        tilt = math.atan2(self.ros.head_height + torso - z, math.hypot(x, y))
        self.head_target = np.array([pan, tilt])

    def grip(self, opening: float) -> None:
        self.opening_target = opening

    def cancel(self, server: str) -> Motion | None:
        return self.motions.pop(server, None)

    # --- time ----------------------------------------------------------------------------------
    def advance(self, dt: float) -> list[Motion]:
        """Move on `dt` s; the trajectories that finished in it."""
        self.time += dt
        self._drive(dt)
        done = []
        moving = set()
        for server, motion in list(self.motions.items()):
            moving.update(motion.joints)
            if self._track(motion, dt):
                done.append(self.motions.pop(server))
        if self.head_target is not None:
            for name, target in zip(self.ros.head_joints, self.head_target, strict=True):
                self._move(name, float(target), self.head_speed, dt)
        per_finger = self.opening_target / max(len(self.ros.gripper_joints), 1)
        for name in self.ros.gripper_joints:
            if name not in moving:  # a finger trajectory moves them itself
                self._move(name, per_finger, GRIPPER_SPEED / 2, dt)
        return done

    def asked_twist(self) -> np.ndarray:
        """What the base controller asks for now: the last twist, zero after its timeout or
        with the run-stop pressed."""
        if self.runstopped or self.time - self.asked_at > self.ros.cmd_vel_timeout:
            return np.zeros(2)
        return self.asked

    def _drive(self, dt: float) -> None:
        """The base on flat, empty floor: slewed twist, integrated pose."""
        d = self.drive
        if self.runstopped:
            self.twist[:] = 0.0
        else:
            asked = np.clip(self.asked_twist(), [-d.max_speed, -d.max_yaw_rate],
                            [d.max_speed, d.max_yaw_rate])
            step = np.array([d.max_accel, d.max_yaw_accel]) * dt
            self.twist += np.clip(asked - self.twist, -step, step)
        v, w = self.twist
        yaw = self.pose[2] + w * dt / 2
        self.pose += [v * math.cos(yaw) * dt, v * math.sin(yaw) * dt, w * dt]
        self.pose[2] = (self.pose[2] + math.pi) % (2 * math.pi) - math.pi
        self._turn_wheels(dt)

    def _turn_wheels(self, dt: float) -> None:
        d = self.drive
        v, w = self.twist
        n_left = len(self.ros.wheel_joints) // 2
        for i, name in enumerate(self.ros.wheel_joints):
            side = -1.0 if i < n_left else 1.0
            rate = (v + side * w * d.track / 2) / d.wheel_radius
            self.velocity[name] = rate
            self.position[name] += rate * dt

    def _track(self, motion: Motion, dt: float) -> bool:
        """Move towards the motion's next point; True when its last one is reached."""
        while motion.points:
            end, target = motion.points[0]
            left = end - self.time
            arrived = True
            for name, goal in zip(motion.joints, target, strict=True):
                limit = self.limits.get(name, (-math.inf, math.inf, 1.0))[2]
                need = abs(goal - self.position[name])
                speed = limit if left <= 0 else min(limit, need / max(left + dt, dt))
                arrived &= self._move(name, float(goal), speed, dt)
            if not arrived:
                return False
            motion.points.pop(0)
        return True

    def _move(self, name: str, goal: float, speed: float, dt: float) -> bool:
        """One joint at most `speed` towards `goal` (inside its range); True once there."""
        if name in self.limits:
            low, high, _ = self.limits[name]
            goal = min(max(goal, low), high)
        now = self.position[name]
        step = float(np.clip(goal - now, -speed * dt, speed * dt))
        self.position[name] = now + step
        self.velocity[name] = step / dt if dt > 0 else 0.0
        return abs(goal - self.position[name]) < 1e-9

    def scan(self) -> np.ndarray:
        """The scanner's ranges (m), right to left: nothing in range on empty floor."""
        d = self.drive
        return np.full(max(d.lidar_beams, 2), d.lidar_range)

    def place(self, poses: dict, colours: dict, base_pose) -> bool:
        """Set the world up for an episode (objects, the base's start); False: this stand-in
        has no world (the operator's business)."""
        return False

    def press_runstop(self) -> list[Motion]:
        """The drives lose power: the base stops, every goal ends (aborted)."""
        self.runstopped = True
        self.twist[:] = 0.0
        stopped, self.motions = list(self.motions.values()), {}
        return stopped


# Worlds a stand-in robot can live in besides empty floor, by name (`ros:emulator?world=NAME`):
# factory(robot spec, its ROS interfaces, the task's Cell) -> a KinematicRobot. The env layer
# registers "sim" (the robot's base in the task's MuJoCo scene, `envs/real/mobile_world.py`).
WORLDS: dict[str, Callable] = {}


def register_world(name: str, factory: Callable) -> None:
    WORLDS[name] = factory
