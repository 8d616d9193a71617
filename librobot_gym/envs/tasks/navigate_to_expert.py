"""NavigateTo's scripted expert: pure pursuit along the planner's distance field.

Privileged state: the base's pose (`WorldState.extras`) and the episode's cost-to-go field
(Dijkstra from the success region on the floor grid, clearance-weighted, `navigate_to.plan`).
Each step it follows the field downhill LOOKAHEAD m from the base's cell (a fresh plan from
wherever the base is, for free) and steers at that point: turning on the spot while it lies
more than TURN_IN_PLACE off the heading, else the pure-pursuit arc (curvature 2 sin a / L)
at a speed that drops as the heading error grows.
"""

from __future__ import annotations

import math

import numpy as np

from librobot_gym.envs.tasks import floor_grid as fg
from librobot_gym.envs.tasks.indoor import GRID

LOOKAHEAD = 0.6  # m along the path
CRUISE = 0.8  # m/s
TURN_IN_PLACE = 0.9  # rad
TURN_GAIN = 2.0  # 1/s: yaw rate per rad of heading error when turning on the spot
MAX_TURN = 1.6  # rad/s


class NavigateToExpert:
    """`act(state)` -> a normalised action of the task's `expert_control_mode`: the twist in
    its `forward_speed` and `yaw_rate` dims; a mobile manipulator's other dims hold (a zero
    gripper delta and torso speed, the gripper open as at reset)."""

    def __init__(self, task):
        self.task = task
        self.spec = task.robot.control_mode(task.expert_control_mode)
        names = [d.name for d in self.spec.dims]
        self._v, self._w = names.index("forward_speed"), names.index("yaw_rate")
        self._hold = np.zeros(self.spec.size)
        if "gripper" in names:
            self._hold[names.index("gripper")] = 1.0

    def reset(self) -> None:
        """Nothing to forget: the plan is the task's, per episode."""

    def act(self, state) -> np.ndarray:
        ep = self.task.episode
        x, y, yaw = (state.extras[k] for k in ("base_x", "base_y", "base_yaw"))
        cell = GRID.index(x, y)
        field = ep.expert if math.isfinite(ep.expert[cell]) else ep.goal
        if field[cell] <= 0.0:  # inside the aim region: stop
            return self._action(0.0, 0.0)
        aim = fg.descend(GRID, field, cell, LOOKAHEAD)
        gx, gy = GRID.centre(*aim)
        alpha = math.atan2(gy - y, gx - x) - yaw
        alpha = (alpha + math.pi) % (2 * math.pi) - math.pi
        if abs(alpha) > TURN_IN_PLACE:
            v, w = 0.0, math.copysign(min(TURN_GAIN * abs(alpha), MAX_TURN), alpha)
        else:
            v = CRUISE * (1.0 - 0.6 * abs(alpha) / TURN_IN_PLACE)
            distance = max(math.hypot(gx - x, gy - y), 0.2)
            w = min(max(2.0 * v * math.sin(alpha) / distance + 0.5 * alpha, -MAX_TURN), MAX_TURN)
        return self._action(v, w)

    def _action(self, v: float, w: float) -> np.ndarray:
        physical = self._hold.copy()
        physical[self._v], physical[self._w] = v, w
        return np.clip(self.spec.to_normalised(physical), -1.0, 1.0).astype(np.float32)
