"""Scripted experts for mobile manipulators, from privileged state: drive, face, raise the
torso, then hand over to a tabletop arm skill.

DRIVE follows the episode's cost-to-go to the stand (`mobile_pick_cup_stand.route`) by pure
pursuit as NavigateTo's expert does, slowing so it can stop on the stand (v <= sqrt(a d));
FACE turns on the spot to the point the stand faces; TORSO lifts the torso to the work
height; ARM runs the task's skill (`GraspSkill` for a cup, `PullSkill` for a drawer), whose
world-frame `EeCommand`s become the mode's base-frame tool deltas. The base stays still
from FACE on. Robot-generic: the twist, tool, torso and gripper dims are found by name in
the robot's `base_twist+ee_delta_pose` mode; the hand's orientation at base yaw 0 comes from
`robot.task_layouts["mobile"]["tool_rot"]` where the robot gives one (Fetch's convention:
tool x along the fingers, the fingers closing along y, is the default).
"""

from __future__ import annotations

import math

import numpy as np

from librobot_gym.envs.tasks import floor_grid as fg
from librobot_gym.envs.tasks.base import EeCommand, WorldState
from librobot_gym.envs.tasks.grasping import GraspSkill
from librobot_gym.envs.tasks.indoor import GRID, HALF, TABLE_HEIGHT, WALL_HEIGHT
from librobot_gym.envs.tasks.mobile_pick_cup_stand import ARRIVED, mobile_layout, torso_for
from librobot_gym.envs.tasks.navigate_to_expert import (
    LOOKAHEAD,
    MAX_TURN,
    TURN_GAIN,
    TURN_IN_PLACE,
)
from librobot_gym.envs.tasks.tabletop_layouts import TabletopLayout

CRUISE = 0.7  # m/s
FACED = 0.03  # rad: facing the aim within this
GAIN = 0.8  # of the tool's pose error per step (as the tabletop experts' `ee_command_to_action`)
TORSO_GAIN = 2.0  # 1/s
READY_TOLERANCE = 0.04  # m


def hand_rotation(robot, heading: float) -> np.ndarray:
    """The tool orientation for a level hand pointing along `heading` (rad, world)."""
    base = np.asarray(mobile_layout(robot)["tool_rot"], float)
    c, s = math.cos(heading), math.sin(heading)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]]) @ base


def grasp_layout(robot, heading: float, scale: float, lift_success: float) -> TabletopLayout:
    """The grasping skills' numbers for a level hand facing `heading`: the skills read the
    tool orientation, hover height, lift, closing time and tolerances; the table and camera
    fields of a tabletop layout do not apply to a room (they hold the flat's size)."""
    return TabletopLayout(
        object_scale=scale, table_centre_x=0.0, table_half_size=HALF, leg_offset=HALF,
        place_x_range=(0.0, 0.0), place_y_range=(0.0, 0.0), reach_x_range=(0.0, 0.0),
        reach_y_range=(0.0, 0.0), clearance=0.06, room_half_size=HALF, room_centre=(0.0, 0.0),
        wall_height=WALL_HEIGHT, cameras={}, tool_rot=hand_rotation(robot, heading),
        hover_height=0.03, lift_success=lift_success, lift_to=lift_success + 0.05,
        close_steps=8, approach_tolerance=0.01, grasp_tolerance=0.01, descend_abort=0.03,
        settle_step=0.004)


class MobileArmExpert:
    """Subclasses give `skill(state)`: the arm skill to run once the base stands (built
    when ARM begins). The torso rises for the height of the target's table."""

    DRIVE, FACE, TORSO, READY, ARM = range(5)

    def __init__(self, task):
        self.task = task
        self.spec = task.robot.control_mode(task.expert_control_mode)
        names = [d.name for d in self.spec.dims]
        self._twist = names.index("forward_speed"), names.index("yaw_rate")
        self._tool = [names.index(n) for n in ("dx", "dy", "dz", "droll_x", "dpitch_y",
                                                "dyaw_z")]
        self._torso = names.index("torso_speed")
        self._gripper = names.index("gripper")
        self._accel = task.robot.diff_drive.max_accel
        self._layout = mobile_layout(task.robot)
        self.reset()

    def reset(self) -> None:
        self.phase = self.DRIVE
        self.arm = None
        self._torso_last: float | None = None

    # --- what subclasses give ---------------------------------------------------------------
    def height(self) -> float:
        """The work height (m) the torso rises for: the target's table's."""
        ep = self.task.episode
        return TABLE_HEIGHT[ep.items[ep.target].table]

    def skill(self, state: WorldState):
        raise NotImplementedError

    # --- acting ----------------------------------------------------------------------------
    def act(self, state: WorldState) -> np.ndarray:
        ep = self.task.episode
        x, y, yaw = (state.extras[k] for k in ("base_x", "base_y", "base_yaw"))
        stand = ep.way.stand
        if self.phase == self.DRIVE:
            if math.hypot(stand.x - x, stand.y - y) < ARRIVED:
                self.phase = self.FACE
            else:
                return self._action(*self._pursue(ep, x, y, yaw))
        if self.phase == self.FACE:
            err = _wrap(math.atan2(stand.aim[1] - y, stand.aim[0] - x) - yaw)
            if abs(err) > FACED or abs(state.extras["base_yaw_rate"]) > 0.05:
                return self._action(0.0, float(np.clip(2.0 * err, -1.0, 1.0)))
            self.phase = self.TORSO
        if self.phase == self.TORSO:
            torso = state.extras["torso"]
            gap = torso_for(self.height()) - torso
            stalled = self._torso_last is not None and abs(torso - self._torso_last) < 1e-4
            self._torso_last = torso
            if abs(gap) > 0.008 and not stalled:  # (stalled: at the top of its travel)
                return self._action(torso=float(np.clip(TORSO_GAIN * gap, -0.1, 0.1)))
            self.phase = self.READY
        if self.phase == self.READY:
            ready = self._ready(x, y, yaw)
            if np.linalg.norm(ready.target_pos - state.ee_pos) > READY_TOLERANCE or \
                    np.linalg.norm(rotation_vector(ready.target_rot @ state.ee_rot.T)) > 0.1:
                return self._arm(state, ready, yaw)
            self.phase = self.ARM
            self.arm = self.skill(state)
        return self._arm(state, self.arm.act(state), yaw)

    def _ready(self, x: float, y: float, yaw: float) -> EeCommand:
        """The hand level, `ready_ahead` in front of the base (`ready_side` to its left) and
        `ready_above` the work height (the robot's mobile layout): out of the tuck and clear
        of what stands on the table before the skill."""
        c, s = math.cos(yaw), math.sin(yaw)
        ahead, side = self._layout["ready_ahead"], self._layout["ready_side"]
        pos = np.array([x + ahead * c - side * s, y + ahead * s + side * c,
                        self.height() + self._layout["ready_above"]])
        return EeCommand(pos, hand_rotation(self.task.robot, yaw), 1.0)

    def _pursue(self, ep, x: float, y: float, yaw: float) -> tuple[float, float]:
        cell = GRID.index(x, y)
        field = ep.expert if math.isfinite(ep.expert[cell]) else ep.goal
        stand = ep.way.stand
        if field[cell] <= 0.0:  # in the arrival disc's cells, not yet near its middle
            gx, gy = stand.x, stand.y
        else:
            gx, gy = GRID.centre(*fg.descend(GRID, field, cell, LOOKAHEAD))
        alpha = _wrap(math.atan2(gy - y, gx - x) - yaw)
        if abs(alpha) > TURN_IN_PLACE:
            return 0.0, math.copysign(min(TURN_GAIN * abs(alpha), MAX_TURN), alpha)
        to_go = ep.way.to_go(x, y) + math.hypot(stand.x - x, stand.y - y) * (field[cell] <= 0)
        v = min(CRUISE * (1.0 - 0.6 * abs(alpha) / TURN_IN_PLACE),
                max(0.08, 0.8 * math.sqrt(self._accel * to_go)))
        distance = max(math.hypot(gx - x, gy - y), 0.2)
        w = min(max(2.0 * v * math.sin(alpha) / distance + 0.5 * alpha, -MAX_TURN), MAX_TURN)
        return v, w

    def _action(self, v: float = 0.0, w: float = 0.0, torso: float = 0.0) -> np.ndarray:
        physical = np.zeros(self.spec.size)
        physical[list(self._twist)] = v, w
        physical[self._torso] = torso
        physical[self._gripper] = 1.0
        return np.clip(self.spec.to_normalised(physical), -1.0, 1.0).astype(np.float32)

    def _arm(self, state: WorldState, command: EeCommand, yaw: float) -> np.ndarray:
        """The command's tool pose error (world) as base-frame deltas, the base still."""
        c, s = math.cos(yaw), math.sin(yaw)
        dp = GAIN * (command.target_pos - state.ee_pos)
        dr = GAIN * rotation_vector(command.target_rot @ state.ee_rot.T)
        physical = np.zeros(self.spec.size)
        physical[self._tool] = (c * dp[0] + s * dp[1], -s * dp[0] + c * dp[1], dp[2],
                                c * dr[0] + s * dr[1], -s * dr[0] + c * dr[1], dr[2])
        physical[self._gripper] = command.gripper
        return np.clip(self.spec.to_normalised(physical), -1.0, 1.0).astype(np.float32)


def _wrap(angle: float) -> float:
    return (angle + math.pi) % (2 * math.pi) - math.pi


def rotation_vector(rot: np.ndarray) -> np.ndarray:
    """Axis times angle (rad) of a 3x3 rotation (numpy: tasks know nothing of MuJoCo)."""
    cos = min(1.0, max(-1.0, (float(np.trace(rot)) - 1.0) / 2.0))
    angle = math.acos(cos)
    skew = np.array([rot[2, 1] - rot[1, 2], rot[0, 2] - rot[2, 0], rot[1, 0] - rot[0, 1]])
    if angle < 1e-6:
        return skew / 2.0
    if math.pi - angle < 1e-3:  # a half turn: the axis from the symmetric part
        axis = np.sqrt(np.maximum((np.diag(rot) + 1.0) / 2.0, 0.0))
        axis *= np.where(skew >= 0, 1.0, -1.0)
        return angle * axis / max(np.linalg.norm(axis), 1e-9)
    return angle * skew / (2.0 * math.sin(angle))


class MobilePickCupExpert(MobileArmExpert):
    """Drives to the named cup's stand, then grasps it with a level hand and lifts it
    (`GraspSkill`)."""

    def skill(self, state: WorldState) -> GraspSkill:
        task, ep = self.task, self.task.episode
        cup = ep.items[ep.target]
        layout = grasp_layout(task.robot, state.extras["base_yaw"], task.cup_scale,
                              task.lift_success)
        return GraspSkill(layout, ep.target, "cup", float(cup.pos[2]))


__all__ = ["MobileArmExpert", "MobilePickCupExpert", "grasp_layout", "hand_rotation"]
