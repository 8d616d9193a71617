"""What a scene is made of, as data: primitive bodies (`SceneObject` with its `ObjectPart`s),
heaps of loose material (`MaterialPile`) and the zones material is delivered to (`DumpZone`);
and the one form of a pose's quaternion (`canonical_quat`).

Tasks describe their scenes with these; simulators (MuJoCo, the PyBullet twin) build them. A
foundation module (like `errors`), so hardware stand-ins read a task's scene without importing
tasks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


def canonical_quat(quat: Sequence[float] | np.ndarray) -> np.ndarray:
    """A rotation's quaternion (wxyz) in the one form every observation and scene report
    uses: q and -q are the same rotation, so the first non-zero component is made positive
    (w > 0; for a half turn, w = 0, the first non-zero of x, y, z). A new float64 array."""
    q = np.array(quat, dtype=np.float64)
    nonzero = np.flatnonzero(q)
    return -q if nonzero.size and q[nonzero[0]] < 0 else q


@dataclass(frozen=True)
class ObjectPart:
    """A further primitive of a scene object, in its frame: visual only unless `collide`.
    A named part is reported apart from its object in robot contacts (e.g. a truck's cab)."""

    shape: str
    size: tuple[float, ...]
    pos: tuple[float, float, float] = (0.0, 0.0, 0.0)
    rgba: tuple[float, float, float, float] | None = None  # None: the object's colour
    collide: bool = False
    name: str | None = None


@dataclass(frozen=True)
class SceneObject:
    """A primitive body in the scene. `shape` is "box" (size = half extents) or "cylinder"
    (size = radius, half height). Free objects have a mass; fixed ones are part of the arena."""

    name: str
    shape: str
    size: tuple[float, ...]
    pos: tuple[float, float, float]
    rgba: tuple[float, float, float, float]
    mass: float | None = None  # None: fixed to the world
    friction: float = 1.0
    parts: tuple[ObjectPart, ...] = ()

    @property
    def free(self) -> bool:
        return self.mass is not None


@dataclass(frozen=True)
class MaterialPile:
    """A heap of loose material (a paraboloid mound) the machine can cut, carry and dump."""

    name: str
    centre: tuple[float, float]
    radius: float  # m
    height: float  # m
    density: float = 1700.0  # kg/m^3, loose earth
    cell: float = 0.2  # m, grid resolution
    rgba: tuple[float, float, float, float] = (0.48, 0.36, 0.24, 1.0)


@dataclass(frozen=True)
class DumpZone:
    """Material dropped inside this rectangle (in `body`'s frame, above `floor_z`) counts as
    delivered: a truck bed."""

    name: str
    body: str
    half_size: tuple[float, float]
    floor_z: float  # m, world height of the floor
    centre: tuple[float, float] = (0.0, 0.0)  # in the body's frame


@dataclass(frozen=True)
class Cell:
    """A robot's surroundings as a stand-in simulator builds them: the task's scene objects and
    the floor's height (m, base frame). The env passes its task's cell to drivers that simulate
    the world (the twin); `librobot bridge serve --driver twin --task NAME` builds it likewise."""

    objects: tuple[SceneObject, ...]
    floor_height: float

    @classmethod
    def of(cls, task) -> Cell:
        """The cell of a task instance (anything with `scene()` and `floor_height`)."""
        return cls(tuple(task.scene()), float(task.floor_height))
