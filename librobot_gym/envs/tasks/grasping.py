"""A scripted top-down grasp, the building block of the tabletop experts: hover above an
object, turn the tool to one of its grasp yaws, descend, close, lift. It reads privileged state
and emits `EeCommand`s; distances and tolerances are the arm's `TabletopLayout`'s, grasp yaws
and heights the object kind's (`objects.py`).

Other skills (carry, release, push, press) build on the same pieces: `tool_rotation`,
`grasp_yaw` and the layout's numbers.
"""

from __future__ import annotations

import math

import numpy as np

from librobot_gym.envs.tasks.base import EeCommand, WorldState
from librobot_gym.envs.tasks.objects import KINDS
from librobot_gym.envs.tasks.placement import quat_yaw
from librobot_gym.envs.tasks.tabletop_layouts import TabletopLayout

OPEN, CLOSED = 1.0, -1.0


def tool_rotation(layout: TabletopLayout, yaw: float) -> np.ndarray:
    """The layout's tool orientation (pointing down) turned by `yaw` about the vertical."""
    c, s = math.cos(yaw), math.sin(yaw)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]]) @ layout.tool_rot


def grasp_yaw(kind: str, object_yaw: float) -> float:
    """The tool yaw (rad, within half a symmetry period of 0) that grasps a `kind` object
    turned by `object_yaw`: 0 for round things, else the object's yaw modulo its symmetry."""
    period = KINDS[kind].grasp_symmetry
    if period is None:
        return 0.0
    return (object_yaw + period / 2) % period - period / 2


class GraspSkill:
    """Grasp one object from above and lift it `layout.lift_to` above where it rested.

    Phases: APPROACH (over the object, hover height, turning to the grasp yaw), DESCEND,
    CLOSE (`close_steps` steps), LIFT, then `done` stays True while the object is held there.
    If the object slips out while lifting, the skill starts over.
    """

    APPROACH, DESCEND, CLOSE, LIFT = range(4)

    def __init__(self, layout: TabletopLayout, name: str, kind: str, rest_z: float):
        self.layout, self.name, self.kind = layout, name, kind
        scale = layout.object_scale
        spec = KINDS[kind]
        self.rest_z = rest_z  # world z of the object's origin at rest
        self.grasp_dz = spec.grasp_z * scale
        self.top_dz = (spec.height - spec.rest_z) * scale  # origin to top
        self.reset()

    def reset(self) -> None:
        self.phase = self.APPROACH
        self.closing_steps = 0
        self.yaw = 0.0
        self._lifted = False  # `done` is asked before the first LIFT step measures it
        self._last_ee: np.ndarray | None = None

    @property
    def done(self) -> bool:
        return self.phase == self.LIFT and self._lifted

    def _settled(self, state: WorldState) -> bool:
        """The tool moved at most the layout's settle step in the last step (always true
        without one)."""
        step = self.layout.settle_step
        last, self._last_ee = self._last_ee, state.ee_pos.copy()
        if not step:
            return True
        return last is not None and float(np.linalg.norm(state.ee_pos - last)) <= step

    def act(self, state: WorldState) -> EeCommand:
        lay = self.layout
        settled = self._settled(state)
        pos = state.object_pos[self.name]
        if self.phase in (self.APPROACH, self.DESCEND):
            self.yaw = grasp_yaw(self.kind, quat_yaw(state.object_quat[self.name]))
        rot = tool_rotation(lay, self.yaw)
        across = rot @ (lay.tool_rot.T @ np.array([0.0, 1.0, 0.0]))  # world y when yaw = 0
        grasp = pos + np.array([0.0, 0.0, self.grasp_dz]) + lay.jaw_offset_open * across
        hover = grasp.copy()
        hover[2] = pos[2] + self.top_dz + lay.hover_height
        err_xy = float(np.linalg.norm(state.ee_pos[:2] - grasp[:2]))
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
        close = pos + np.array([0.0, 0.0, self.grasp_dz]) + lay.jaw_offset_close * across
        if self.phase == self.CLOSE:
            self.closing_steps += 1
            if self.closing_steps >= lay.close_steps:
                self.phase = self.LIFT
                self._lift_xy = close[:2].copy()
            return EeCommand(close, rot, CLOSED)
        # LIFT: if the object slipped out before it rose, start over.
        lifted = pos[2] - self.rest_z
        self._lifted = bool(state.grasped[self.name]) and lifted >= lay.lift_success
        if not state.grasped[self.name] and lifted < 0.01:
            self.reset()
            return EeCommand(hover, rot, OPEN)
        target = np.array([*self._lift_xy, self.rest_z + self.grasp_dz + lay.lift_to])
        return EeCommand(target, rot, CLOSED)


def _angle(a: np.ndarray, b: np.ndarray) -> float:
    """The angle (rad) of the rotation between two orientations."""
    cos = (np.trace(a @ b.T) - 1.0) / 2.0
    return math.acos(min(1.0, max(-1.0, cos)))
