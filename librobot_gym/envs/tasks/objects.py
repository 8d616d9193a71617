"""The tabletop object set: kinds recognisable by shape (cups, mugs with handles, bowls, plates,
blocks, a bin, a drawer cabinet, a button), colours recognisable by name, each kind built at any
arm's scale with its mass and friction, and named the way instructions name it ("the red mug").

Sizes are the Franka's (m, kg); `scale` shrinks every length (a cup the SO-100's jaw holds is
0.6 of the Franka's) and masses with its square (thin walls: area, not volume). Looks come from
meshes written in code (`meshes.py`); collisions from primitives, so grasps and stacks behave.
Object frames: z up, origin at the centre of the bounding box; a mug's handle points along +x,
a drawer cabinet's front (and its drawer's pull) along -x, towards a robot at the origin when
the cabinet stands beyond it with no yaw.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from librobot_gym.envs.tasks.meshes import revolve, tube_arc
from librobot_gym.scene import Material, ObjectLink, ObjectPart, SceneObject

Rgba = tuple[float, float, float, float]

COLOURS: dict[str, Rgba] = {
    "red": (0.85, 0.10, 0.08, 1.0),
    "green": (0.12, 0.62, 0.18, 1.0),
    "blue": (0.10, 0.28, 0.88, 1.0),
    "yellow": (0.98, 0.84, 0.08, 1.0),
    "orange": (1.0, 0.48, 0.02, 1.0),
    "purple": (0.50, 0.16, 0.70, 1.0),
    "white": (0.93, 0.93, 0.91, 1.0),
    "black": (0.10, 0.10, 0.11, 1.0),
}

# Looks shared by the set: glazed ceramics shine, plastics less, wood not at all.
CERAMIC = Material("ceramic", specular=0.6, shininess=0.7)
PLASTIC = Material("plastic", specular=0.3, shininess=0.4)
WOOD = Material("cabinet_wood", specular=0.1, shininess=0.1)
METAL = Material("metal", specular=0.8, shininess=0.8)
STEEL: Rgba = (0.55, 0.56, 0.58, 1.0)
CABINET: Rgba = (0.86, 0.84, 0.80, 1.0)
HOUSING: Rgba = (0.22, 0.22, 0.24, 1.0)


@dataclass(frozen=True)
class ObjectKind:
    """One kind of object: how instructions name it, how it stands on the table, how an expert
    grasps it, and its builder.

    `footprint` is the radius (m) of the circle it covers on the table (handle included), for
    placing objects apart; `rest_z` is the height of its origin (the centre of its first
    geom) above the table when it stands on it, `height` its top's. Grasped
    from above, the tool's x axis turns to one of the kind's grasp yaws: `grasp_symmetry` (rad)
    apart from the object's yaw (None: any yaw, it is round; pi: a mug, fingers either side
    of the body with the handle along the tool's x; pi/2: a block, fingers on two faces), at
    `grasp_z` above its centre. All at scale 1 (the Franka's)."""

    name: str
    noun: str
    footprint: float
    rest_z: float
    height: float
    mass: float
    friction: float
    build: Callable[[str, float, Rgba, float], SceneObject]
    graspable: bool = False
    grasp_symmetry: float | None = None
    grasp_z: float = 0.0
    fixed: bool = False  # stands fixed to the table (articulated furniture)


def _vessel(name: str, radius: float, half_height: float, wall: float, taper: float,
            floor: float) -> list[tuple[float, float]]:
    """The section of an open vessel, bottom centre round to the inner bottom centre: a
    bottom `taper` narrower than the rim, walls `wall` thick, an inner floor `floor` up."""
    bottom, top = -half_height, half_height
    outer_bottom = radius - taper
    return [(0.0, bottom), (outer_bottom, bottom), (radius, top), (radius - wall, top),
            (outer_bottom - wall, bottom + floor), (0.0, bottom + floor)]


def cup(name: str, scale: float, rgba: Rgba, mass: float) -> SceneObject:
    r, h = 0.03 * scale, 0.05 * scale
    look = revolve(f"cup_{scale:g}", _vessel(name, r + 0.002 * scale, h, 0.004 * scale,
                                             0.006 * scale, 0.01 * scale))
    return SceneObject(name, "cylinder", (r, h), (0.0, 0.0, h), rgba, mass=mass, friction=1.0,
                       visible=False,
                       parts=(ObjectPart("mesh", (), mesh=look, material=PLASTIC),))


def mug(name: str, scale: float, rgba: Rgba, mass: float) -> SceneObject:
    r, h = 0.03 * scale, 0.042 * scale
    body = revolve(f"mug_{scale:g}", _vessel(name, r, h, 0.005 * scale, 0.0, 0.01 * scale))
    handle = tube_arc(f"mug_handle_{scale:g}", 0.021 * scale, 0.0045 * scale,
                      -1.35, 1.35)
    return SceneObject(
        name, "cylinder", (r, h), (0.0, 0.0, h), rgba, mass=mass, friction=1.0, visible=False,
        parts=(
            ObjectPart("mesh", (), mesh=body, material=CERAMIC),
            ObjectPart("mesh", (), (r - 0.006 * scale, 0.0, 0.0), mesh=handle,
                       material=CERAMIC),
            # The handle collides as a box, so a finger cannot pass through it.
            ObjectPart("box", (0.01 * scale, 0.0045 * scale, 0.02 * scale),
                       (r + 0.01 * scale, 0.0, 0.0), collide=True, visible=False),
        ),
    )


def bowl(name: str, scale: float, rgba: Rgba, mass: float) -> SceneObject:
    """A bowl on a foot; its origin is the middle of its floor disc (the first geom)."""
    r, h, t = 0.075 * scale, 0.024 * scale, 0.004 * scale
    foot = 0.04 * scale
    look = revolve(f"bowl_{scale:g}", [
        (0.0, -h), (foot, -h), (r * 0.82, -h + 0.45 * h), (r, h), (r - 0.005 * scale, h),
        (r * 0.78, -h + 0.55 * h), (foot - t, -h + 2 * t), (0.0, -h + 2 * t)], segments=28)
    centre = h - t  # the bowl's middle above the origin
    # Colliders: the floor disc and a ring of slanted slabs, so things can lie inside.
    slant, middle = math.atan2(r - foot, 2 * h), (r + foot) / 2
    ring = tuple(
        ObjectPart("box", (t, r * 0.26, h * 1.05),
                   (middle * math.cos(a), middle * math.sin(a), centre),
                   quat=_yaw_tilt(a, slant), collide=True, visible=False)
        for a in (2 * math.pi * k / 10 for k in range(10)))
    return SceneObject(name, "cylinder", (foot, t), (0.0, 0.0, t), rgba, mass=mass,
                       friction=0.9, visible=False,
                       parts=(ObjectPart("mesh", (), (0.0, 0.0, centre), mesh=look,
                                         material=CERAMIC),) + ring)


def plate(name: str, scale: float, rgba: Rgba, mass: float) -> SceneObject:
    r, h = 0.085 * scale, 0.008 * scale
    look = revolve(f"plate_{scale:g}", [
        (0.0, -h), (0.05 * scale, -h), (r, h), (r - 0.006 * scale, h),
        (0.055 * scale, -h + 0.005 * scale), (0.0, -h + 0.005 * scale)], segments=28)
    return SceneObject(name, "cylinder", (r, h), (0.0, 0.0, h), rgba, mass=mass, friction=0.8,
                       visible=False,
                       parts=(ObjectPart("mesh", (), mesh=look, material=CERAMIC),))


def block(name: str, scale: float, rgba: Rgba, mass: float) -> SceneObject:
    half = 0.025 * scale
    return SceneObject(name, "box", (half, half, half), (0.0, 0.0, half), rgba, mass=mass,
                       friction=1.0, material=PLASTIC)


def bin_(name: str, scale: float, rgba: Rgba, mass: float) -> SceneObject:
    hx, hy, hz, t = 0.09 * scale, 0.07 * scale, 0.035 * scale, 0.004 * scale
    wall = dict(collide=True, material=PLASTIC)
    return SceneObject(
        name, "box", (hx, hy, t), (0.0, 0.0, t), rgba, mass=mass, friction=0.9,
        material=PLASTIC,
        parts=(
            ObjectPart("box", (t, hy, hz), (hx - t, 0.0, hz - t), **wall),
            ObjectPart("box", (t, hy, hz), (-hx + t, 0.0, hz - t), **wall),
            ObjectPart("box", (hx, t, hz), (0.0, hy - t, hz - t), **wall),
            ObjectPart("box", (hx, t, hz), (0.0, -hy + t, hz - t), **wall),
        ),
    )


def drawer_cabinet(name: str, scale: float, rgba: Rgba, mass: float) -> SceneObject:
    """A cabinet with one drawer that slides out along -x (link "drawer", 0 = shut); the
    drawer's front shows the object's colour, the carcass is off-white, the handle steel. Its
    origin is the middle of its bottom panel (the first geom), not of its box."""
    hx, hy, hz, t = 0.1 * scale, 0.12 * scale, 0.07 * scale, 0.006 * scale
    travel = 0.12 * scale
    z = hz - t  # the box's centre above the origin
    panel = dict(rgba=CABINET, collide=True, material=WOOD)
    carcass = (
        ObjectPart("box", (hx, hy, t), (0.0, 0.0, z + hz - t), **panel),  # top
        ObjectPart("box", (hx, t, hz), (0.0, hy - t, z), **panel),  # sides
        ObjectPart("box", (hx, t, hz), (0.0, -hy + t, z), **panel),
        ObjectPart("box", (t, hy, hz), (hx - t, 0.0, z), **panel),  # back
    )
    dx, dy, dz = hx - 2 * t, hy - 2.5 * t, hz - 3 * t  # the drawer box's half extents
    inside = dict(rgba=CABINET, collide=True, material=WOOD)
    steel = dict(rgba=STEEL, collide=True, material=METAL)
    pull_x = -dx - 2 * t
    drawer = ObjectLink(
        "drawer", "slide", (-1.0, 0.0, 0.0), (0.0, travel),
        parts=(
            ObjectPart("box", (dx, dy, t / 2), (0.0, 0.0, -dz), **inside),  # floor
            ObjectPart("box", (dx, t / 2, dz), (0.0, dy, 0.0), **inside),
            ObjectPart("box", (dx, t / 2, dz), (0.0, -dy, 0.0), **inside),
            ObjectPart("box", (t / 2, dy, dz), (dx, 0.0, 0.0), **inside),
            ObjectPart("box", (t, hy - t, hz - 2 * t), (-dx - t, 0.0, t / 2), collide=True,
                       material=PLASTIC),  # the front, in the object's colour
            ObjectPart("capsule", (0.007 * scale, 0.045 * scale),
                       (pull_x - 0.02 * scale, 0.0, t / 2),
                       quat=(math.sqrt(0.5), math.sqrt(0.5), 0.0, 0.0), **steel),  # handle
            ObjectPart("box", (0.01 * scale, 0.004 * scale, 0.004 * scale),
                       (pull_x - 0.01 * scale, 0.04 * scale, t / 2), **steel),
            ObjectPart("box", (0.01 * scale, 0.004 * scale, 0.004 * scale),
                       (pull_x - 0.01 * scale, -0.04 * scale, t / 2), **steel),
        ),
        pos=(-t, 0.0, z), mass=mass * 0.3, damping=2.0 * scale, frictionloss=0.2 * scale,
    )
    return SceneObject(name, "box", (hx, hy, t), (0.0, 0.0, t), CABINET, friction=0.8,
                       material=WOOD, parts=carcass, links=(drawer,))


CABINET_TRAVEL = 0.1  # m at scale 1: how far a small cabinet's drawer slides out
# The middle of a small cabinet's pull bar in the cabinet's frame with its drawer shut (m at
# scale 1): it stands CABINET_STANDOFF off the drawer front, so fingers pointing down close
# round it with the hand clear of the front.
CABINET_PULL = (-0.131, 0.0, 0.052)
CABINET_STANDOFF = 0.035


def cabinet(name: str, scale: float, rgba: Rgba, mass: float) -> SceneObject:
    """A small cabinet with one drawer (link "drawer", sliding out along -x, 0 = shut, up to
    `CABINET_TRAVEL`), narrow enough that two or three stand side by side in reach: the kind
    the drawer tasks line up. Painted all over in the object's colour (the front camera sees
    its back and top, so that is where the colour must show); the drawer's inside is
    off-white, so an open drawer shows. Its pull is a vertical steel bar on two posts, at
    `CABINET_PULL`. Origin: the middle of its bottom panel (the first geom)."""
    hx, hy, hz, t = 0.09 * scale, 0.06 * scale, 0.045 * scale, 0.006 * scale
    z = hz - t  # the box's centre above the origin
    panel = dict(collide=True, material=WOOD)  # no rgba: the object's colour
    carcass = (
        ObjectPart("box", (hx, hy, t), (0.0, 0.0, z + hz - t), **panel),  # top
        ObjectPart("box", (hx, t, hz), (0.0, hy - t, z), **panel),  # sides
        ObjectPart("box", (hx, t, hz), (0.0, -hy + t, z), **panel),
        ObjectPart("box", (t, hy, hz), (hx - t, 0.0, z), **panel),  # back
    )
    dx, dy, dz = hx - 2 * t, hy - 2.5 * t, hz - 3 * t  # the drawer box's half extents
    inside = dict(rgba=CABINET, collide=True, material=WOOD)
    steel = dict(rgba=STEEL, collide=True, material=METAL)
    face = -dx - 2 * t  # the drawer front's outer face, in the link's frame
    standoff = CABINET_STANDOFF * scale
    bar_x, bar_z = CABINET_PULL[0] * scale + t, CABINET_PULL[2] * scale - z
    post = (standoff / 2, 0.0035 * scale, 0.004 * scale)
    drawer = ObjectLink(
        "drawer", "slide", (-1.0, 0.0, 0.0), (0.0, CABINET_TRAVEL * scale),
        parts=(
            ObjectPart("box", (dx, dy, t / 2), (0.0, 0.0, -dz), **inside),  # floor
            ObjectPart("box", (dx, t / 2, dz), (0.0, dy, 0.0), **inside),
            ObjectPart("box", (dx, t / 2, dz), (0.0, -dy, 0.0), **inside),
            ObjectPart("box", (t / 2, dy, dz), (dx, 0.0, 0.0), **inside),
            ObjectPart("box", (t, hy - t, hz - 2 * t), (-dx - t, 0.0, t / 2), collide=True,
                       material=WOOD),  # the front, in the object's colour
            ObjectPart("capsule", (0.007 * scale, 0.018 * scale), (bar_x, 0.0, bar_z),
                       **steel),  # the pull: a vertical bar ...
            ObjectPart("box", post, (face - standoff / 2, 0.0, bar_z + 0.016 * scale),
                       **steel),  # ... on two posts
            ObjectPart("box", post, (face - standoff / 2, 0.0, bar_z - 0.016 * scale),
                       **steel),
        ),
        pos=(-t, 0.0, z), mass=mass * 0.3, damping=2.0 * scale, frictionloss=0.2 * scale,
    )
    return SceneObject(name, "box", (hx, hy, t), (0.0, 0.0, t), rgba, friction=0.8,
                       material=WOOD, parts=carcass, links=(drawer,))


def button(name: str, scale: float, rgba: Rgba, mass: float) -> SceneObject:
    """A push button on a dark housing: its cap (link "cap", the object's colour) presses down
    `PRESS_TRAVEL` and springs back; a task counts it pressed past half its travel."""
    r, hz = 0.04 * scale, 0.012 * scale
    cap = ObjectLink(
        "cap", "slide", (0.0, 0.0, 1.0), (-PRESS_TRAVEL * scale, 0.0),
        parts=(ObjectPart("cylinder", (0.026 * scale, 0.008 * scale), (0.0, 0.0, 0.0),
                          collide=True, material=PLASTIC),),
        pos=(0.0, 0.0, hz + 0.006 * scale), mass=0.02, stiffness=300.0 * scale,
        damping=0.5 * scale,
    )
    return SceneObject(name, "cylinder", (r, hz), (0.0, 0.0, hz), HOUSING, friction=0.8,
                       material=PLASTIC, links=(cap,))


PRESS_TRAVEL = 0.01  # m at scale 1: how far a button's cap goes down


def mark(name: str, scale: float, rgba: Rgba, mass: float) -> SceneObject:
    """A target mark on the table (where a pushed object should end up): a coloured square
    on a white border, a millimetre proud of the table top. Nothing collides with it, so
    objects slide over it; it is fixed, like the furniture. Its slab reaches down into the
    table (`MARK_SINK`), so a simulator that collides with it anyway (the PyBullet twin)
    sees only a millimetre step."""
    half, border = 0.045 * scale, 0.007 * scale
    top, sink = MARK_PROUD * scale, MARK_SINK * scale
    slab = (sink + top) / 2  # half thickness; the origin is the slab's centre
    return SceneObject(
        name, "box", (half - border, half - border, slab), (0.0, 0.0, top - slab), rgba,
        friction=0.8, material=PLASTIC, collide=False,
        parts=(ObjectPart("box", (half, half, slab), (0.0, 0.0, -0.0005 * scale),
                          rgba=COLOURS["white"], material=PLASTIC),),
    )


MARK_PROUD = 0.001  # m at scale 1: how far a mark's top stands above the table
MARK_SINK = 0.006  # m at scale 1: how far its slab reaches into the table


def _yaw_tilt(yaw: float, tilt: float) -> tuple[float, float, float, float]:
    """A rotation by `yaw` about z after tilting by `tilt` about y (the slab's outward
    lean): quaternion wxyz."""
    cy, sy = math.cos(yaw / 2), math.sin(yaw / 2)
    ct, st = math.cos(tilt / 2), math.sin(tilt / 2)
    return (cy * ct, -sy * st, cy * st, sy * ct)


KINDS: dict[str, ObjectKind] = {kind.name: kind for kind in (
    ObjectKind("cup", "cup", 0.033, 0.05, 0.1, 0.15, 1.0, cup, graspable=True, grasp_z=0.01),
    ObjectKind("mug", "mug", 0.056, 0.042, 0.084, 0.2, 1.0, mug, graspable=True,
               grasp_symmetry=math.pi, grasp_z=0.004),
    ObjectKind("bowl", "bowl", 0.077, 0.004, 0.048, 0.3, 0.9, bowl),
    ObjectKind("plate", "plate", 0.087, 0.008, 0.016, 0.3, 0.8, plate),
    ObjectKind("block", "block", 0.036, 0.025, 0.05, 0.1, 1.0, block, graspable=True,
               grasp_symmetry=math.pi / 2, grasp_z=0.01),
    ObjectKind("bin", "bin", 0.115, 0.004, 0.07, 0.6, 0.9, bin_),
    ObjectKind("drawer", "drawer", 0.16, 0.006, 0.14, 1.5, 0.8, drawer_cabinet, fixed=True),
    ObjectKind("cabinet", "cabinet", 0.11, 0.006, 0.09, 1.0, 0.8, cabinet, fixed=True),
    ObjectKind("button", "button", 0.042, 0.012, 0.032, 0.2, 0.8, button, fixed=True),
    # A target mark is flat and collides with nothing: its footprint is its half side (objects
    # may overlap its corners), its origin in the table (`mark`); the scale applies to it.
    ObjectKind("mark", "square", 0.045, -0.0025, 0.001, 0.0, 0.8, mark, fixed=True),
)}


def make_object(kind: str, name: str, scale: float = 1.0, colour: str = "red") -> SceneObject:
    """A `kind` object named `name`, in `colour`, at `scale`, with its mass and friction."""
    from librobot_gym.errors import ConfigError

    if kind not in KINDS:
        raise ConfigError(f"unknown object kind {kind!r}; the set has {sorted(KINDS)}")
    if colour not in COLOURS:
        raise ConfigError(f"unknown colour {colour!r}; the set has {sorted(COLOURS)}")
    spec = KINDS[kind]
    obj = spec.build(name, scale, COLOURS[colour], spec.mass * scale ** 2)
    return obj


__all__ = ["COLOURS", "KINDS", "MARK_PROUD", "ObjectKind", "PRESS_TRAVEL", "make_object"]
