"""An indoor scene for mobile robots: a two-room flat (a living room and a dining room)
behind cut-away walls, a partition with two door openings (each door open or shut), a window,
furniture (a dining table by the window, a coffee table, a bookshelf, a sofa, two chairs) and
tabletop objects as landmarks (a mug on the coffee table, a bowl on the dining table, a bin on
the floor). `draw_layout(rng)` places it all from a seed: where the partition stands, which
doors are shut, where the window is, where each piece stands and faces, the colours.

Frames: the flat is centred on the world origin, x east (the dining room), y north; a
footprint is a rectangle (half depth along its own x, which points from the wall it backs onto
into the room; half length along y) or a disc. Walls are 1.2 m high (a doll's house cut, so
the overhead camera sees in; the robot's own camera sees walls as walls).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from librobot_gym.envs.tasks.floor_grid import FloorGrid
from librobot_gym.envs.tasks.objects import COLOURS, KINDS, make_object
from librobot_gym.envs.tasks.placement import yaw_quat
from librobot_gym.scene import (
    INDOOR_SKY,
    CameraPose,
    LabCell,
    Light,
    Material,
    ObjectPart,
    SceneObject,
    Texture,
)

HALF = (3.5, 2.5)  # m, the flat's inner half sizes
# The planners' floor grid over the flat: 5 cm cells.
GRID = FloorGrid(-HALF[0], -HALF[1], 0.05, round(2 * HALF[0] / 0.05), round(2 * HALF[1] / 0.05))
WALL_HEIGHT = 1.2
WALL_T = 0.05  # m, half thickness of the partition and the colliders
PARTITION_X = (-0.8, 0.8)  # where the partition may stand
DOOR_Y = (1.45, -1.45)  # door openings' centres along the partition
DOOR_HALF = 0.5  # m, half the opening
OBJECT_SCALE = 1.6  # landmarks a little larger than the tabletop set, seen across a room
BIN_SCALE = 2.5
CLEARANCE = 0.75  # m, at least this between free-standing pieces: the robot passes

FLOOR = Material("flat_floor", texture=Texture("checker", (0.62, 0.55, 0.46),
                                               (0.55, 0.48, 0.40), size=64),
                 texrepeat=(7.0, 5.0), specular=0.05, shininess=0.1)
WALL = Material("flat_wall", rgba=(0.86, 0.85, 0.80, 1.0), specular=0.0, shininess=0.0)
WOOD: tuple[float, float, float, float] = (0.58, 0.40, 0.24, 1.0)
DARK = (0.18, 0.18, 0.2, 1.0)
CHAIR_COLOURS = ("red", "blue", "green", "yellow")
OBJECT_COLOURS = ("red", "blue", "green", "yellow", "orange", "purple")
SOFA_RGBA = ((0.35, 0.42, 0.5, 1.0), (0.45, 0.36, 0.3, 1.0), (0.3, 0.45, 0.42, 1.0))


@dataclass(frozen=True)
class Piece:
    """One piece of furniture: its footprint (half depth, half length), height, where it
    may stand ("A" the living room, west; "B" the dining room, east; "wall": backed onto a
    wall of its room), and the names instructions call it by."""

    name: str
    half: tuple[float, float]
    room: str
    against_wall: bool
    names: tuple[str, ...]


PIECES = (
    Piece("table_window", (0.4, 0.6), "B", True, ("the table by the window", "the dining table")),
    Piece("coffee_table", (0.3, 0.5), "A", False, ("the coffee table", "the low table")),
    Piece("shelf", (0.17, 0.45), "AB", True, ("the bookshelf", "the shelf")),
    Piece("sofa", (0.42, 0.95), "A", True, ("the sofa", "the couch")),
    Piece("chair_0", (0.23, 0.23), "B", False, ("the {colour} chair",)),
    Piece("chair_1", (0.23, 0.23), "AB", False, ("the {colour} chair",)),
)
# Landmark objects: kind, where it stands (on a piece, or the floor), names.
LANDMARKS = (("mug", "coffee_table", ("the {colour} mug",)),
             ("bowl", "table_window", ("the {colour} bowl",)),
             ("bin", "floor", ("the {colour} bin",)))
TABLE_HEIGHT = {"table_window": 0.75, "coffee_table": 0.42}


@dataclass
class Footprint:
    """Where something covers the floor: a rectangle (centre, half sizes, yaw) or a disc
    (radius > 0)."""

    centre: tuple[float, float]
    half: tuple[float, float] = (0.0, 0.0)
    yaw: float = 0.0
    radius: float = 0.0

    def aabb(self, grow: float = 0.0) -> tuple[float, float, float, float]:
        if self.radius > 0:
            hx = hy = self.radius
        else:
            c, s = abs(math.cos(self.yaw)), abs(math.sin(self.yaw))
            hx = c * self.half[0] + s * self.half[1]
            hy = s * self.half[0] + c * self.half[1]
        x, y = self.centre
        return x - hx - grow, x + hx + grow, y - hy - grow, y + hy + grow


@dataclass
class Layout:
    """One draw of the flat: the partition's x, which doors are open, the window's y, every
    piece's and landmark's footprint, colours (name -> colour word) and the poses to set."""

    partition_x: float
    doors_open: tuple[bool, bool]
    window_y: float
    footprints: dict[str, Footprint]
    colours: dict[str, str]
    poses: dict[str, tuple[np.ndarray, np.ndarray]]
    rgba: dict[str, tuple[float, float, float, float]]

    def walls(self) -> list[Footprint]:
        """Exterior walls, the partition's three segments and the shut doors' leaves."""
        (hx, hy), t, xp = HALF, WALL_T, self.partition_x
        walls = [Footprint((-hx - t, 0.0), (t, hy + 2 * t)),
                 Footprint((hx + t, 0.0), (t, hy + 2 * t)),
                 Footprint((0.0, -hy - t), (hx + 2 * t, t)),
                 Footprint((0.0, hy + t), (hx + 2 * t, t))]
        walls += [Footprint((xp, (a + b) / 2), (t, (b - a) / 2)) for a, b in _segments()]
        walls += [door_footprint(xp, y, is_open)
                  for y, is_open in zip(DOOR_Y, self.doors_open, strict=True)]
        return walls


def _segments() -> list[tuple[float, float]]:
    """The partition's solid stretches (y from, y to) between the door openings."""
    hy = HALF[1]
    edges = sorted([-hy] + [y + s * DOOR_HALF for y in DOOR_Y for s in (-1, 1)] + [hy])
    return [(edges[i], edges[i + 1]) for i in range(0, len(edges), 2)]


# --- the scene's objects -----------------------------------------------------------------------
def _box(half, pos, rgba=None, collide=True, name=None) -> ObjectPart:
    return ObjectPart("box", tuple(half), tuple(pos), rgba=rgba, collide=collide, name=name)


def _table(name: str, half, height: float) -> SceneObject:
    """A table: its top (the object's first geom, at the top's height) and four legs."""
    hx, hy = half
    legs = tuple(_box((0.025, 0.025, (height - 0.03) / 2),
                      (sx * (hx - 0.05), sy * (hy - 0.05), -(height - 0.03) / 2 - 0.015))
                 for sx in (-1, 1) for sy in (-1, 1))
    return SceneObject(name, "box", (hx, hy, 0.015), (0.0, 0.0, height - 0.015), WOOD,
                       parts=legs)


def _shelf() -> SceneObject:
    """A bookshelf 1.1 m high, open towards its +x, with books on three boards."""
    hx, hy, h = 0.17, 0.45, 1.1
    parts = [_box((0.01, hy, h / 2), (-hx + 0.01, 0, 0)),  # back
             _box((hx, 0.015, h / 2), (0, hy - 0.015, 0)),
             _box((hx, 0.015, h / 2), (0, -hy + 0.015, 0))]
    parts += [_box((hx, hy, 0.012), (0, 0, z)) for z in (-h / 2 + 0.04, -0.15, 0.2, h / 2 - 0.012)]
    book_rgba = ((0.7, 0.15, 0.12, 1.0), (0.15, 0.3, 0.6, 1.0), (0.85, 0.7, 0.2, 1.0),
                 (0.2, 0.5, 0.3, 1.0))
    for row, z in enumerate((-h / 2 + 0.16, -0.03, 0.32)):
        for i in range(6):
            y = -hy + 0.1 + i * 0.13
            parts.append(_box((0.1, 0.04, 0.1 - 0.01 * (i % 3)), (0.0, y, z - 0.01 * (i % 3)),
                              rgba=book_rgba[(i + row) % 4], collide=False))
    return SceneObject("shelf", "box", (hx, hy, 0.001), (0.0, 0.0, h / 2), (0.45, 0.32, 0.2, 1.0),
                       parts=tuple(parts), collide=False)


def _sofa() -> SceneObject:
    """A sofa on its plinth (the body's origin, 0.12 m up), its back against the wall behind
    its -x, the seat 0.4 m high, the back 0.84 m."""
    hx, hy = 0.42, 0.95
    parts = (_box((0.12, hy, 0.3), (-hx + 0.12, 0, 0.42)),  # back
             _box((hx, 0.1, 0.15), (0, hy - 0.1, 0.27)),
             _box((hx, 0.1, 0.15), (0, -hy + 0.1, 0.27)),
             _box((hx - 0.12, hy - 0.2, 0.08), (0.12, 0, 0.2), collide=False))
    return SceneObject("sofa", "box", (hx, hy, 0.12), (0.0, 0.0, 0.12), SOFA_RGBA[0],
                       parts=parts)


def _chair(name: str) -> SceneObject:
    """A chair: the seat (painted) at 0.45 m, its back on the -x side, dark legs."""
    h = 0.45
    legs = tuple(_box((0.018, 0.018, h / 2), (sx * 0.19, sy * 0.19, -h / 2), rgba=DARK)
                 for sx in (-1, 1) for sy in (-1, 1))
    back = _box((0.02, 0.22, 0.22), (-0.21, 0.0, 0.24))
    return SceneObject(name, "box", (0.23, 0.23, 0.025), (0.0, 0.0, h), COLOURS["red"],
                       parts=legs + (back,))


def _door(name: str) -> SceneObject:
    """A door leaf 0.94 m wide (along its x) and 1.1 m high, centred on the body's origin."""
    leaf = (DOOR_HALF - 0.03, 0.025, 0.55)
    return SceneObject(name, "box", leaf, (0.0, 0.0, 0.56), (0.93, 0.92, 0.88, 1.0),
                       parts=(_box((0.02, 0.05, 0.02), (0.35, 0.0, -0.05),
                                   rgba=(0.6, 0.6, 0.62, 1.0), collide=False),))


def door_footprint(xp: float, door_y: float, is_open: bool) -> Footprint:
    """Where a door's leaf stands: across its opening when shut; when open, swung 180 deg
    flat onto the partition's west face, towards the middle of the flat."""
    half = (0.025, DOOR_HALF - 0.03)
    if not is_open:
        return Footprint((xp, door_y), half)
    y = door_y - math.copysign(2 * DOOR_HALF - 0.03, door_y)
    return Footprint((xp - WALL_T - 0.026, y), half)


def _partition() -> SceneObject:
    """The wall between the rooms: three stretches around the two openings."""
    segs = _segments()
    first, rest = segs[0], segs[1:]
    return SceneObject("partition", "box", (WALL_T, (first[1] - first[0]) / 2, WALL_HEIGHT / 2),
                       (0.0, 0.0, WALL_HEIGHT / 2), WALL.rgba, material=WALL,
                       parts=tuple(_box((WALL_T, (b - a) / 2, WALL_HEIGHT / 2),
                                        (0.0, (a + b) / 2 - (first[0] + first[1]) / 2, 0.0),
                                        rgba=WALL.rgba)
                                   for a, b in rest))


def _walls() -> SceneObject:
    """Invisible colliders where the room's (look-only) walls stand."""
    (hx, hy), t, z = HALF, WALL_T, WALL_HEIGHT / 2
    hidden = dict(collide=True, rgba=(0, 0, 0, 0))
    west = hx + t  # the body stands at the west wall; parts are placed from there
    parts = (ObjectPart("box", (t, hy + 2 * t, z), (2 * west, 0, 0), visible=False, **hidden),
             ObjectPart("box", (hx + 2 * t, t, z), (west, -hy - t, 0), visible=False, **hidden),
             ObjectPart("box", (hx + 2 * t, t, z), (west, hy + t, 0), visible=False, **hidden))
    return SceneObject("walls", "box", (t, hy + 2 * t, z), (-hx - t, 0.0, z), (0, 0, 0, 0),
                       parts=parts, visible=False)


def _window() -> SceneObject:
    """A window on the east wall (looks only): glass in a white frame."""
    return SceneObject("window", "box", (0.012, 0.6, 0.3), (HALF[0] - 0.005, 0.0, 0.8),
                       (0.55, 0.75, 0.92, 1.0), collide=False,
                       parts=tuple(_box(h, p, rgba=(0.97, 0.97, 0.97, 1.0), collide=False)
                                   for h, p in (((0.015, 0.64, 0.03), (0, 0, 0.31)),
                                                ((0.015, 0.64, 0.03), (0, 0, -0.31)),
                                                ((0.015, 0.03, 0.3), (0, 0.62, 0)),
                                                ((0.015, 0.03, 0.3), (0, -0.62, 0)),
                                                ((0.015, 0.015, 0.3), (0, 0, 0)))))


def _landmark(kind: str) -> SceneObject:
    scale = BIN_SCALE if kind == "bin" else OBJECT_SCALE
    return replace(make_object(kind, kind, scale, "red"), mass=None)  # fixed: a landmark


def indoor_scene() -> list:
    """Everything the model holds; `draw_layout` moves and paints it per episode."""
    cell = LabCell(floor=FLOOR, wall=WALL, half_size=HALF, wall_height=WALL_HEIGHT,
                   lights=(Light("sun", (0.0, -2.0, 6.0), (0.2, 0.3, -1.0), (0.5, 0.5, 0.5),
                                 directional=True),
                           Light("lamp", (-2.0, 1.0, 2.6), (0.3, -0.2, -1.0), (0.3, 0.3, 0.28),
                                 cutoff=80.0)),
                   ambient=0.35, headlight=0.3, open_front=False, sleep=False)
    camera = CameraPose("overhead", (0.0, -3.2, 7.6), (0.0, -0.45, 0.0), 53.0)
    return [cell, INDOOR_SKY, _walls(), _partition(), _door("door_0"), _door("door_1"), _window(),
            _table("table_window", (0.4, 0.6), 0.75), _table("coffee_table", (0.3, 0.5), 0.42),
            _shelf(), _sofa(), _chair("chair_0"), _chair("chair_1"),
            *(_landmark(kind) for kind, _, _ in LANDMARKS), camera]


# --- drawing a layout ----------------------------------------------------------------------------
def _room(name: str, xp: float) -> tuple[float, float, float, float]:
    hx, hy = HALF
    return (-hx, xp - WALL_T, -hy, hy) if name == "A" else (xp + WALL_T, hx, -hy, hy)


def _against_wall(rng, room, half, side: str) -> Footprint:
    x0, x1, y0, y1 = room
    hx, hy = half
    if side in ("west", "east"):
        y = rng.uniform(y0 + hy + 0.05, y1 - hy - 0.05)
        return Footprint((x0 + hx + 0.02, y), half, 0.0) if side == "west" else \
            Footprint((x1 - hx - 0.02, y), half, math.pi)
    x = rng.uniform(x0 + hy + 0.05, x1 - hy - 0.05)
    return Footprint((x, y0 + hx + 0.02), half, math.pi / 2) if side == "south" else \
        Footprint((x, y1 - hx - 0.02), half, -math.pi / 2)


def _overlaps(a, b) -> bool:
    ax0, ax1, ay0, ay1 = a
    bx0, bx1, by0, by1 = b
    return ax0 < bx1 and bx0 < ax1 and ay0 < by1 and by0 < ay1


def draw_layout(rng: np.random.Generator, tries: int = 200) -> Layout:
    """A random flat: the same `rng` state gives the same layout."""
    hx, hy = HALF
    while True:
        xp = float(rng.uniform(*PARTITION_X))
        first_open = bool(rng.random() < 0.75)
        doors = (first_open, True) if not first_open else (True, bool(rng.random() < 0.6))
        if rng.random() < 0.5:
            doors = doors[::-1]
        window_y = float(rng.uniform(-hy + 1.0, hy - 1.0))
        # Keep-out: the door openings (both sides) and the open leaves' swing.
        taken = [(xp - 1.1, xp + 1.0, y - DOOR_HALF - 0.2, y + DOOR_HALF + 0.2) for y in DOOR_Y]
        prints: dict[str, Footprint] = {}
        ok = True
        for piece in PIECES:
            room_name = piece.room[int(rng.integers(len(piece.room)))]
            room = _room(room_name, xp)
            for _ in range(tries):
                if piece.name == "table_window":
                    fp = Footprint((hx - piece.half[0] - 0.05, window_y), piece.half, math.pi)
                elif piece.against_wall:
                    sides = ["south", "north", "west" if room_name == "A" else "east"]
                    fp = _against_wall(rng, room, piece.half, sides[int(rng.integers(3))])
                else:
                    x0, x1, y0, y1 = room
                    r = math.hypot(*piece.half)
                    yaw = float(rng.uniform(-math.pi, math.pi)) if piece.name.startswith("chair") \
                        else float(rng.integers(2)) * math.pi / 2
                    fp = Footprint((rng.uniform(x0 + r + 0.6, x1 - r - 0.6),
                                    rng.uniform(y0 + r + 0.6, y1 - r - 0.6)), piece.half, yaw)
                box = fp.aabb()
                if all(not _overlaps(box, t) for t in taken) and all(
                        not _overlaps(fp.aabb(CLEARANCE), o.aabb()) for o in prints.values()):
                    prints[piece.name] = fp
                    taken.append(box)
                    break
            else:
                ok = False
                break
        if not ok:
            continue
        # The bin stands on the floor, somewhere clear.
        room = _room("AB"[int(rng.integers(2))], xp)
        radius = KINDS["bin"].footprint * BIN_SCALE
        for _ in range(tries):
            x0, x1, y0, y1 = room
            fp = Footprint((rng.uniform(x0 + radius + 0.1, x1 - radius - 0.1),
                            rng.uniform(y0 + radius + 0.1, y1 - radius - 0.1)), radius=radius)
            if all(not _overlaps(fp.aabb(), t) for t in taken) and all(
                    not _overlaps(fp.aabb(CLEARANCE), o.aabb()) for o in prints.values()):
                prints["bin"] = fp
                break
        else:
            continue
        return _finish(rng, xp, doors, window_y, prints)


def _finish(rng, xp, doors, window_y, prints: dict[str, Footprint]) -> Layout:
    """Landmarks on their tables, colours, and every body's pose."""
    for kind, support, _ in LANDMARKS[:2]:
        table = prints[support]
        offset = rng.uniform(-0.5, 0.5) * (table.half[1] - 0.15)
        c, s = math.cos(table.yaw), math.sin(table.yaw)
        prints[kind] = Footprint((table.centre[0] - s * offset, table.centre[1] + c * offset),
                                 radius=KINDS[kind].footprint * OBJECT_SCALE)
    chairs = rng.choice(len(CHAIR_COLOURS), 2, replace=False)
    objects = rng.choice(len(OBJECT_COLOURS), 3, replace=False)
    colours = {"chair_0": CHAIR_COLOURS[chairs[0]], "chair_1": CHAIR_COLOURS[chairs[1]]}
    colours.update({kind: OBJECT_COLOURS[i] for (kind, _, _), i in zip(LANDMARKS, objects,
                                                                      strict=True)})
    rgba = {name: COLOURS[word] for name, word in colours.items()}
    rgba["sofa"] = SOFA_RGBA[int(rng.integers(len(SOFA_RGBA)))]
    poses: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    heights = {"table_window": 0.75 - 0.015, "coffee_table": 0.42 - 0.015, "shelf": 0.55,
               "sofa": 0.12, "chair_0": 0.45, "chair_1": 0.45}
    for name, fp in prints.items():
        if name in heights:
            poses[name] = (np.array([*fp.centre, heights[name]]), yaw_quat(fp.yaw))
    for kind, support, _ in LANDMARKS:
        base = 0.0 if support == "floor" else TABLE_HEIGHT[support]
        scale = BIN_SCALE if kind == "bin" else OBJECT_SCALE
        z = base + KINDS[kind].rest_z * scale
        poses[kind] = (np.array([*prints[kind].centre, z]), yaw_quat(float(rng.uniform(-3, 3))))
    segs = _segments()
    poses["partition"] = (np.array([xp, (segs[0][0] + segs[0][1]) / 2, WALL_HEIGHT / 2]),
                          yaw_quat(0.0))
    for i, (door_y, is_open) in enumerate(zip(DOOR_Y, doors, strict=True)):
        fp = door_footprint(xp, door_y, is_open)
        poses[f"door_{i}"] = (np.array([*fp.centre, 0.56]), yaw_quat(math.pi / 2))
    poses["window"] = (np.array([HALF[0] - 0.005, window_y, 0.8]), yaw_quat(0.0))
    return Layout(xp, doors, window_y, prints, colours, poses, rgba)
