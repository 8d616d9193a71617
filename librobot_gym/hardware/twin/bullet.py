"""Building the twin's world in Bullet: the Panda URDF (pybullet_data's, drawn with its
collision meshes unless asked for the detailed ones), the floor, the task's objects from their
primitives, and the quaternion conventions between MuJoCo (wxyz) and Bullet (xyzw)."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from librobot_gym.errors import ConfigError
from librobot_gym.scene import SceneObject, canonical_quat

URDF = "franka_panda/panda.urdf"
FLOOR_RGBA = (0.42, 0.45, 0.5, 1.0)


_urdf_cache: dict[bool, str] = {}


def urdf_file(detailed: bool) -> str:
    """pybullet_data's Panda URDF; unless `detailed`, a copy in a temporary folder whose links
    look like their collision meshes (3,500 triangles instead of 100,000: 10x faster frames)."""
    import pybullet_data

    if detailed:
        return URDF
    if False not in _urdf_cache:
        source = Path(pybullet_data.getDataPath()) / URDF
        meshes = (source.parent / "meshes" / "collision").as_posix()
        text = source.read_text().replace("package://meshes/visual/", meshes + "/")
        text = text.replace("package://meshes/collision/", meshes + "/")
        folder = Path(tempfile.mkdtemp(prefix="librobot-twin-"))
        atexit.register(shutil.rmtree, folder, True)
        (folder / "panda.urdf").write_text(text)
        _urdf_cache[False] = str(folder / "panda.urdf")
    return _urdf_cache[False]


def quat_xyzw(wxyz: Sequence[float]) -> list[float]:
    w, x, y, z = (float(v) for v in wxyz)
    return [x, y, z, w]


def quat_wxyz(xyzw: Sequence[float]) -> np.ndarray:
    x, y, z, w = xyzw
    return canonical_quat([w, x, y, z])


def mat_wxyz(wxyz: Sequence[float]) -> np.ndarray:
    w, x, y, z = (float(v) for v in wxyz)
    return np.array([
        [1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
        [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
        [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)],
    ])



def add_floor(b, height: float) -> None:
    """A 6 x 6 m slab whose top is at `height`."""
    import pybullet as p

    half = [3.0, 3.0, 0.01]
    shape = b.createCollisionShape(p.GEOM_BOX, halfExtents=half)
    look = b.createVisualShape(p.GEOM_BOX, halfExtents=half, rgbaColor=FLOOR_RGBA)
    b.createMultiBody(0, shape, look, [0, 0, height - half[2]])

def drawn_parts(obj: SceneObject) -> list:
    """The parts the twin builds: all but the looks-only meshes (the twin draws an object by
    its primitives, the colliders a mesh look covers included)."""
    return [part for part in obj.parts if part.shape != "mesh"]


def add_object(b, obj: SceneObject) -> int:
    """A body of boxes, cylinders, spheres and capsules (posed parts included): visual shapes,
    and collision shapes for the first and the colliding parts. Meshes are looks only, left
    out; articulated objects are refused (the twin builds no joints in the scene)."""
    import pybullet as p

    kinds = {"box": p.GEOM_BOX, "cylinder": p.GEOM_CYLINDER, "sphere": p.GEOM_SPHERE,
             "capsule": p.GEOM_CAPSULE}
    parts = drawn_parts(obj)
    shapes = [(obj.shape, obj.size, (0.0, 0.0, 0.0), (1.0, 0.0, 0.0, 0.0))] + \
        [(part.shape, part.size, part.pos, part.quat) for part in parts]
    if any(kind not in kinds for kind, *_ in shapes) or any(
            part.shape == "mesh" and part.collide for part in obj.parts):
        raise ConfigError(f"the twin builds boxes, cylinders, spheres and capsules (meshes as "
                          f"looks only); {obj.name!r} has {[kind for kind, *_ in shapes]}")
    if obj.links:
        raise ConfigError(f"the twin builds no articulated objects; {obj.name!r} has links "
                          f"{[link.name for link in obj.links]}")

    def arrays(chosen):  # sizes: box half extents, cylinder/capsule (radius, half h), sphere r
        return {"shapeTypes": [kinds[k] for k, *_ in chosen],
                "halfExtents": [list(s) if k == "box" else [0, 0, 0] for k, s, *_ in chosen],
                "radii": [s[0] if k != "box" else 0 for k, s, *_ in chosen],
                "lengths": [2 * s[1] if k in ("cylinder", "capsule") else 0
                            for k, s, *_ in chosen]}

    def frames(chosen, kind):
        return {f"{kind}FramePositions": [list(x) for _, _, x, _ in chosen],
                f"{kind}FrameOrientations": [quat_xyzw(q) for *_, q in chosen]}

    visual = b.createVisualShapeArray(**arrays(shapes), **frames(shapes, "visual"))
    colliding = shapes[:1] + [shapes[i + 1] for i, part in enumerate(parts) if part.collide]
    kind, size, _, _ = shapes[0]
    if len(colliding) > 1:
        collision = b.createCollisionShapeArray(**arrays(colliding),
                                                **frames(colliding, "collision"))
    elif kind == "box":
        collision = b.createCollisionShape(p.GEOM_BOX, halfExtents=list(size))
    elif kind == "sphere":
        collision = b.createCollisionShape(p.GEOM_SPHERE, radius=size[0])
    else:
        collision = b.createCollisionShape(kinds[kind], radius=size[0], height=2 * size[1])
    body = b.createMultiBody(obj.mass or 0.0, collision, visual, list(obj.pos))
    b.changeDynamics(body, -1, lateralFriction=obj.friction, spinningFriction=0.001,
                     rollingFriction=0.0001)
    colour(b, body, obj, obj.rgba)
    return body

def colour(b, body: int, obj: SceneObject, rgba: Sequence[float]) -> None:
    """Paint an object (and its parts, in their own colours where they have one)."""
    b.changeVisualShape(body, -1, shapeIndex=0, rgbaColor=list(rgba))
    for i, part in enumerate(drawn_parts(obj)):
        b.changeVisualShape(body, -1, shapeIndex=i + 1, rgbaColor=list(part.rgba or rgba))
