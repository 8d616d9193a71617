"""Builds the MuJoCo model of one env: the robot's MJCF, a plain arena and the task's scene."""

from __future__ import annotations

import mujoco

from librobot_gym.envs.tasks.base import DumpZone, MaterialPile, SceneObject
from librobot_gym.robots import RobotSpec

# Scene geoms collide with robot geoms (contype 2 / conaffinity 1 in the robot MJCFs) and with
# each other; robot links never collide with each other.
SCENE_CONTYPE = 1
SCENE_CONAFFINITY = 3
# Height fields are stored normalised to [0, 1] of this many pile heights (room to pile up).
PILE_HEADROOM = 1.6

_SHAPES = {"box": mujoco.mjtGeom.mjGEOM_BOX, "cylinder": mujoco.mjtGeom.mjGEOM_CYLINDER}


def _size3(size: tuple[float, ...]) -> list[float]:
    return list(size) + [0.0] * (3 - len(size))


def part_geom_name(obj: SceneObject, index: int) -> str:
    return f"{obj.name}_part{index}"


def _add_object(spec: mujoco.MjSpec, obj: SceneObject) -> None:
    body = spec.worldbody.add_body(name=obj.name, pos=list(obj.pos))
    if obj.free:
        body.add_freejoint(name=f"{obj.name}_joint")
    body.add_geom(
        name=obj.name, type=_SHAPES[obj.shape], size=_size3(obj.size), rgba=list(obj.rgba),
        friction=[obj.friction, 0.005, 0.0001], condim=4 if obj.free else 3,
        contype=SCENE_CONTYPE, conaffinity=SCENE_CONAFFINITY,
        **({"mass": obj.mass} if obj.free else {}),
    )
    for i, part in enumerate(obj.parts):
        body.add_geom(
            name=part_geom_name(obj, i), type=_SHAPES[part.shape], size=_size3(part.size),
            pos=list(part.pos), rgba=list(part.rgba or obj.rgba),
            contype=SCENE_CONTYPE if part.collide else 0,
            conaffinity=SCENE_CONAFFINITY if part.collide else 0,
            mass=0.0, density=0.0,
        )


def pile_grid(pile: MaterialPile) -> tuple[int, float]:
    """Cells per side and half extent (m) of the square grid that holds `pile`."""
    half = pile.radius * 1.4
    return int(round(2 * half / pile.cell)) + 1, half


def _add_pile(spec: mujoco.MjSpec, pile: MaterialPile) -> None:
    """The pile as a height field, for looks only: digging is the material model's business."""
    n, half = pile_grid(pile)
    spec.add_hfield(name=pile.name, size=[half, half, pile.height * PILE_HEADROOM, 0.05],
                    nrow=n, ncol=n, userdata=[0.0] * (n * n))
    spec.worldbody.add_geom(
        name=pile.name, type=mujoco.mjtGeom.mjGEOM_HFIELD, hfieldname=pile.name,
        pos=[pile.centre[0], pile.centre[1], 0.0], rgba=list(pile.rgba), contype=0, conaffinity=0,
    )


def build_model(robot: RobotSpec, scene: list, fast_render: bool,
                floor_height: float = 0.0) -> mujoco.MjModel:
    """Compile robot + arena + scene objects (+ material piles) into one model."""
    spec = mujoco.MjSpec.from_file(str(robot.asset_path))
    heavy = robot.family == "heavy"
    extent, height = (40.0, 25.0) if heavy else (3.0, 2.5)
    # A plane renders one quad per grid square: keep them few (a 40 m plane at 0.1 m spacing
    # is 640,000 quads, 5 ms per image on a CPU rasteriser).
    grid = 2.0 if heavy else 0.1
    spec.worldbody.add_light(name="key", pos=[0.6, -0.6, height], dir=[-0.2, 0.2, -1.0],
                             diffuse=[0.7, 0.7, 0.7], castshadow=not fast_render)
    spec.worldbody.add_light(name="fill", pos=[-0.5, 0.8, height * 0.8], dir=[0.3, -0.3, -1.0],
                             diffuse=[0.35, 0.35, 0.35], castshadow=False)
    spec.worldbody.add_geom(
        name="floor", type=mujoco.mjtGeom.mjGEOM_PLANE, size=[extent, extent, grid],
        pos=[0, 0, floor_height], rgba=[0.42, 0.45, 0.5, 1.0],
        contype=SCENE_CONTYPE, conaffinity=SCENE_CONAFFINITY,
    )
    for item in scene:
        if isinstance(item, SceneObject):
            _add_object(spec, item)
        elif isinstance(item, MaterialPile):
            _add_pile(spec, item)
        elif not isinstance(item, DumpZone):
            raise TypeError(f"unknown scene element {item!r}")
    model = spec.compile()
    if fast_render:
        # No shadows, no multisampling, coarser tessellation: ~3x faster 128x128 images on a
        # CPU rasteriser with no visible difference at policy resolutions.
        model.vis.quality.shadowsize = 0
        model.vis.quality.offsamples = 0
        model.vis.quality.numslices = 12
        model.vis.quality.numstacks = 6
        model.vis.quality.numquads = 1
    else:
        model.vis.quality.shadowsize = 4096
        model.vis.quality.offsamples = 4
    model.vis.headlight.ambient[:] = 0.35
    return model


def free_joint_addresses(model: mujoco.MjModel, name: str) -> tuple[int, int]:
    """(qpos address, qvel address) of a free object's joint."""
    joint = model.joint(f"{name}_joint")
    return int(joint.qposadr[0]), int(joint.dofadr[0])


def contact_labels(model: mujoco.MjModel, objects: list[SceneObject]) -> dict[int, str]:
    """For every colliding geom of a fixed object: the name robot contacts report it under."""
    labels = {model.geom("floor").id: "floor"}
    for obj in objects:
        if obj.free:
            continue
        labels[model.geom(obj.name).id] = obj.name
        for i, part in enumerate(obj.parts):
            if part.collide:
                labels[model.geom(part_geom_name(obj, i)).id] = part.name or obj.name
    return labels
