"""The room a tabletop task's scene stands in (a `LabCell`: floor, walls, lights), and camera
poses a task sets for the robot's cameras (`CameraPose`), added to a MuJoCo spec."""

from __future__ import annotations

from collections.abc import Callable

import mujoco

from librobot_gym.errors import ConfigError
from librobot_gym.scene import CameraPose, LabCell, Material

WALL_THICKNESS = 0.02  # m
# Floor squares: a plane renders one quad per grid square, so keep them large.
FLOOR_GRID = 0.5  # m


def add_lab_cell(spec: mujoco.MjSpec, cell: LabCell, floor_height: float, fast_render: bool,
                 material: Callable[[Material], str | None], contype: int,
                 conaffinity: int) -> None:
    """Floor (colliding, named "floor" as the plain arena's), walls (looks only) and lights."""
    (cx, cy), (hx, hy) = cell.centre, cell.half_size
    spec.worldbody.add_geom(
        name="floor", type=mujoco.mjtGeom.mjGEOM_PLANE, size=[hx, hy, FLOOR_GRID],
        pos=[cx, cy, floor_height], rgba=[1.0, 1.0, 1.0, 1.0], material=material(cell.floor),
        contype=contype, conaffinity=conaffinity,
    )
    half_h = cell.wall_height / 2
    z = floor_height + half_h
    t = WALL_THICKNESS / 2
    walls = {
        "wall_back": ([cx - hx - t, cy, z], [t, hy, half_h]),
        "wall_left": ([cx, cy - hy - t, z], [hx, t, half_h]),
        "wall_right": ([cx, cy + hy + t, z], [hx, t, half_h]),
    }
    if not cell.open_front:
        walls["wall_front"] = ([cx + hx + t, cy, z], [t, hy, half_h])
    for name, (pos, size) in walls.items():
        spec.worldbody.add_geom(
            name=name, type=mujoco.mjtGeom.mjGEOM_BOX, size=size, pos=pos,
            rgba=[1.0, 1.0, 1.0, 1.0], material=material(cell.wall), contype=0, conaffinity=0,
        )
    for light in cell.lights:
        spec.worldbody.add_light(
            name=light.name, pos=list(light.pos), dir=list(light.dir),
            diffuse=list(light.diffuse), specular=list(light.specular),
            type=mujoco.mjtLightType.mjLIGHT_DIRECTIONAL if light.directional
            else mujoco.mjtLightType.mjLIGHT_SPOT,
            cutoff=light.cutoff, castshadow=light.castshadow and not fast_render,
        )


def set_camera_pose(spec: mujoco.MjSpec, pose: CameraPose, robot_name: str) -> None:
    """Point the robot's camera `pose.name` where the scene asks (same name, same mount)."""
    camera = spec.camera(pose.name)
    if camera is None:
        raise ConfigError(f"the scene sets camera {pose.name!r}, which robot {robot_name!r} "
                          f"lacks; its cameras are {[c.name for c in spec.cameras]}")
    camera.pos = list(pose.pos)
    camera.alt.type = mujoco.mjtOrientation.mjORIENTATION_QUAT
    camera.quat = list(pose.quat())
    camera.fovy = pose.fovy
