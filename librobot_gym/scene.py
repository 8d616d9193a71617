"""What a scene is made of, as data: primitive bodies (`SceneObject` with its `ObjectPart`s and,
for articulated objects, its `ObjectLink`s on slide or hinge joints), the looks they may carry
(`Material` with a built-in `Texture`, `Mesh`es written in code), heaps of loose material
(`MaterialPile`), the zones material is delivered to (`DumpZone`), the room around a tabletop
task (`LabCell` with its `Light`s) and where a robot's cameras look in it (`CameraPose`); and the
one form of a pose's quaternion (`canonical_quat`).

Tasks describe their scenes with these; simulators (MuJoCo, the PyBullet twin) build them. A
foundation module (like `errors`), so hardware stand-ins read a task's scene without importing
tasks. Every field added since the first release has a default that builds what was built
before, so released scenes stay the same.
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
    w = q[0]
    if w != 0.0:  # the usual case, read every step for every object: no search
        return -q if w < 0.0 else q
    nonzero = np.flatnonzero(q)
    return -q if nonzero.size and q[nonzero[0]] < 0 else q


SHAPES = ("box", "cylinder", "sphere", "capsule", "ellipsoid", "mesh")
IDENTITY_QUAT = (1.0, 0.0, 0.0, 0.0)


@dataclass(frozen=True)
class Texture:
    """A texture MuJoCo draws itself (nothing is loaded from disk): `builtin` "checker" (two
    colours in squares), "gradient" (rgb1 to rgb2) or "flat" (rgb1), optionally marked with
    `mark` "edge", "cross" or "random" (speckles of `markrgb`, a `random` fraction of pixels).
    `size` is its width and height in texels."""

    builtin: str
    rgb1: tuple[float, float, float]
    rgb2: tuple[float, float, float] = (0.0, 0.0, 0.0)
    mark: str = "none"
    markrgb: tuple[float, float, float] = (0.0, 0.0, 0.0)
    random: float = 0.0
    size: int = 128

    def __post_init__(self) -> None:
        from librobot_gym.errors import ConfigError

        if self.builtin not in ("checker", "gradient", "flat"):
            raise ConfigError(f"Texture builtin={self.builtin!r}: use 'checker', 'gradient' "
                              f"or 'flat' (MuJoCo's built-in textures)")
        if self.mark not in ("none", "edge", "cross", "random"):
            raise ConfigError(f"Texture mark={self.mark!r}: use 'none', 'edge', 'cross' or "
                              f"'random'")


@dataclass(frozen=True)
class Material:
    """How a surface looks: a base colour, an optional texture repeated `texrepeat` times (per
    metre when `texuniform`, else across the surface), and its highlights. A geom's own colour,
    where it has one, tints the texture. Materials are shared by name: one name, one look."""

    name: str
    rgba: tuple[float, float, float, float] = (1.0, 1.0, 1.0, 1.0)
    texture: Texture | None = None
    texrepeat: tuple[float, float] = (1.0, 1.0)
    texuniform: bool = False
    specular: float = 0.3
    shininess: float = 0.3
    reflectance: float = 0.0


@dataclass(frozen=True)
class Mesh:
    """A triangle mesh written in code: `vertices` (n x 3, m, flattened) and `faces` (triangles
    of vertex indices, flattened, counter-clockwise seen from outside). Simulators collide with
    a mesh's convex hull, so meshes serve as looks; colliding shapes are primitives. Shared by
    name: one name, one mesh."""

    name: str
    vertices: tuple[float, ...]
    faces: tuple[int, ...]

    def __post_init__(self) -> None:
        from librobot_gym.errors import ConfigError

        n = len(self.vertices) // 3
        if len(self.vertices) % 3 or len(self.faces) % 3 or n < 4 or not self.faces \
                or min(self.faces) < 0 or max(self.faces) >= n:
            raise ConfigError(f"Mesh {self.name!r}: needs >= 4 vertices (x, y, z flattened) "
                              f"and triangles of indices below {n} (flattened, 3 per face)")


@dataclass(frozen=True)
class ObjectPart:
    """A further primitive of a scene object, in its frame: visual only unless `collide`.
    A named part is reported apart from its object in robot contacts (e.g. a truck's cab).
    Without an `rgba` of its own, a part takes the object's colour, also when a reset
    recolours the object. `visible=False` makes an invisible collider (the simple shape under
    a detailed look)."""

    shape: str
    size: tuple[float, ...]
    pos: tuple[float, float, float] = (0.0, 0.0, 0.0)
    rgba: tuple[float, float, float, float] | None = None  # None: the object's colour
    collide: bool = False
    name: str | None = None
    quat: tuple[float, float, float, float] = IDENTITY_QUAT  # wxyz, in the object's frame
    mesh: Mesh | None = None  # the mesh of shape "mesh"
    material: Material | None = None
    visible: bool = True
    friction: float | None = None  # None: the object's


@dataclass(frozen=True)
class ObjectLink:
    """A moving part of an articulated object (a drawer, a button's cap): a body at `pos` in
    the object's frame, on one joint: "slide" along `axis` (m) or "hinge" about it (rad),
    within `limits`. A spring (`stiffness`, N/m or N m/rad) pulls it back to `spring_ref`;
    `damping` and `frictionloss` resist motion. Its parts collide unless they say otherwise;
    the joint's position reaches tasks as `WorldState.joint_pos_of["<object>/<link>"]`."""

    name: str
    joint: str
    axis: tuple[float, float, float]
    limits: tuple[float, float]
    parts: tuple[ObjectPart, ...]
    pos: tuple[float, float, float] = (0.0, 0.0, 0.0)
    mass: float = 0.1
    damping: float = 1.0
    stiffness: float = 0.0
    spring_ref: float = 0.0
    frictionloss: float = 0.0

    def __post_init__(self) -> None:
        from librobot_gym.errors import ConfigError

        if self.joint not in ("slide", "hinge"):
            raise ConfigError(f"ObjectLink {self.name!r}: joint={self.joint!r} must be "
                              f"'slide' or 'hinge'")
        if not self.limits[0] < self.limits[1] or not self.parts:
            raise ConfigError(f"ObjectLink {self.name!r}: needs limits (low < high) and at "
                              f"least one part")


@dataclass(frozen=True)
class SceneObject:
    """A body in the scene. `shape` is "box" (size = half extents), "cylinder" (radius, half
    height), "sphere" (radius), "capsule" (radius, half length), "ellipsoid" (three radii) or
    "mesh" (`mesh`). Free objects have a mass; fixed ones are part of the arena. The first
    geom collides (`visible=False` hides it under its parts' looks) unless `collide=False`,
    which only fixed objects may say (a mark on the table); `parts` add shapes, `links` moving
    parts on joints."""

    name: str
    shape: str
    size: tuple[float, ...]
    pos: tuple[float, float, float]
    rgba: tuple[float, float, float, float]
    mass: float | None = None  # None: fixed to the world
    friction: float = 1.0
    parts: tuple[ObjectPart, ...] = ()
    material: Material | None = None
    mesh: Mesh | None = None
    visible: bool = True
    links: tuple[ObjectLink, ...] = ()
    collide: bool = True

    def __post_init__(self) -> None:
        from librobot_gym.errors import ConfigError

        if not self.collide and self.mass is not None:
            raise ConfigError(f"scene object {self.name!r}: a free object collides (it would "
                              f"fall through the table); collide=False is for fixed marks")
        shapes = [self.shape] + [p.shape for p in self.parts] + \
            [p.shape for link in self.links for p in link.parts]
        unknown = sorted(set(shapes) - set(SHAPES))
        if unknown:
            raise ConfigError(f"scene object {self.name!r}: unknown shape {unknown}; use one "
                              f"of {SHAPES}")
        meshless = (self.shape == "mesh" and self.mesh is None) or any(
            p.shape == "mesh" and p.mesh is None
            for p in self.parts + tuple(q for link in self.links for q in link.parts))
        if meshless:
            raise ConfigError(f"scene object {self.name!r}: a 'mesh' shape needs its mesh=Mesh")

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
    # A visual box geom (no collisions) of the body that shows the delivered heap: placed with
    # its top at the floor (hidden), the material model raises it by the delivered volume over
    # its footprint, at most its own height. None: the heap is not drawn.
    load_geom: str | None = None


@dataclass(frozen=True)
class Light:
    """A light of a `LabCell`: a spotlight at `pos` shining along `dir` (or, `directional`, a
    sun from that direction). Only lights with `castshadow` cast shadows, and only when the
    env renders shadows at all (`fast_render=False`: they cost 10-40x on a CPU rasteriser)."""

    name: str
    pos: tuple[float, float, float]
    dir: tuple[float, float, float]
    diffuse: tuple[float, float, float] = (0.6, 0.6, 0.6)
    specular: tuple[float, float, float] = (0.2, 0.2, 0.2)
    directional: bool = False
    castshadow: bool = False
    cutoff: float = 60.0  # deg, a spotlight's half angle


@dataclass(frozen=True)
class Sky:
    """A gradient skybox: what a camera sees where no geometry stands. Without one MuJoCo
    clears to black, and a camera that looks over a wall or past the ground's edge shows a
    black void no real camera would (the outdoor machines' horizon, an indoor room's open top).
    `zenith` is the colour straight up, `horizon` the colour from the horizon down. Outdoors
    the sky also holds a sun (a directional light shining along `sun_dir`, no shadow): the
    arena's spotlights light a few metres round the origin, not a 200 m haul road."""

    zenith: tuple[float, float, float] = (0.42, 0.6, 0.85)
    horizon: tuple[float, float, float] = (0.86, 0.89, 0.93)
    sun_dir: tuple[float, float, float] | None = None
    sun_diffuse: tuple[float, float, float] = (0.45, 0.44, 0.42)


OUTDOOR_SKY = Sky(sun_dir=(-0.35, 0.25, -1.0))
INDOOR_SKY = Sky(zenith=(0.80, 0.81, 0.83), horizon=(0.66, 0.66, 0.68))  # a pale ceiling grey


@dataclass(frozen=True)
class LabCell:
    """The room around a tabletop task, replacing the plain arena: a floor and walls with their
    materials (the walls stand on the floor around a `half_size` rectangle centred at `centre`,
    in the robot base frame; `open_front` leaves the wall in front of the robot out, where the
    front camera stands), lights, and the headlight's share (`ambient`, `headlight`: the light
    every camera carries, rgb grey levels). Walls are looks: nothing collides with them.
    With `sleep`, objects at rest sleep until something touches them (MuJoCo's island
    sleeping): a pool of idle objects and a table of still ones then cost no physics."""

    floor: Material
    wall: Material
    half_size: tuple[float, float]
    wall_height: float
    lights: tuple[Light, ...]
    centre: tuple[float, float] = (0.0, 0.0)
    ambient: float = 0.3
    headlight: float = 0.25
    open_front: bool = True
    sleep: bool = True


@dataclass(frozen=True)
class CameraPose:
    """Where one of the robot's cameras (`name`, e.g. "front") looks in this scene: its position
    and the point it looks at, in the frame of the body the robot mounts it on (the world for
    fixed cameras), with `up` the direction that points up in the image, and its vertical field
    of view. The camera keeps its name and mount, so observations keep their keys: a task
    frames its own views without touching the robot's description."""

    name: str
    pos: tuple[float, float, float]
    lookat: tuple[float, float, float]
    fovy: float
    up: tuple[float, float, float] = (0.0, 0.0, 1.0)

    def quat(self) -> np.ndarray:
        """The camera frame's orientation (wxyz): it looks along its -z, x to the image's
        right, y up, as MuJoCo's cameras do."""
        from librobot_gym.errors import ConfigError

        back = np.subtract(self.pos, self.lookat).astype(np.float64)
        right = np.cross(self.up, back)
        if np.linalg.norm(back) < 1e-9 or np.linalg.norm(right) < 1e-9 * np.linalg.norm(back):
            raise ConfigError(f"camera {self.name!r}: lookat must differ from pos and up must "
                              f"not be parallel to the view direction")
        z = back / np.linalg.norm(back)
        x = right / np.linalg.norm(right)
        return rotation_quat(np.column_stack([x, np.cross(z, x), z]))


def rotation_quat(rot: np.ndarray) -> np.ndarray:
    """The quaternion (wxyz, canonical) of a 3x3 rotation matrix."""
    m = np.asarray(rot, dtype=np.float64)
    trace = m[0, 0] + m[1, 1] + m[2, 2]
    if trace > 0:
        s = 2.0 * np.sqrt(trace + 1.0)
        q = [0.25 * s, (m[2, 1] - m[1, 2]) / s, (m[0, 2] - m[2, 0]) / s, (m[1, 0] - m[0, 1]) / s]
    else:
        i = int(np.argmax(np.diag(m)))
        j, k = (i + 1) % 3, (i + 2) % 3
        s = 2.0 * np.sqrt(1.0 + m[i, i] - m[j, j] - m[k, k])
        q = [0.0] * 4
        q[0] = (m[k, j] - m[j, k]) / s
        q[1 + i] = 0.25 * s
        q[1 + j] = (m[j, i] + m[i, j]) / s
        q[1 + k] = (m[k, i] + m[i, k]) / s
    q = np.array(q)
    return canonical_quat(q / np.linalg.norm(q))


@dataclass(frozen=True)
class Cell:
    """A robot's surroundings as a stand-in simulator builds them: the task's scene objects and
    the floor's height (m, base frame). The env passes its task's cell to drivers that simulate
    the world (the twin); `librobot bridge serve --driver twin --task NAME` builds it likewise."""

    objects: tuple[SceneObject, ...]
    floor_height: float

    @classmethod
    def of(cls, task) -> Cell:
        """The cell of a task instance (anything with `scene()` and `floor_height`): its scene
        objects (the room, lights and camera poses are the renderer's business)."""
        return cls(tuple(o for o in task.scene() if isinstance(o, SceneObject)),
                   float(task.floor_height))
