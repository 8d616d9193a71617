"""Scripted pushing and pressing, the building blocks of the PushToTarget and PressButton
experts: push an object across the table until its centre reaches a goal, press a button's
cap down. They read privileged state and emit `EeCommand`s, like `grasping.GraspSkill`.

Both act with the arm's *pusher*: what of the hand reaches lowest while the gripper holds the
layout's `pusher_gripper` command (the closed fingers of the Franka, the closed jaws of the
SO-100). The layout says where it is relative to the tool centre point (`pusher_offset`
along the tool's y, `pusher_depth` below); `pusher_point` turns a tool pose into the pusher's
bottom middle, which is what the skills steer and what the tasks' dense rewards measure.
"""

from __future__ import annotations

import math

import numpy as np

from librobot_gym.envs.tasks.base import EeCommand, WorldState
from librobot_gym.envs.tasks.grasping import tool_rotation
from librobot_gym.envs.tasks.lab_cell import TABLE_TOP
from librobot_gym.envs.tasks.tabletop_layouts import TabletopLayout

PUSH_GAP = 0.003  # m at scale 1: the pusher's bottom above the table while it pushes
PUSH_SPEED = 0.012  # m at scale 1: how far ahead of the pusher the push aims each step
LOOKAHEAD = 0.05  # m at scale 1: how far ahead on its line a push steers the object


def pusher_point(layout: TabletopLayout, ee_pos: np.ndarray, ee_rot: np.ndarray) -> np.ndarray:
    """The bottom middle of the pusher (world) for a tool at `ee_pos`, turned `ee_rot` (its z
    axis points along the approach, down)."""
    return ee_pos + layout.pusher_offset * ee_rot[:, 1] + layout.pusher_depth * ee_rot[:, 2]


def tool_for_pusher(layout: TabletopLayout, pusher: np.ndarray, rot: np.ndarray) -> np.ndarray:
    """The tool position that puts the pusher's bottom middle at `pusher` with the tool
    turned `rot` (the inverse of `pusher_point`)."""
    return pusher - layout.pusher_offset * rot[:, 1] - layout.pusher_depth * rot[:, 2]


def push_height(layout: TabletopLayout) -> float:
    """World height of the pusher's bottom while it pushes: just clear of the table, so the
    push lands low on the object (pushed high, a block tips over)."""
    return TABLE_TOP + PUSH_GAP * layout.object_scale


def push_start(layout: TabletopLayout, obj_pos: np.ndarray, goal_xy: np.ndarray,
               reach: float) -> np.ndarray:
    """Where the pusher's bottom goes down to start a push: behind the object (`reach`: its
    radius on the table, m) on the line from the goal through its centre, at push height."""
    direction = _unit(np.asarray(goal_xy[:2]) - obj_pos[:2])
    xy = obj_pos[:2] - direction * (reach + layout.pusher_half + 0.01 * layout.object_scale)
    return np.array([*xy, push_height(layout)])


def _unit(v: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(v))
    return v / norm if norm > 1e-9 else np.array([1.0, 0.0])


def _yaw_towards(layout: TabletopLayout, direction: np.ndarray) -> float:
    """The tool yaw that turns the pusher's front to face `direction`: the front is the
    tool's x axis, square to the closing direction (fingers and jaws are slim that way, the
    finger roots as slim as the tips). Either face of the pusher serves, so the tool turns at
    most a quarter turn from the layout's orientation (a wrist cannot turn much further one
    way: the Franka's last joint stops at about -1.6 rad of tool yaw)."""
    x0 = layout.tool_rot[:, 0]
    yaw = math.atan2(direction[1], direction[0]) - math.atan2(x0[1], x0[0])
    return (yaw + math.pi / 2) % math.pi - math.pi / 2


class PushSkill:
    """Push object `name` (radius `reach` on the table) until its centre reaches `goal_xy`.

    Phases: HOVER (above the start of the push, the pusher turned to face the goal), DESCEND
    (to just above the table behind the object), PUSH (onward at a steady speed behind the
    object, steering it back onto the line from where the push began to the goal), RETREAT
    (when the object slid off the pusher or went past the goal: up, then HOVER again over a
    new start).
    """

    HOVER, DESCEND, PUSH, RETREAT = range(4)
    CLOSE = PUSH  # the phase that acts on the object (GraspSkill's name for it; scripts that
    # show the moment of contact, like scripts/render_scenes.py, look for it)

    def __init__(self, layout: TabletopLayout, name: str, reach: float, top: float,
                 goal_xy: np.ndarray):
        self.layout, self.name, self.reach = layout, name, reach
        self.goal = np.asarray(goal_xy[:2], dtype=np.float64)
        # The pusher passes over the object's top (world z) by half the hover height: low, so
        # a short arm can still point its tool down.
        self.hover_z = top + layout.hover_height / 2
        self.reset()

    def reset(self) -> None:
        self.phase = self.HOVER
        self.yaw: float | None = None
        self._last_ee: np.ndarray | None = None

    def act(self, state: WorldState) -> EeCommand:
        lay = self.layout
        settled, self._last_ee = _settled(lay, self._last_ee, state), state.ee_pos.copy()
        obj = state.object_pos[self.name]
        if self.phase == self.PUSH:
            direction = self._steer(obj[:2])
        else:
            direction = _unit(self.goal - obj[:2])
        if self.phase == self.HOVER or self.yaw is None:
            self.yaw = _yaw_towards(lay, direction)
        elif self.phase == self.PUSH:  # the pusher's face turns with the steering
            turn = _yaw_towards(lay, direction) - self.yaw
            self.yaw += (turn + math.pi / 2) % math.pi - math.pi / 2
        rot = tool_rotation(lay, self.yaw)
        pusher = pusher_point(lay, state.ee_pos, state.ee_rot)
        start = push_start(lay, obj, self.goal, self.reach)
        grip = lay.pusher_gripper
        if self.phase == self.HOVER:
            above = np.array([*start[:2], self.hover_z])
            close = np.linalg.norm(pusher[:2] - start[:2]) < 2 * lay.approach_tolerance
            if close and abs(pusher[2] - above[2]) < 0.03 and \
                    _angle(rot, state.ee_rot) < 0.05 and settled:
                self.phase = self.DESCEND
            return EeCommand(tool_for_pusher(lay, above, rot), rot, grip)
        if self.phase == self.DESCEND:
            if np.linalg.norm(pusher[:2] - start[:2]) > 2 * lay.descend_abort:
                self.phase = self.HOVER
            elif abs(pusher[2] - start[2]) < 2 * lay.grasp_tolerance:
                self.phase = self.PUSH
                self._origin = obj[:2].copy()
                self._line = _unit(self.goal - obj[:2])
            return EeCommand(tool_for_pusher(lay, start, rot), rot, grip)
        if self.phase == self.PUSH:
            offset = pusher[:2] - obj[:2]
            along, across = float(offset @ direction), abs(float(offset @ _perp(direction)))
            contact = self.reach + lay.pusher_half
            passed = float((obj[:2] - self.goal) @ self._line) > self.reach
            if passed or across > 0.6 * self.reach or along > -0.5 * self.reach or \
                    along < -(contact + 0.04 * lay.object_scale):
                self.phase = self.RETREAT  # off the line, past the goal, or got away
            else:
                # Onward by the push speed, and back onto the line through the object.
                aim = pusher[:2] + direction * PUSH_SPEED * lay.object_scale \
                    - _perp(direction) * float(offset @ _perp(direction))
                target = np.array([*aim, start[2]])
                return EeCommand(tool_for_pusher(lay, target, rot), rot, grip)
        # RETREAT: straight up, then a fresh approach.
        up = np.array([*pusher[:2], self.hover_z])
        if pusher[2] > self.hover_z - 0.01:
            self.phase = self.HOVER
        return EeCommand(tool_for_pusher(lay, up, rot), rot, grip)

    def _steer(self, obj_xy: np.ndarray) -> np.ndarray:
        """The direction to push the object in now: towards a point `LOOKAHEAD` ahead of it
        on the line the push started on (pure pursuit), so it drifts back onto the line
        with a turn that stays gentle as the goal nears, however far it drifted."""
        along = float((obj_xy - self._origin) @ self._line)
        ahead = self._origin + self._line * (along + LOOKAHEAD * self.layout.object_scale)
        return _unit(ahead - obj_xy)


def _settled(layout: TabletopLayout, last: np.ndarray | None, state: WorldState) -> bool:
    """The tool moved at most the layout's settle step since `last` (always true without
    one): a slow arm has stopped swinging before it goes down."""
    step = layout.settle_step
    return not step or (last is not None and float(np.linalg.norm(state.ee_pos - last)) <= step)


def _perp(v: np.ndarray) -> np.ndarray:
    return np.array([-v[1], v[0]])


def _angle(a: np.ndarray, b: np.ndarray) -> float:
    """The angle (rad) of the rotation between two orientations."""
    cos = (np.trace(a @ b.T) - 1.0) / 2.0
    return math.acos(min(1.0, max(-1.0, cos)))


class PressSkill:
    """Press a button's cap (its top's middle at `cap_top`, world) down with the pusher.

    Phases: HOVER (above the cap, the hover height up), DESCEND (to just above it), PRESS
    (aim `depth` below the cap's top, past its travel: the cap's end stop takes the rest).
    If the pusher drifts off the cap, it goes back up and comes again.
    """

    HOVER, DESCEND, PRESS = range(3)
    CLOSE = PRESS  # the phase that acts on the button (as PushSkill.CLOSE)

    def __init__(self, layout: TabletopLayout, cap_top: np.ndarray, depth: float):
        self.layout = layout
        self.cap_top = np.asarray(cap_top, dtype=np.float64)
        self.depth = depth
        self.rot = tool_rotation(layout, 0.0)
        self.reset()

    def reset(self) -> None:
        self.phase = self.HOVER
        self._last_ee: np.ndarray | None = None

    def act(self, state: WorldState) -> EeCommand:
        lay = self.layout
        settled, self._last_ee = _settled(lay, self._last_ee, state), state.ee_pos.copy()
        pusher = pusher_point(lay, state.ee_pos, state.ee_rot)
        err_xy = float(np.linalg.norm(pusher[:2] - self.cap_top[:2]))
        scale = lay.object_scale
        above = self.cap_top + np.array([0.0, 0.0, lay.hover_height])
        touch = self.cap_top + np.array([0.0, 0.0, 0.004 * scale])
        if self.phase == self.HOVER:
            if err_xy < lay.approach_tolerance and abs(pusher[2] - above[2]) < 0.02 and \
                    _angle(self.rot, state.ee_rot) < 0.05 and settled:
                self.phase = self.DESCEND
            target = above
        elif err_xy > 2 * lay.descend_abort:
            self.phase, target = self.HOVER, above
        elif self.phase == self.DESCEND:
            if abs(pusher[2] - touch[2]) < lay.grasp_tolerance:
                self.phase = self.PRESS
            target = touch
        else:
            target = self.cap_top - np.array([0.0, 0.0, self.depth])
        return EeCommand(tool_for_pusher(lay, target, self.rot), self.rot, lay.pusher_gripper)


__all__ = ["PressSkill", "PushSkill", "push_height", "push_start", "pusher_point",
           "tool_for_pusher"]
