"""Where a mobile manipulator stands to work at a piece of furniture in the indoor flat, and
the floor-grid fields that take it there: the common ground of MobilePickCup and the mobile
OpenDrawer.

A *stand* is a base pose facing a table edge (or a cabinet's front) from STANDOFF m, with the
thing to reach straight ahead. The planner (`floor_grid.py`, as NavigateTo's) gives, per
episode, the metres to go around the walls to the stand (the dense reward, the metrics) and a
clearance-weighted cost-to-go the expert follows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from librobot_gym.envs.tasks import floor_grid as fg
from librobot_gym.envs.tasks.indoor import GRID, Footprint, Layout
from librobot_gym.errors import ConfigError

STANDOFF = 0.37  # m from the edge to the base's centre (a 0.28-0.3 m base and a margin)
ARRIVED = 0.08  # m: the base this near its stand has arrived
START_GAP = 1.0  # m around the walls: the start lies at least this far from the stand
ELBOW_OUT = 0.45  # m to the left of the base's centre the elbow reaches while the arm unfolds
LANDMARKS_ON_TABLES = ("mug", "bowl")
# How a robot's arm works from a stand, where its spec says nothing else (Fetch's numbers):
# `robot.task_layouts["mobile"]` overrides any of them (plain data in the robot's folder).
MOBILE_DEFAULTS = {
    "tool_rot": ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0)),  # a level hand at yaw 0
    "elbow_side": 1.0,  # +1: the arm unfolds to the base's left (Fetch), -1: to its right
    "standoff": STANDOFF,  # m from the table edge to the base's centre, to reach a cup
    "drawer_standoff": 0.55,  # m from the edge, to pull a drawer (`mobile_drawer.py`)
    "sidestep": 0.06,  # m the base stands to the cup's right (negative: its left)
    "ready_ahead": 0.5,  # m ahead of the base's centre the hand waits before the skill
    "ready_side": 0.0,  # m to the base's left of that (negative: its right)
    "ready_above": 0.14,  # m above the work height
    "pull_back": 0.0,  # m the tool centre holds a drawer's pull bar back from its middle
}


def mobile_layout(robot) -> dict:
    """The robot's numbers for working from a stand: MOBILE_DEFAULTS, overridden by
    `robot.task_layouts["mobile"]`; ConfigError naming an unknown key."""
    given = dict(robot.task_layouts.get("mobile", {}))
    unknown = sorted(set(given) - set(MOBILE_DEFAULTS))
    if unknown:
        raise ConfigError(f"{robot.name!r}: task_layouts['mobile'] has unknown keys {unknown}; "
                          f"known: {sorted(MOBILE_DEFAULTS)}")
    return {**MOBILE_DEFAULTS, **given}


@dataclass(frozen=True)
class Stand:
    """A base pose (x, y m, yaw rad, world) to work from, and the point it faces."""

    x: float
    y: float
    yaw: float
    aim: tuple[float, float]


def edge_frame(fp: Footprint, side: int) -> tuple[np.ndarray, np.ndarray, float, float]:
    """The `side`th edge (0: +x, 1: -x, 2: +y, 3: -y of the footprint's own frame) of a
    rectangle: its outward normal, its direction along the edge (unit, world), the centre's
    distance to it and the edge's half length."""
    c, s = math.cos(fp.yaw), math.sin(fp.yaw)
    ex, ey = np.array([c, s]), np.array([-s, c])
    normal, along, depth, half = ((ex, ey, fp.half[0], fp.half[1]),
                                  (-ex, ey, fp.half[0], fp.half[1]),
                                  (ey, ex, fp.half[1], fp.half[0]),
                                  (-ey, ex, fp.half[1], fp.half[0]))[side]
    return normal, along, depth, half


def stand_for(fp: Footprint, side: int, offset: float, standoff: float = STANDOFF) -> Stand:
    """The stand `standoff` m out from edge `side` of `fp`, `offset` m along it from its
    middle, facing the edge."""
    normal, along, depth, _ = edge_frame(fp, side)
    centre = np.asarray(fp.centre)
    foot = centre + depth * normal + offset * along
    x, y = foot + standoff * normal
    return Stand(float(x), float(y), math.atan2(-normal[1], -normal[0]),
                 (float(foot[0]), float(foot[1])))


def aside(stand: Stand, step: float, aim: tuple[float, float]) -> Stand:
    """`stand` moved `step` m to its right (heading kept), facing `aim`."""
    x = stand.x + step * math.sin(stand.yaw)
    y = stand.y - step * math.cos(stand.yaw)
    return Stand(x, y, stand.yaw, aim)


@dataclass
class Floor:
    """One layout's obstacles on the grid, for a base of `radius` m: the clearance (m to the
    nearest obstacle, per cell) and where the base fits."""

    clear: np.ndarray
    free: np.ndarray  # the base's centre may stand here
    loose: np.ndarray  # where the expert may squeeze (a few cm less room)

    def fits(self, x: float, y: float) -> bool:
        return bool(GRID.at(self.free.astype(float), x, y))

    def works(self, stand: Stand, elbow_side: float = 1.0) -> bool:
        """The base fits on the stand and the arm has room beside it: a level reach from
        beside the body swings the elbow out ELBOW_OUT m to the base's left (`elbow_side`
        +1: Fetch's arm unfolds that way from its tuck) or right (-1: TIAGo's), where no wall
        or furniture may stand."""
        left = stand.yaw + math.copysign(math.pi / 2, elbow_side)
        ex, ey = stand.x + ELBOW_OUT * math.cos(left), stand.y + ELBOW_OUT * math.sin(left)
        return self.fits(stand.x, stand.y) and GRID.at(self.clear, ex, ey) > 0.05


def _mask(fp: Footprint) -> np.ndarray:
    if fp.radius > 0:
        return fg.disc_mask(GRID, fp.centre, max(fp.radius, GRID.cell))
    return fg.rectangle_mask(GRID, fp.centre, fp.half, fp.yaw)


def floor(layout: Layout, radius: float, extra: tuple[Footprint, ...] = ()) -> Floor:
    """The flat's walls, shut doors, furniture (and `extra` footprints) as obstacles."""
    occupied = np.zeros(GRID.shape, dtype=bool)
    for fp in layout.walls() + list(extra):
        occupied |= _mask(fp)
    for name, fp in layout.footprints.items():
        if name not in LANDMARKS_ON_TABLES:  # they stand on tables
            occupied |= _mask(fp)
    padded = np.pad(occupied, 1, constant_values=True)
    clear = fg.clearance(GRID, padded)[1:-1, 1:-1] - GRID.cell / 2
    return Floor(clear, clear >= radius, clear >= radius - 0.04)


@dataclass
class Route:
    """The fields to one stand: `goal` metres around the walls, `expert` the
    clearance-weighted cost-to-go (both 0 within ARRIVED of the stand)."""

    stand: Stand
    goal: np.ndarray
    expert: np.ndarray

    def to_go(self, x: float, y: float) -> float:
        """Metres still to go to the stand (around walls; a bound where unreachable)."""
        d = GRID.at(self.goal, x, y)
        return d if math.isfinite(d) else 20.0


def route(ground: Floor, stand: Stand, radius: float) -> Route:
    arrive = fg.disc_mask(GRID, (stand.x, stand.y), ARRIVED - 0.02)
    goal = fg.distance_field(GRID, ground.loose | arrive, arrive)
    weight = 1.0 + 6.0 * np.clip((radius + 0.2 - ground.clear) / 0.26, 0.0, 1.0)
    expert = fg.distance_field(GRID, ground.loose | arrive, arrive, weight)
    return Route(stand, goal, expert)


def start_cells(ground: Floor, way: Route) -> np.ndarray:
    """Flat indices of the cells a start may take: room to turn (0.1 m beyond the base's
    fit), reachable, START_GAP m or more from the stand."""
    roomy = fg.clearance(GRID, np.pad(~ground.free, 1, constant_values=True))[1:-1, 1:-1] > \
        0.1 + GRID.cell / 2
    ok = roomy & np.isfinite(way.expert) & np.isfinite(way.goal) & (way.goal > START_GAP)
    return np.flatnonzero(ok)


def start_pose(rng: np.random.Generator, ground: Floor, way: Route
               ) -> tuple[float, float, float] | None:
    """A random start (x, y, yaw) for the route, None where there is none."""
    cells = start_cells(ground, way)
    if not cells.size:
        return None
    iy, ix = divmod(int(cells[int(rng.integers(cells.size))]), GRID.nx)
    x, y = GRID.centre(iy, ix)
    return x, y, float(rng.uniform(-math.pi, math.pi))


def approach_reward(to_go: float, span: float = 16.0) -> float:
    """A dense approach term in [0, 1] of the metres still to go (the base's to its stand
    around walls plus the tool's to what it works on): the wide part, 0.6 (1 - d / span),
    pays the same for every metre driven across the flat (no longer path in it is `span`
    m); the sharp part, 0.4 (1 - tanh(5 d / 1 m)), rewards the last centimetres. One
    distance, so driving closer and reaching closer both pay, and so does turning on the spot
    as the tool (ahead of the base) swings towards the target."""
    return 0.6 * max(0.0, 1.0 - to_go / span) + 0.4 * (1.0 - math.tanh(5.0 * to_go))


def mobile_arm_mode(robot, task: str) -> str:
    """The robot's control mode that drives the base and the tool at once (the experts' mode:
    `base_twist+ee_delta_pose`); ConfigError naming the modes it has where none does."""
    mode = next((m for m in robot.control_modes if "base_twist" in m and "ee_delta_pose" in m),
                None)
    if mode is None:
        raise ConfigError(f"{task} needs a base_twist+ee_delta_pose control mode; "
                          f"{robot.name!r} has {sorted(robot.control_modes)}")
    return mode


def torso_for(height: float) -> float:
    """The torso lift (m) to work at a surface `height` m up: 0.1 m at a coffee table (0.42
    m), 0.38 m at a dining table (0.75 m), linear in between: the shoulder some 0.4 m above
    the surface, where an arm reaching out level from beside the body has the range to lower
    its hand onto the table (a robot whose torso travels less stops at its top)."""
    return float(np.clip(0.1 + (height - 0.42) / 0.33 * 0.28, 0.0, 0.38))


__all__ = ["ARRIVED", "MOBILE_DEFAULTS", "Floor", "Route", "STANDOFF", "Stand",
           "approach_reward", "aside", "edge_frame", "floor", "mobile_arm_mode",
           "mobile_layout", "route", "stand_for", "start_pose", "torso_for"]
