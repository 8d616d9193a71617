"""Scripted placing, the second half of pick-and-place experts: carry a held object over a spot,
turn it to line up where that matters (a block on a block), lower it until it nearly touches,
open the gripper, and rise clear. `PickPlaceExpert` chains it after a `GraspSkill` and starts
over when the object falls out on the way or lands beside the spot.

Like `GraspSkill` it reads privileged state and emits `EeCommand`s. It steers the held object,
not the tool: each command moves the tool by the object's error, so a grasp a little off centre
(the SO-100's one-sided jaw) still puts the object where it belongs.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from librobot_gym.envs.tasks.base import EeCommand, WorldState
from librobot_gym.envs.tasks.grasping import CLOSED, OPEN, GraspSkill, tool_rotation
from librobot_gym.envs.tasks.objects import KINDS
from librobot_gym.envs.tasks.placement import quat_yaw
from librobot_gym.envs.tasks.resting import wrap
from librobot_gym.envs.tasks.tabletop_layouts import TabletopLayout

# Where the object goes: (the point its bottom centre should touch, world m; the yaw it should
# have there, or None where any yaw will do).
Spot = Callable[[WorldState], tuple[np.ndarray, float | None]]

RELEASE_GAP = 0.004  # m at scale 1: how far above the surface the object is let go
STALL_SPEED = 0.0005  # m per step at scale 1: slower than this, the object has stopped
STALL_STEPS = 3  # steps without sinking before it is let go where it is
ALIGN_TOLERANCE = 0.04  # rad: how well a block must be lined up before it goes down


def tool_yaw(layout: TabletopLayout, rot: np.ndarray) -> float:
    """The tool's turn about the vertical relative to the layout's pointing-down orientation
    (the inverse of `tool_rotation`)."""
    turn = rot @ layout.tool_rot.T
    return float(np.arctan2(turn[1, 0], turn[0, 0]))


class PlaceSkill:
    """Put the held object `name` down on the spot `spot(state)` names.

    Phases: CARRY (over the spot at the height it was lifted to, turning it to the spot's yaw
    modulo `period` where the spot has one), LOWER (its bottom `RELEASE_GAP` above the
    surface, within the layout's grasp tolerance, or until it stops sinking), RELEASE (open for `close_steps` steps), RETREAT (the tool `hover_height` above
    the object's top); then `done`. `dropped` turns True if the object leaves the gripper
    before it is let go (the caller grasps again).
    """

    CARRY, LOWER, RELEASE, RETREAT = range(4)

    def __init__(self, layout: TabletopLayout, name: str, kind: str, spot: Spot):
        self.layout, self.name, self.spot = layout, name, spot
        spec, scale = KINDS[kind], layout.object_scale
        self.bottom_dz = spec.rest_z * scale  # origin above its bottom
        self.top_dz = (spec.height - spec.rest_z) * scale  # origin below its top
        self.period = spec.grasp_symmetry
        self.gap = RELEASE_GAP * scale
        self.phase = self.CARRY
        self.dropped = False
        self.carry_z: float | None = None
        self.steps = 0
        self._risen = False
        self._last_z: float | None = None
        self._stall = 0
        self._hold: np.ndarray | None = None
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

    def act(self, state: WorldState) -> EeCommand:
        lay = self.layout
        settled = self._settled(state)
        item = state.object_pos[self.name]
        if self.phase in (self.CARRY, self.LOWER):
            if not state.grasped[self.name]:
                self.dropped = True
                return EeCommand(state.ee_pos.copy(), state.ee_rot.copy(), OPEN)
            point, yaw = self.spot(state)
            turn = 0.0
            if yaw is not None and self.period is not None:
                turn = wrap(yaw - quat_yaw(state.object_quat[self.name]), self.period)
            self._rot = tool_rotation(lay, tool_yaw(lay, state.ee_rot) + turn)
            if self.carry_z is None:
                self.carry_z = max(float(item[2]),
                                   point[2] + self.bottom_dz + lay.hover_height)
            err_xy = float(np.linalg.norm(item[:2] - point[:2]))
            if self.phase == self.CARRY:
                goal = np.array([point[0], point[1], self.carry_z])
                if err_xy < lay.approach_tolerance and abs(turn) < ALIGN_TOLERANCE and settled:
                    self.phase = self.LOWER
            else:
                goal = np.array([point[0], point[1], point[2] + self.bottom_dz + self.gap])
                if err_xy > lay.descend_abort:
                    self.phase = self.CARRY
                elif err_xy < lay.approach_tolerance * 1.5 and (
                        abs(item[2] - goal[2]) < lay.grasp_tolerance or self._stalled(item)):
                    self.phase = self.RELEASE
                    self._hold = state.ee_pos + (goal - item)
                self._last_z = float(item[2])
            return EeCommand(state.ee_pos + (goal - item), self._rot, CLOSED)
        if self.phase == self.RELEASE:
            self.steps += 1
            if self.steps >= lay.close_steps:
                self.phase = self.RETREAT
            return EeCommand(self._hold, self._rot, OPEN)
        # RETREAT: straight up until the tool is a hover height above the object's top.
        up = self._hold.copy()
        up[2] = max(up[2], float(item[2]) + self.top_dz + lay.hover_height)
        self._risen = float(state.ee_pos[2]) >= up[2] - 0.01 * lay.object_scale
        return EeCommand(up, self._rot, OPEN)


class PickPlaceExpert:
    """Grasp the task's `target` (`GraspSkill`), then put it on `spot(state)` (`PlaceSkill`).

    If the object falls out on the way, or the placement is over and `placed(state)` says it
    missed while the object stands upright on the table, it grasps again. Once placed, it
    holds the tool still above: the task's steady time runs while nothing moves."""

    def __init__(self, task, spot: Spot, placed: Callable[[WorldState], bool]):
        self.task, self.spot, self.placed = task, spot, placed
        self.reset()

    def reset(self) -> None:
        self.grasp: GraspSkill | None = None
        self.place: PlaceSkill | None = None

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
        if self.grasp.done:  # held at the lift height: carry it over
            self.place = PlaceSkill(task.layout, name, task.kinds[name], self.spot)
            return self.place.act(state)
        return command

    def _start_over(self, name: str) -> None:
        task = self.task
        self.grasp = GraspSkill(task.layout, name, task.kinds[name], task.rest_z(name))
        self.place = None


__all__ = ["PickPlaceExpert", "PlaceSkill", "tool_yaw"]
