"""A scripted pull: grasp a drawer's handle from above and slide the drawer along its rails,
out (open) or in (close). The building block of the OpenDrawer and CloseDrawer experts.

It reads privileged state (the cabinet's pose, which the task knows, and the drawer's joint
position, `WorldState.object_joints`) and emits `EeCommand`s, as `grasping.GraspSkill` does;
distances and tolerances are the arm's `TabletopLayout`'s, the handle's place the object set's
(`objects.CABINET_PULL`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from librobot_gym.envs.tasks.base import EeCommand, WorldState
from librobot_gym.envs.tasks.grasping import CLOSED, OPEN, tool_rotation
from librobot_gym.envs.tasks.objects import CABINET_PULL, CABINET_TRAVEL
from librobot_gym.envs.tasks.tabletop_layouts import TabletopLayout

BAR_HALF = 0.025  # m at scale 1: half the pull bar's height, its caps included
GRASP_HIGH = 0.6  # the fingers close this fraction of the bar's half height above its middle


@dataclass(frozen=True)
class Pull:
    """A small cabinet's drawer as an expert sees it: where the cabinet stands (its origin,
    world), how it is turned (yaw, rad), its scale, and the key of its drawer's joint in
    `WorldState.object_joints` ("<object>/drawer")."""

    pos: np.ndarray
    yaw: float
    scale: float
    joint: str

    @property
    def axis(self) -> np.ndarray:
        """The world direction (unit, horizontal) the drawer slides out along: -x of the
        cabinet."""
        return -np.array([math.cos(self.yaw), math.sin(self.yaw), 0.0])

    @property
    def travel(self) -> float:
        return CABINET_TRAVEL * self.scale

    def handle(self, q: float) -> np.ndarray:
        """The world position of the pull bar's middle with the drawer `q` m out."""
        c, s = math.cos(self.yaw), math.sin(self.yaw)
        x, y, z = (v * self.scale for v in CABINET_PULL)
        x -= q
        return self.pos + np.array([c * x - s * y, s * x + c * y, z])


class PullSkill:
    """Grasp a drawer's pull bar and slide the drawer to `goal` (m out: its travel to open,
    a little below 0 to push it shut).

    Phases: APPROACH (over the bar at the hover height, the tool turned so its fingers close
    across the bar), DESCEND, CLOSE (`close_steps` steps), SLIDE (the tool leads the bar by at
    most `lead` along the rails, so the drawer follows the hand, not the other way round;
    sideways it stays where the closing fingers put it: a jaw gripper's hand moves until its
    fixed jaw meets the bar),
    then `done` once the drawer is within `tolerance` of the goal. If the bar slips out of the
    fingers while sliding, the skill lets go, rises and starts over.
    """

    APPROACH, DESCEND, CLOSE, SLIDE, RETREAT = range(5)

    def __init__(self, layout: TabletopLayout, pull: Pull, goal: float,
                 tolerance: float | None = None):
        self.layout, self.pull, self.goal = layout, pull, goal
        scale = pull.scale
        self.tolerance = 0.05 * pull.travel if tolerance is None else tolerance
        self.lead = 0.02 * scale
        self.slip = 0.025 * scale  # tool this far from the bar while sliding: it slipped
        # Fingers on the bar's upper part: a jaw that swings shut reaches below its tool
        # centre (the SO-100's moving pad, 37 mm), and must not scrape the table.
        self.grasp_dz = GRASP_HIGH * BAR_HALF * scale
        self.hover_dz = BAR_HALF * scale + layout.hover_height
        self.yaw = (pull.yaw + math.pi / 2) % math.pi - math.pi / 2  # fingers across the bar
        self.reset()

    def reset(self) -> None:
        self.phase = self.APPROACH
        self.closing_steps = 0
        self.offset = 0.0  # the tool's sideways offset from the bar, as the fingers held it
        self._last_ee: np.ndarray | None = None

    def q(self, state: WorldState) -> float:
        return float(state.object_joints.get(self.pull.joint, 0.0))

    def reached(self, state: WorldState) -> bool:
        """The drawer is within the tolerance of the goal (or past it, pushing into a stop)."""
        q, goal = self.q(state), self.goal
        if goal >= self.pull.travel - self.tolerance:
            return q >= goal - self.tolerance
        if goal <= self.tolerance:
            return q <= goal + self.tolerance
        return abs(q - goal) <= self.tolerance

    @property
    def done(self) -> bool:
        return self.phase == self.SLIDE and self._reached

    def _settled(self, state: WorldState) -> bool:
        step = self.layout.settle_step
        last, self._last_ee = self._last_ee, state.ee_pos.copy()
        if not step:
            return True
        return last is not None and float(np.linalg.norm(state.ee_pos - last)) <= step

    def act(self, state: WorldState) -> EeCommand:
        lay = self.layout
        settled = self._settled(state)
        rot = tool_rotation(lay, self.yaw)
        across = rot @ (lay.tool_rot.T @ np.array([0.0, 1.0, 0.0]))
        q = self.q(state)
        bar = self.pull.handle(q) + np.array([0.0, 0.0, self.grasp_dz])
        grasp = bar + lay.jaw_offset_open * across
        hover = grasp + np.array([0.0, 0.0, self.hover_dz])
        err_xy = float(np.linalg.norm(state.ee_pos[:2] - grasp[:2]))
        self._reached = self.reached(state)
        if self.phase == self.RETREAT:
            if state.ee_pos[2] > hover[2] - 0.01 or err_xy > lay.descend_abort * 4:
                self.reset()
            return EeCommand(np.array([*state.ee_pos[:2], hover[2]]), rot, OPEN)
        if self.phase == self.APPROACH:
            turned = _angle(rot, state.ee_rot) < 0.05
            if err_xy < lay.approach_tolerance and abs(state.ee_pos[2] - hover[2]) < 0.03 \
                    and turned and settled:
                self.phase = self.DESCEND
            return EeCommand(hover, rot, OPEN)
        if self.phase == self.DESCEND:
            if err_xy > lay.descend_abort:
                self.phase = self.APPROACH
            elif np.linalg.norm(state.ee_pos - grasp) < lay.grasp_tolerance:
                self.phase = self.CLOSE
            return EeCommand(grasp, rot, OPEN)
        if self.phase == self.CLOSE:
            self.closing_steps += 1
            if self.closing_steps >= lay.close_steps:
                # A jaw closing on a bar that cannot move sideways moves the hand instead
                # (until the fixed jaw meets the bar): hold the hand where it went.
                self.phase = self.SLIDE
                self.offset = float((state.ee_pos - bar) @ across)
            return EeCommand(bar + lay.jaw_offset_close * across, rot, CLOSED)
        hold = bar + self.offset * across
        # SLIDE: lead the bar towards the goal along the rails; start over if it slipped.
        if np.linalg.norm(state.ee_pos - hold) > self.slip + self.lead:
            self.phase = self.RETREAT
            return EeCommand(np.array([*state.ee_pos[:2], hover[2]]), rot, OPEN)
        if self._reached:
            return EeCommand(hold, rot, CLOSED)
        step = float(np.clip(self.goal - q, -self.lead, self.lead))
        return EeCommand(hold + step * self.pull.axis, rot, CLOSED)


def _angle(a: np.ndarray, b: np.ndarray) -> float:
    """The angle (rad) of the rotation between two orientations."""
    cos = (np.trace(a @ b.T) - 1.0) / 2.0
    return math.acos(min(1.0, max(-1.0, cos)))


__all__ = ["Pull", "PullSkill"]
