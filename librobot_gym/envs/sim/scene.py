"""Builds the MuJoCo model of one env: the robot's MJCF, an arena (plain, or the task's lab
cell) and the task's scene: objects with their parts, links, materials and meshes, material
piles, and the task's camera poses."""

from __future__ import annotations

import mujoco

from librobot_gym.envs.sim.lab import add_lab_cell, set_camera_pose
from librobot_gym.envs.tasks.base import DumpZone, MaterialPile, SceneObject
from librobot_gym.errors import ConfigError
from librobot_gym.robots import RobotSpec
from librobot_gym.scene import (
    IDENTITY_QUAT,
    CameraPose,
    LabCell,
    Material,
    Mesh,
    ObjectLink,
    ObjectPart,
    Sky,
)

# Scene geoms collide with robot geoms (contype 2 / conaffinity 1 in the robot MJCFs) and with
# each other; robot links never collide with each other.
SCENE_CONTYPE = 1
SCENE_CONAFFINITY = 3
# Height fields are stored normalised to [0, 1] of this many pile heights (room to pile up).
PILE_HEADROOM = 1.6

# Links (a drawer, a button's cap) are light: a little armature and stiff limits keep them at
# their end stops when a 70 N hand pushes on them.
LINK_ARMATURE = 0.01
LINK_LIMIT_SOLREF = [0.005, 1.0]
# Geoms in this group are not drawn (MuJoCo draws groups 0-2): invisible colliders.
HIDDEN_GROUP = 3

_SHAPES = {"box": mujoco.mjtGeom.mjGEOM_BOX, "cylinder": mujoco.mjtGeom.mjGEOM_CYLINDER,
           "sphere": mujoco.mjtGeom.mjGEOM_SPHERE, "capsule": mujoco.mjtGeom.mjGEOM_CAPSULE,
           "ellipsoid": mujoco.mjtGeom.mjGEOM_ELLIPSOID, "mesh": mujoco.mjtGeom.mjGEOM_MESH}


def _size3(size: tuple[float, ...]) -> list[float]:
    return list(size) + [0.0] * (3 - len(size))


def part_geom_name(obj: SceneObject, index: int) -> str:
    return f"{obj.name}_part{index}"


def link_name(obj: SceneObject, link: ObjectLink) -> str:
    """The name of a link's body and joint (and, "<object>/<link>", of its joint position in
    `WorldState.object_joints`)."""
    return f"{obj.name}_{link.name}"


def link_geom_name(obj: SceneObject, link: ObjectLink, index: int) -> str:
    return f"{link_name(obj, link)}_part{index}"


def painted_geoms(obj: SceneObject, rgba) -> list[tuple[str, list[float]]]:
    """(geom name, colour) of every geom that shows the object's colour: the first geom and
    the parts (of the object and of its links) without a colour of their own."""
    painted = [(obj.name, list(rgba))]
    painted += [(part_geom_name(obj, i), list(rgba))
                for i, part in enumerate(obj.parts) if part.rgba is None]
    painted += [(link_geom_name(obj, link, i), list(rgba))
                for link in obj.links for i, part in enumerate(link.parts) if part.rgba is None]
    return painted


class _Assets:
    """Materials (with their textures) and meshes added once per name; the same name with
    different contents is refused, as two looks under one name would be a silent mix-up."""

    def __init__(self, spec: mujoco.MjSpec):
        self.spec = spec
        self.seen: dict[str, Material | Mesh] = {}

    def _first(self, item: Material | Mesh) -> bool:
        key = f"{type(item).__name__}:{item.name}"
        if key in self.seen:
            if self.seen[key] != item:
                raise ConfigError(f"two different {type(item).__name__.lower()}s are named "
                                  f"{item.name!r} in one scene: give each its own name")
            return False
        self.seen[key] = item
        return True

    def material(self, material: Material | None) -> str | None:
        if material is None:
            return None
        if self._first(material):
            textures = [""] * int(mujoco.mjtTextureRole.mjNTEXROLE)
            if material.texture is not None:
                tex = material.texture
                texture_name = f"{material.name}_texture"
                self.spec.add_texture(
                    name=texture_name, type=mujoco.mjtTexture.mjTEXTURE_2D,
                    builtin=getattr(mujoco.mjtBuiltin, f"mjBUILTIN_{tex.builtin.upper()}"),
                    rgb1=list(tex.rgb1), rgb2=list(tex.rgb2), width=tex.size, height=tex.size,
                    mark=getattr(mujoco.mjtMark, f"mjMARK_{tex.mark.upper()}"),
                    markrgb=list(tex.markrgb), random=tex.random)
                textures[int(mujoco.mjtTextureRole.mjTEXROLE_RGB)] = texture_name
            self.spec.add_material(
                name=material.name, rgba=list(material.rgba), textures=textures,
                texrepeat=list(material.texrepeat), texuniform=material.texuniform,
                specular=material.specular, shininess=material.shininess,
                reflectance=material.reflectance)
        return material.name

    def mesh(self, mesh: Mesh | None) -> str | None:
        if mesh is None:
            return None
        if self._first(mesh):
            self.spec.add_mesh(name=mesh.name, uservert=list(mesh.vertices),
                               userface=list(mesh.faces))
        return mesh.name


def _look(assets: _Assets, mesh: Mesh | None, material: Material | None, visible: bool,
          quat=IDENTITY_QUAT) -> dict:
    """The geom attributes added since the first release, only where they are set: a scene
    that sets none of them compiles to the model it always did."""
    extra: dict = {}
    if tuple(quat) != IDENTITY_QUAT:
        extra["quat"] = list(quat)
    if mesh is not None:
        extra["meshname"] = assets.mesh(mesh)
    if material is not None:
        extra["material"] = assets.material(material)
    if not visible:
        extra["group"] = HIDDEN_GROUP
    return extra


def _add_part(body, assets: _Assets, obj: SceneObject, part: ObjectPart, name: str,
              mass: float = 0.0) -> None:
    collide = part.collide
    extra = _look(assets, part.mesh, part.material, part.visible, part.quat)
    if part.friction is not None:
        extra["friction"] = [part.friction, 0.005, 0.0001]
    body.add_geom(
        name=name, type=_SHAPES[part.shape], size=_size3(part.size),
        pos=list(part.pos), rgba=list(part.rgba or obj.rgba),
        contype=SCENE_CONTYPE if collide else 0,
        conaffinity=SCENE_CONAFFINITY if collide else 0,
        mass=mass, density=0.0, **extra,
    )


def _add_link(spec: mujoco.MjSpec, body, assets: _Assets, obj: SceneObject,
              link: ObjectLink) -> None:
    """A moving part on its joint; it never collides with its own object (a drawer slides in
    its cabinet, a button's cap sits in its housing)."""
    child = body.add_body(name=link_name(obj, link), pos=list(link.pos))
    spec.add_exclude(bodyname1=obj.name, bodyname2=link_name(obj, link))
    kind = mujoco.mjtJoint.mjJNT_SLIDE if link.joint == "slide" else mujoco.mjtJoint.mjJNT_HINGE
    child.add_joint(name=link_name(obj, link), type=kind, axis=list(link.axis),
                    range=list(link.limits), limited=mujoco.mjtLimited.mjLIMITED_TRUE,
                    damping=link.damping, stiffness=link.stiffness,
                    springref=link.spring_ref, frictionloss=link.frictionloss,
                    armature=LINK_ARMATURE, solref_limit=LINK_LIMIT_SOLREF,
                    solimp_limit=[0.95, 0.99, 0.001, 0.5, 2.0])
    share = link.mass / len(link.parts)
    for i, part in enumerate(link.parts):
        _add_part(child, assets, obj, part, link_geom_name(obj, link, i), mass=share)


def _add_object(spec: mujoco.MjSpec, obj: SceneObject, assets: _Assets) -> None:
    body = spec.worldbody.add_body(name=obj.name, pos=list(obj.pos))
    if obj.free:
        body.add_freejoint(name=f"{obj.name}_joint")
    body.add_geom(
        name=obj.name, type=_SHAPES[obj.shape], size=_size3(obj.size), rgba=list(obj.rgba),
        friction=[obj.friction, 0.005, 0.0001], condim=4 if obj.free else 3,
        contype=SCENE_CONTYPE if obj.collide else 0,
        conaffinity=SCENE_CONAFFINITY if obj.collide else 0,
        **({"mass": obj.mass} if obj.free else {}),
        **_look(assets, obj.mesh, obj.material, obj.visible),
    )
    for i, part in enumerate(obj.parts):
        _add_part(body, assets, obj, part, part_geom_name(obj, i))
    for link in obj.links:
        _add_link(spec, body, assets, obj, link)


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


def _add_sky(spec: mujoco.MjSpec, sky: Sky) -> None:
    """A small gradient skybox (a 32-pixel cube: a gradient needs no more). It is one more
    draw over the whole frame: ~12% of a DigDump-v1 frame pair on the CPU rasteriser (the
    texture's size makes no difference; GL fog does not colour the background)."""
    spec.add_texture(name="sky", type=mujoco.mjtTexture.mjTEXTURE_SKYBOX,
                     builtin=mujoco.mjtBuiltin.mjBUILTIN_GRADIENT, width=32, height=32,
                     rgb1=list(sky.zenith), rgb2=list(sky.horizon))
    if sky.sun_dir is not None:
        spec.worldbody.add_light(name="sun", type=mujoco.mjtLightType.mjLIGHT_DIRECTIONAL,
                                 pos=[0.0, 0.0, 50.0], dir=list(sky.sun_dir),
                                 diffuse=list(sky.sun_diffuse), castshadow=False)


def build_model(robot: RobotSpec, scene: list, fast_render: bool,
                floor_height: float = 0.0) -> mujoco.MjModel:
    """Compile robot + arena + scene objects (+ material piles) into one model. A `LabCell` in
    the scene replaces the plain arena (floor and lights) with its room; `CameraPose`s move
    the robot's cameras for this scene."""
    spec = mujoco.MjSpec.from_file(str(robot.asset_path))
    assets = _Assets(spec)
    cells = [item for item in scene if isinstance(item, LabCell)]
    if len(cells) > 1:
        raise ConfigError("a scene has at most one LabCell")
    if cells:
        add_lab_cell(spec, cells[0], floor_height, fast_render, assets.material,
                     SCENE_CONTYPE, SCENE_CONAFFINITY)
    else:
        _add_plain_arena(spec, robot, fast_render, floor_height)
    for item in scene:
        if isinstance(item, SceneObject):
            _add_object(spec, item, assets)
        elif isinstance(item, MaterialPile):
            _add_pile(spec, item)
        elif isinstance(item, CameraPose):
            set_camera_pose(spec, item, robot.name)
        elif isinstance(item, Sky):
            _add_sky(spec, item)
        elif not isinstance(item, DumpZone | LabCell):
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
    if cells and cells[0].sleep:
        model.opt.enableflags |= int(mujoco.mjtEnableBit.mjENBL_SLEEP)
    if cells:
        model.vis.headlight.ambient[:] = cells[0].ambient
        model.vis.headlight.diffuse[:] = cells[0].headlight
        model.vis.headlight.specular[:] = 0.05
    else:
        model.vis.headlight.ambient[:] = 0.35
    return model


def _add_plain_arena(spec: mujoco.MjSpec, robot: RobotSpec, fast_render: bool,
                     floor_height: float) -> None:
    """A grey floor and two lights: the arena of the scenes released before the lab cell."""
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


def free_joint_addresses(model: mujoco.MjModel, name: str) -> tuple[int, int]:
    """(qpos address, qvel address) of a free object's joint."""
    joint = model.joint(f"{name}_joint")
    return int(joint.qposadr[0]), int(joint.dofadr[0])


def colliding_geoms(obj: SceneObject) -> list[str]:
    """The names of an object's colliding geoms (its first geom and colliding parts; not its
    links': a gripper holds an object by its body)."""
    return [obj.name] * obj.collide + [part_geom_name(obj, i)
                                       for i, part in enumerate(obj.parts) if part.collide]


def contact_labels(model: mujoco.MjModel, objects: list[SceneObject]) -> dict[int, str]:
    """For every colliding geom of a fixed object: the name robot contacts report it under."""
    labels = {model.geom("floor").id: "floor"}
    for obj in objects:
        if obj.free:
            continue
        if obj.collide:
            labels[model.geom(obj.name).id] = obj.name
        for i, part in enumerate(obj.parts):
            if part.collide:
                labels[model.geom(part_geom_name(obj, i)).id] = part.name or obj.name
    return labels
