"""Seeded placement of objects on a table: no two closer than their footprints plus a
clearance, each inside its own rectangle (objects the arm must grasp inside its reach).

Deterministic given the generator: the same seed places the same objects in the same spots.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

Rect = tuple[tuple[float, float], tuple[float, float]]  # (x range, y range)


@dataclass(frozen=True)
class Footprint:
    """One object to place: its name, the radius (m) of the circle it covers on the table,
    and the rectangle its centre must stand in."""

    name: str
    radius: float
    region: Rect


def place(rng: np.random.Generator, items: list[Footprint], clearance: float,
          tries: int = 200) -> dict[str, np.ndarray] | None:
    """(x, y) for every item, in order, each uniformly in its region and at least its radius
    plus the other's plus `clearance` from every item placed before; None when some item
    found no spot in `tries` draws (the caller drops an object or draws again)."""
    placed: dict[str, np.ndarray] = {}
    radii: dict[str, float] = {}
    for item in items:
        (x0, x1), (y0, y1) = item.region
        for _ in range(tries):
            spot = np.array([rng.uniform(x0, x1), rng.uniform(y0, y1)])
            if all(math.dist(spot, other) >= item.radius + radii[name] + clearance
                   for name, other in placed.items()):
                placed[item.name] = spot
                radii[item.name] = item.radius
                break
        else:
            return None
    return placed


def yaw_quat(yaw: float) -> np.ndarray:
    """The quaternion (wxyz) of a turn by `yaw` rad about the vertical."""
    return np.array([math.cos(yaw / 2), 0.0, 0.0, math.sin(yaw / 2)])


def quat_yaw(quat: np.ndarray) -> float:
    """The turn about the vertical (rad) of an upright object's quaternion (wxyz)."""
    w, x, y, z = (float(v) for v in quat)
    return math.atan2(2.0 * (w * z + x * y), 1.0 - 2.0 * (y * y + z * z))


def upright(quat: np.ndarray) -> float:
    """The z component of an object's up axis in the world: 1 upright, 0 on its side."""
    _, x, y, _ = (float(v) for v in quat)
    return 1.0 - 2.0 * (x * x + y * y)
