"""The haul road of HaulDump: graded ground, a ramp up to a bench, a loading point and a marked
dump bay, as scene objects; and the route the hauler is judged against.

Road frame: x along the road from the ramp's foot, z up from the ground. The approach runs on
a 12 m wide graded surface (a box whose top is the ground), the ramp climbs `RISE` m at the
grade the task asks (a tilted box), the bench on top is 28 m wide and falls to one side at
the cross-fall a reset draws (its own tilted box; where it meets the ramp's crest, its edge
stands a few centimetres proud or low under the wheels, as graded ground does). Tyres meet
gravel at 0.7 friction (MuJoCo takes the larger of a pair's frictions, so the road says 0.7
too).
"""

from __future__ import annotations

import math

import numpy as np

from librobot_gym.scene import MaterialPile, ObjectPart, SceneObject

RISE = 2.5  # m, the bench above the approach
ROAD_HALF_WIDTH = 6.0  # m, approach and ramp
BENCH_HALF_WIDTH = 14.0  # m
BENCH_LENGTH = 45.0  # m
BENCH_SKIRT = 1.5  # m of the bench's slab below the ground
APPROACH_LENGTH = 40.0  # m behind the ramp's foot
ROAD_FRICTION = 0.7
GRAVEL = (0.56, 0.52, 0.46, 1.0)
BENCH = (0.6, 0.55, 0.47, 1.0)
BAY = (0.95, 0.95, 0.9, 1.0)
BAY_HALF = (3.5, 2.6)  # m, the dump bay's painted rectangle (and its dump zone)
HEAP_SIZE = (2.2, 2.4, 1.2)  # m, the semi-axes of the dumped heap's mound
HEAP_GEOM = "dump_bay_part4"
# The stockpile at the loading point, beside the road (where a loader fills the hauler).
STOCKPILE = MaterialPile("stockpile", centre=(-4.0, 11.0), radius=4.0, height=2.0,
                         density=1600.0, cell=0.5)


def ramp_length(grade: float) -> float:
    """m of road (horizontal) the ramp takes to climb RISE at `grade` (rise over run)."""
    return RISE / grade


def road(grade: float) -> SceneObject:
    """The road in its own frame (origin at the ramp's foot), fixed and colliding."""
    run = ramp_length(grade)
    angle = math.atan(grade)
    slab = 0.5  # m, half thickness of the ramp's slab
    slope_half = math.hypot(run, RISE) / 2
    normal = np.array([-math.sin(angle), 0.0, math.cos(angle)])
    centre = np.array([run / 2, 0.0, RISE / 2]) - slab * normal
    ramp = ObjectPart("box", (slope_half, ROAD_HALF_WIDTH, slab), tuple(centre.tolist()),
                      rgba=GRAVEL, collide=True, name="ramp",
                      quat=(math.cos(-angle / 2), 0.0, math.sin(-angle / 2), 0.0),
                      friction=ROAD_FRICTION)
    approach = ObjectPart("box", (APPROACH_LENGTH / 2, ROAD_HALF_WIDTH, 0.25),
                          (-APPROACH_LENGTH / 2, 0.0, -0.25), rgba=GRAVEL, collide=True,
                          name="approach", friction=ROAD_FRICTION)
    # The object's own geom is a hidden marker at the foot; the slabs are its parts.
    return SceneObject("road", "box", (0.1, 0.1, 0.01), (0.0, 0.0, 0.0), GRAVEL,
                       parts=(approach, ramp), collide=False, visible=False)


def bench() -> SceneObject:
    """The bench on top of the ramp, its own object so a reset can tilt it about the road's
    axis (the cross-fall): its frame sits on the middle of its top's centre line. Its slab
    reaches well below the ground, so a tilted edge never floats."""
    depth = RISE / 2 + BENCH_SKIRT
    slab = ObjectPart("box", (BENCH_LENGTH / 2, BENCH_HALF_WIDTH, depth), (0.0, 0.0, -depth),
                      rgba=BENCH, collide=True, name="bench", friction=ROAD_FRICTION)
    return SceneObject("bench", "box", (0.1, 0.1, 0.01), (BENCH_LENGTH / 2, 0.0, RISE), BENCH,
                       parts=(slab,), collide=False, visible=False)


def bay() -> SceneObject:
    """The dump bay: a painted rectangle (no collisions) with corner posts and the heap of
    what was dumped, drawn as looks."""
    hx, hy = BAY_HALF
    posts = tuple(ObjectPart("box", (0.15, 0.15, 0.6), (sx * hx, sy * hy, 0.6),
                             rgba=(0.9, 0.35, 0.1, 1.0))
                  for sx in (-1, 1) for sy in (-1, 1))
    # The dumped heap (part 4, `HEAP_GEOM`): a mound behind the bay's centre, where the lip
    # pours, hidden under the bench until the material model raises it.
    heap = ObjectPart("ellipsoid", HEAP_SIZE, (-1.0, 0.0, -HEAP_SIZE[2]),
                      rgba=STOCKPILE.rgba)
    return SceneObject("dump_bay", "box", (hx, hy, 0.01), (0.0, 0.0, RISE), BAY,
                       parts=posts + (heap,), collide=False)


def loading_point() -> SceneObject:
    """A mark on the approach where the hauler was loaded (looks only)."""
    return SceneObject("loading_point", "box", (4.0, 2.0, 0.01), (-3.0, 0.0, 0.005),
                       (0.75, 0.72, 0.6, 1.0), collide=False)


class Route:
    """The centre line the hauler's hinge should follow: start, the ramp's crest on the road's
    axis, the stop point beyond the bay (where the body's lip stands over the bay's centre)."""

    def __init__(self, points: list[tuple[float, float]]):
        self.points = np.array(points, dtype=np.float64)
        segments = np.diff(self.points, axis=0)
        self.lengths = np.linalg.norm(segments, axis=1)
        self.units = segments / self.lengths[:, None]
        self.starts = np.concatenate([[0.0], np.cumsum(self.lengths)[:-1]])
        self.length = float(self.lengths.sum())
        self._last: tuple = (None, (0.0, 0.0))

    def project(self, point) -> tuple[float, float]:
        """(distance along the route, distance off it) of `point` (x, y); the last answer is
        kept (a task asks it twice a step)."""
        key = (float(point[0]), float(point[1]))
        if key != self._last[0]:
            self._last = (key, self._project(key))
        return self._last[1]

    def _project(self, point: tuple[float, float]) -> tuple[float, float]:
        p = np.array(point)
        rel = p - self.points[:-1]
        along = np.clip((rel * self.units).sum(axis=1), 0.0, self.lengths)
        nearest = self.points[:-1] + self.units * along[:, None]
        off = np.linalg.norm(p - nearest, axis=1)
        best = int(np.argmin(off))
        return float(self.starts[best] + along[best]), float(off[best])

    def at(self, s: float) -> np.ndarray:
        """The point `s` m along the route (clamped to its ends, extended past the last)."""
        index = int(np.searchsorted(self.starts, s, side="right") - 1)
        index = min(max(index, 0), len(self.lengths) - 1)
        return self.points[index] + self.units[index] * (s - self.starts[index])
