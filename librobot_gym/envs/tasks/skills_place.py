"""Scripted placing, the second half of pick-and-place experts: carry a held object over a spot,
turn it to line up where that matters (a block on a block), lower it until it nearly touches,
open the gripper, and rise clear. `PickPlaceExpert` chains it after a `GraspSkill` and starts
over when the object falls out on the way or lands beside the spot.

Like `GraspSkill` it reads privileged state and emits `EeCommand`s. It steers the held object,
not the tool: each command moves the tool by the object's error, so a grasp a little off centre
(the SO-100's one-sided jaw) still puts the object where it belongs.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from librobot_gym.envs.tasks.base import EeCommand, WorldState
from librobot_gym.envs.tasks.grasping import CLOSED, OPEN, GraspSkill, tool_rotation
from librobot_gym.envs.tasks.objects import KINDS
from librobot_gym.envs.tasks.placement import quat_yaw
from librobot_gym.envs.tasks.resting import wrap
from librobot_gym.envs.tasks.tabletop_layouts import TabletopLayout


@dataclass(frozen=True)
class PlaceGoal:
    """Where a held object goes: `point`, where its bottom centre should touch (world m);
    optionally a yaw, that the object (`turns="object"`: a block squared to the block under
    it) or the tool (`turns="tool"`: the jaws along a bin's long side, room for the fingers)
    should have modulo `period`; `over`, a height (world m) its bottom must clear on the way
    (the tallest thing on the table)."""

    point: np.ndarray
    yaw: float | None = None
    period: float = math.pi
    turns: str = "object"
    over: float = 0.0


Spot = Callable[[WorldState], PlaceGoal]

RELEASE_GAP = 0.004  # m at scale 1: let go this close above the surface
STALL_SPEED = 0.0005  # m per step at scale 1: slower than this, the object has stopped
STALL_STEPS = 3  # steps without sinking before it is let go where it is
RETRY_HIGHER = 0.004  # m at scale 1: how much higher each new grasp goes (twice at most)
STUCK_STEPS = 8  # steps a carry may go without coming STUCK_DISTANCE (m at scale 1) nearer
STUCK_DISTANCE = 0.01
DETOUR = 0.1  # m at scale 1 a stuck carry backs off towards the base,
DETOUR_STEPS = 10  # for this many steps,
MAX_DETOURS = 3  # at most this many times
ALIGN_TOLERANCE = 0.04  # rad: how well a block must be lined up before it goes down


def tallest(task, state: WorldState, name: str, to: np.ndarray) -> float:
    """The world height of the highest top among the episode's objects (a `TabletopTask`'s
    `active` ones, `name` aside) that stand in the way of `name` carried straight to `to`
    (xy): within their footprint and its own of that line. 0 where nothing does."""
    start, end = state.object_pos[name][:2], np.asarray(to[:2], dtype=np.float64)
    line = end - start
    length = float(line @ line)
    tops = []
    for other, placed in task.active.items():
        pos = state.object_pos[other]
        t = 0.0 if length == 0 else min(1.0, max(0.0, float((pos[:2] - start) @ line) / length))
        gap = float(np.linalg.norm(pos[:2] - (start + t * line)))
        if other != name and gap < task.footprint(other) + task.footprint(name):
            kind = KINDS[placed.kind]
            tops.append(float(pos[2]) + (kind.height - kind.rest_z) * task.scale)
    return max(tops, default=0.0)


def tool_yaw(layout: TabletopLayout, rot: np.ndarray) -> float:
    """The tool's turn about the vertical relative to the layout's pointing-down orientation
    (the inverse of `tool_rotation`)."""
    turn = rot @ layout.tool_rot.T
    return float(np.arctan2(turn[1, 0], turn[0, 0]))


class PlaceSkill:
    """Put the held object `name` down on the spot `spot(state)` names.

    Phases: CARRY (over the spot, as high as it was lifted and clear of `over`, turning to
    the spot's yaw where it has one; backing off towards the base when it makes no
    headway), LOWER (until its bottom is `RELEASE_GAP` above the
    surface or it stops sinking), RELEASE (open, fully or the layout's `release_margin` wider
    than it is held, for `close_steps` steps), RETREAT (the jaws
    held as wide as they opened, centred on it, then the tool `hover_height` above the
    object's top); then `done`. `dropped` turns True if the object leaves the gripper before
    it is let go (the caller grasps again).
    """

    CARRY, LOWER, RELEASE, RETREAT = range(4)

    def __init__(self, layout: TabletopLayout, name: str, kind: str, spot: Spot,
                 max_opening: float):
        self.layout, self.name, self.spot = layout, name, spot
        self.max_opening = max_opening
        self.opening = OPEN  # the gripper command while it rises
        spec, scale = KINDS[kind], layout.object_scale
        self.bottom_dz = spec.rest_z * scale  # origin above its bottom
        self.top_dz = (spec.height - spec.rest_z) * scale  # origin below its top
        self.gap = RELEASE_GAP * scale
        self.phase = self.CARRY
        self.dropped = False
        self.carry_z: float | None = None
        self.steps = 0
        self._risen = False
        self._rising = False
        self._last_z: float | None = None
        self._stall = 0
        self._progress: list[float] = []
        self.detours = 0
        self._detour: np.ndarray | None = None
        self._detour_steps = 0
        self._yaw: float | None = None  # the tool's yaw when the carry began
        self._hold: np.ndarray | None = None
        self._release = OPEN  # the gripper command that lets go
        self._rot: np.ndarray | None = None
        self._last_ee: np.ndarray | None = None

    @property
    def done(self) -> bool:
        return self.phase == self.RETREAT and self._risen

    def _settled(self, state: WorldState) -> bool:
        step = self.layout.settle_step
        last, self._last_ee = self._last_ee, state.ee_pos.copy()
        if not step:
            return True
        return last is not None and float(np.linalg.norm(state.ee_pos - last)) <= step

    def _stalled(self, item: np.ndarray) -> bool:
        """The object has stopped going down for `STALL_STEPS` steps: something under it
        (the container's floor, a wall it leans on) holds it up."""
        sinking = self._last_z is None or self._last_z - float(item[2]) > \
            STALL_SPEED * self.layout.object_scale
        self._stall = 0 if sinking else self._stall + 1
        return self._stall >= STALL_STEPS

    def _stuck(self, item: np.ndarray, err_xy: float) -> bool:
        """The object has not come `STUCK_DISTANCE` nearer the spot in `STUCK_STEPS` steps.
        (With its upper arm upright, the Franka's first and third joints line up and can
        lock against each other under the step-by-step IK: the tool then cannot go sideways
        until the arm leaves that pose, which backing off towards the base does.)"""
        self._progress.append(err_xy)
        if len(self._progress) <= STUCK_STEPS:
            return False
        before = self._progress.pop(0)
        if before - err_xy < STUCK_DISTANCE * self.layout.object_scale and \
                err_xy > self.layout.approach_tolerance:
            self._progress.clear()
            return True
        return False

    def _turn(self, state: WorldState, spot: PlaceGoal) -> float:
        """How far (rad) the tool still has to turn about the vertical for the spot's yaw:
        the object's yaw matched modulo the period by the shortest turn, or the tool's, by
        the turn that leaves it nearest its pointing-down orientation (joint limits)."""
        now = tool_yaw(self.layout, state.ee_rot)
        if self._yaw is None:
            self._yaw = now
        if spot.yaw is None:  # hold the yaw it was carried off with, not whatever it drifts to
            return wrap(self._yaw - now, 2 * math.pi)
        if spot.turns == "object":
            return wrap(spot.yaw - quat_yaw(state.object_quat[self.name]), spot.period)
        return wrap(wrap(spot.yaw, spot.period) - now, 2 * math.pi)

    def _release_command(self, state: WorldState) -> float:
        """The gripper command that lets go: fully open, or the layout's `release_margin`
        wider than the thing is held (the 2F-85's long fingers, opened fully inside a bowl,
        would grip its walls)."""
        margin = self.layout.release_margin
        if not margin:
            return OPEN
        wide = min(self.max_opening, state.gripper_opening + margin)
        return min(OPEN, 2.0 * wide / self.max_opening - 1.0)

    def act(self, state: WorldState) -> EeCommand:
        lay = self.layout
        settled = self._settled(state)
        item = state.object_pos[self.name]
        if self.phase in (self.CARRY, self.LOWER):
            if not state.grasped[self.name]:
                self.dropped = True
                return EeCommand(state.ee_pos.copy(), state.ee_rot.copy(), OPEN)
            spot = self.spot(state)
            point = spot.point
            turn = self._turn(state, spot)
            self._rot = tool_rotation(lay, tool_yaw(lay, state.ee_rot) + turn)
            if self.carry_z is None:
                self.carry_z = self.bottom_dz + max(float(item[2]) - self.bottom_dz,
                                                    point[2] + lay.hover_height,
                                                    spot.over + lay.hover_height / 2)
            err_xy = float(np.linalg.norm(item[:2] - point[:2]))
            if self.phase == self.CARRY:
                if self._detour_steps > 0:
                    self._detour_steps -= 1
                    return EeCommand(self._detour, self._rot, CLOSED)
                if self._stuck(item, err_xy) and self.detours < MAX_DETOURS:
                    # A pose that cannot go that way: back off towards the base a while.
                    inwards = -state.ee_pos[:2] / max(float(np.hypot(*state.ee_pos[:2])), 1e-6)
                    self._detour = state.ee_pos + np.array([*(DETOUR * lay.object_scale
                                                               * inwards), 0.0])
                    self._detour_steps = DETOUR_STEPS - 1
                    self.detours += 1
                    return EeCommand(self._detour, self._rot, CLOSED)
                goal = np.array([point[0], point[1], self.carry_z])
                if err_xy < lay.approach_tolerance and abs(turn) < ALIGN_TOLERANCE and settled:
                    self.phase = self.LOWER
            else:
                # Aim a little below the surface, so the object comes down onto it whatever
                # the arm's tracking error; let go once it is close or has stopped sinking.
                touch = point[2] + self.bottom_dz
                goal = np.array([point[0], point[1], touch - self.gap])
                if err_xy > lay.descend_abort:
                    self.phase = self.CARRY
                elif err_xy < lay.approach_tolerance * 1.5 and (
                        item[2] - touch < self.gap or self._stalled(item)):
                    self.phase = self.RELEASE
                    self._hold = state.ee_pos.copy()
                self._last_z = float(item[2])
            return EeCommand(state.ee_pos + (goal - item), self._rot, CLOSED)
        if self.phase == self.RELEASE:
            if self.steps == 0:
                self._release = self._release_command(state)
            self.steps += 1
            if self.steps >= lay.close_steps:
                self.phase = self.RETREAT
                # Hold the jaws as wide as they got: one that a container's wall stopped
                # would press on it all the way up and lift the container.
                self.opening = min(self._release, 2.0 * state.gripper_opening
                                   / self.max_opening - 1.0 + 0.1)
            return EeCommand(self._hold, self._rot, self._release)
        # RETREAT: centre the open jaws on the object (where the grasp came down: a one-sided
        # jaw rests against it after opening and would drag it up), then straight up until
        # the tool is a hover height above the object's top.
        across = self._rot @ (lay.tool_rot.T @ np.array([0.0, 1.0, 0.0]))
        up = self._hold.copy()
        up[:2] = item[:2] + lay.jaw_offset_open * across[:2]
        self.steps += 1
        self._rising |= bool(np.linalg.norm(state.ee_pos[:2] - up[:2]) <
                             lay.approach_tolerance or self.steps >= 2 * lay.close_steps)
        if self._rising:
            up[2] = max(up[2], float(item[2]) + self.top_dz + lay.hover_height)
        self._risen = float(state.ee_pos[2]) >= up[2] - 0.01 * lay.object_scale and \
            up[2] > self._hold[2]
        return EeCommand(up, self._rot, self.opening)


class PickPlaceExpert:
    """Grasp the task's `target` (`GraspSkill`), then put it on `spot(state)` (`PlaceSkill`).

    If the object falls out on the way, or the placement is over and `placed(state)` says it
    missed while the object is back on the table, it grasps again (a little higher each time
    a grasp slips). Once placed, it
    holds the tool still above: the task's steady time runs while nothing moves."""

    def __init__(self, task, spot: Spot, placed: Callable[[WorldState], bool]):
        self.task, self.spot, self.placed = task, spot, placed
        self.reset()

    @property
    def skill(self) -> GraspSkill | None:
        """The grasp of this episode (scripts that show the moment the gripper closes watch
        its phase, as they watch PickCup-v1's expert's)."""
        return self.grasp

    def reset(self) -> None:
        self.grasp: GraspSkill | None = None
        self.place: PlaceSkill | None = None
        self.attempts = 0
        self._phase = GraspSkill.APPROACH

    def act(self, state: WorldState) -> EeCommand:
        task = self.task
        name = task.target
        if self.grasp is None or self.grasp.name != name:
            self._start_over(name)
        if self.place is not None:
            command = self.place.act(state)
            missed = self.place.done and not self.placed(state) and \
                task.lift(state, name) < 0.01 * task.scale
            if not (self.place.dropped or missed):
                return command
            self._start_over(name)
        command = self.grasp.act(state)
        if self.grasp.phase < self._phase:  # it slipped out and the grasp started over
            self._retry()
        self._phase = self.grasp.phase
        lifted = self.grasp.phase == GraspSkill.LIFT and state.grasped[name] and \
            task.lift(state, name) >= task.layout.lift_success / 2
        if lifted:  # held clear of the table: carry it over (it rises on the way)
            self.place = PlaceSkill(task.layout, name, task.kinds[name], self.spot,
                                    task.robot.gripper.max_opening)
            return self.place.act(state)
        return command

    def _start_over(self, name: str) -> None:
        task = self.task
        self.grasp = GraspSkill(task.layout, name, task.kinds[name], task.rest_z(name))
        self._phase = GraspSkill.APPROACH
        self.place = None
        if self.attempts:
            self._retry()

    def _retry(self) -> None:
        """Grasp a little higher next time (`RETRY_HIGHER`, twice at most): a grasp that
        slipped once at one height slips again (the SO-100's pivoting jaw meets a block's
        top edge at an angle; higher up, it closes over it)."""
        self.attempts += 1
        self.grasp.grasp_dz = KINDS[self.grasp.kind].grasp_z * self.task.scale + \
            min(self.attempts, 2) * RETRY_HIGHER * self.task.scale


__all__ = ["PickPlaceExpert", "PlaceGoal", "PlaceSkill", "Spot", "tallest", "tool_yaw"]
