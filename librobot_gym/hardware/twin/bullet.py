"""Building the twin's world in Bullet: the Panda URDF (pybullet_data's, drawn with its
collision meshes unless asked for the detailed ones), the floor, the task's boxes and cylinders
with their parts, and the quaternion conventions between MuJoCo (wxyz) and Bullet (xyzw)."""

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

def add_object(b, obj: SceneObject) -> int:
    """A box or cylinder body; its parts are extra visual shapes (collision if they say)."""
    import pybullet as p

    kinds = {"box": p.GEOM_BOX, "cylinder": p.GEOM_CYLINDER}
    shapes = [(obj.shape, obj.size, (0.0, 0.0, 0.0))] + \
        [(part.shape, part.size, part.pos) for part in obj.parts]
    if any(kind not in kinds for kind, _, _ in shapes):
        raise ConfigError(f"the twin builds boxes and cylinders; {obj.name!r} has "
                          f"{[kind for kind, _, _ in shapes]}")

    def arrays(chosen):  # SceneObject sizes: box half extents, cylinder (radius, half h)
        return {"shapeTypes": [kinds[k] for k, _, _ in chosen],
                "halfExtents": [list(s) if k == "box" else [0, 0, 0] for k, s, _ in chosen],
                "radii": [s[0] if k == "cylinder" else 0 for k, s, _ in chosen],
                "lengths": [2 * s[1] if k == "cylinder" else 0 for k, s, _ in chosen]}

    visual = b.createVisualShapeArray(**arrays(shapes),
                                      visualFramePositions=[list(x) for _, _, x in shapes])
    colliding = shapes[:1] + [shapes[i + 1] for i, part in enumerate(obj.parts)
                              if part.collide]
    kind, size, _ = shapes[0]
    if len(colliding) > 1:
        collision = b.createCollisionShapeArray(
            **arrays(colliding), collisionFramePositions=[list(x) for _, _, x in colliding])
    elif kind == "box":
        collision = b.createCollisionShape(p.GEOM_BOX, halfExtents=list(size))
    else:
        collision = b.createCollisionShape(p.GEOM_CYLINDER, radius=size[0],
                                           height=2 * size[1])
    body = b.createMultiBody(obj.mass or 0.0, collision, visual, list(obj.pos))
    b.changeDynamics(body, -1, lateralFriction=obj.friction, spinningFriction=0.001,
                     rollingFriction=0.0001)
    colour(b, body, obj, obj.rgba)
    return body

def colour(b, body: int, obj: SceneObject, rgba: Sequence[float]) -> None:
    """Paint an object (and its parts, in their own colours where they have one)."""
    b.changeVisualShape(body, -1, shapeIndex=0, rgbaColor=list(rgba))
    for i, part in enumerate(obj.parts):
        b.changeVisualShape(body, -1, shapeIndex=i + 1, rgbaColor=list(part.rgba or rgba))
