"""Where one object rests relative to another, for tasks that put things down: in a bowl or a
bin, on a plate, on top of a block; whether the gripper has let go and moved clear; and how long
a condition has held by the world's clock (a stack that stays a stack).

Numbers are at the object set's full scale (the Franka's); callers pass the layout's
`object_scale`. Offsets are measured in the receptacle's own frame (its yaw), so a bin turned on
the table still holds what lies inside its walls.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from librobot_gym.envs.tasks.base import WorldState
from librobot_gym.envs.tasks.placement import quat_yaw


@dataclass(frozen=True)
class Receptacle:
    """What a thing can be put in or on, as the object set builds it (scale 1, m).

    `preposition` is how instructions say it ("in" the bowl, "on" the plate); `round` ones
    hold an item whose centre stands within `half[0]` of theirs, box-shaped ones within
    `half` along their own x and y (inside the walls). `floor` is the surface an item stands
    on, above the receptacle's origin. An item inside has its bottom raised off the table,
    more than `above` (a quarter of the floor's height: not beside it, though a cup leaning
    in a bowl sits lower than upright), and at most `below` (higher is perched on a rim or a
    wall)."""

    kind: str
    preposition: str
    round: bool
    half: tuple[float, float]
    floor: float
    above: float
    below: float

    @property
    def onto(self) -> str:
        """The motion's preposition: "into" the bin, "onto" the plate."""
        return self.preposition + "to"

    def level(self, bottom: float, scale: float) -> bool:
        """Whether an item with its bottom `bottom` (m) above the table is at this
        receptacle's floor height (the cheap half of `holds`: asked first)."""
        return self.above * scale < bottom <= self.below * scale

    def over_floor(self, offset: tuple[float, float], scale: float) -> bool:
        """Whether an item whose centre stands `offset` (m, xy in this receptacle's frame)
        from the receptacle's origin is over its floor."""
        if self.round:
            return math.hypot(*offset) <= self.half[0] * scale
        return abs(offset[0]) <= self.half[0] * scale and abs(offset[1]) <= self.half[1] * scale

    def holds(self, offset: tuple[float, float], bottom: float, scale: float) -> bool:
        """Whether such an item rests in/on it: at its floor's height, over its floor."""
        return self.level(bottom, scale) and self.over_floor(offset, scale)


# The bowl's floor disc is 4 cm across its radius and its walls slant out to 7.5 cm: an item
# centred within 4.5 cm stands on the floor or leans on the slant. The bin's walls stand
# 0.8 cm in from its 18 x 14 cm outline; a plate's rim lip starts 1.5 cm in from its edge.
# Floors stand 0.8 cm (bowl, bin) and 1.6 cm (plate) above the table; what stands on the
# table is within a millimetre of 0.
RECEPTACLES: dict[str, Receptacle] = {r.kind: r for r in (
    Receptacle("bowl", "in", True, (0.045, 0.045), 0.004, 0.002, 0.03),
    Receptacle("plate", "on", True, (0.07, 0.07), 0.008, 0.004, 0.03),
    Receptacle("bin", "in", False, (0.082, 0.062), 0.004, 0.002, 0.045),
)}


def local_offset(state: WorldState, item: str, base: str) -> tuple[float, float]:
    """`item`'s centre relative to `base`'s origin, xy in `base`'s frame (turned by its yaw)."""
    p, b = state.object_pos[item], state.object_pos[base]
    dx, dy = float(p[0] - b[0]), float(p[1] - b[1])
    yaw = quat_yaw(state.object_quat[base])
    c, s = math.cos(yaw), math.sin(yaw)
    return c * dx + s * dy, -s * dx + c * dy


def wrap(angle: float, period: float) -> float:
    """`angle` brought within half a `period` of 0 (a block's yaw modulo its symmetry)."""
    return (angle + period / 2) % period - period / 2


def clear_of(state: WorldState, item: str, top_dz: float, footprint: float,
             margin: float) -> bool:
    """The gripper has let go of `item` and its tool is `margin` (m) above the item's top
    (`top_dz` above its origin) or that far beyond its `footprint` radius sideways."""
    if state.grasped.get(item, False):
        return False
    pos, ee = state.object_pos[item], state.ee_pos
    above = float(ee[2] - pos[2] - top_dz) >= margin
    aside = float(np.hypot(*(ee[:2] - pos[:2]))) >= footprint + margin
    return above or aside


class Steady:
    """How long (s, by the world's clock) a condition has held without a break. Asking twice
    about one state gives one answer, so a task may judge the same step more than once; a
    clock that went back (a new episode) starts the count afresh."""

    def __init__(self) -> None:
        self.since: float | None = None

    def reset(self) -> None:
        self.since = None

    def held(self, time: float, holds: bool) -> float:
        if not holds:
            self.since = None
            return 0.0
        if self.since is None or time < self.since:
            self.since = time
        return time - self.since


__all__ = ["RECEPTACLES", "Receptacle", "Steady", "clear_of", "local_offset", "wrap"]
