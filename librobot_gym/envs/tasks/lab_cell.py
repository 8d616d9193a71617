"""The lab cell every tabletop task stands in: a floor, walls, a wooden table (a built-in
texture: nothing is downloaded), three lights, and the tabletop camera set, sized by the arm's
`TabletopLayout`. No shadows unless the env renders them (`fast_render=False`)."""

from __future__ import annotations

from librobot_gym.envs.tasks.tabletop_layouts import TabletopLayout
from librobot_gym.scene import (
    CameraPose,
    LabCell,
    Light,
    Material,
    ObjectPart,
    SceneObject,
    Texture,
)

TABLE_TOP = 0.0  # the robot base stands on the table top, for every layout
TABLE_THICKNESS = 0.025  # m, half of it

# Only the table is textured: on a CPU rasteriser every textured pixel costs, the floor's
# included where the table hides it, and the policy sees the floor and walls only as backdrop.
FLOOR = Material("lab_floor", rgba=(0.30, 0.31, 0.34, 1.0), specular=0.1, shininess=0.1)
WALL = Material("lab_wall", rgba=(0.80, 0.82, 0.84, 1.0), specular=0.0, shininess=0.0)
TABLE = Material("table_top", texture=Texture("flat", (0.66, 0.52, 0.38), mark="random",
                                              markrgb=(0.58, 0.45, 0.32), random=0.25, size=128),
                 texrepeat=(4.0, 4.0), texuniform=True, specular=0.15, shininess=0.2)
LEG_RGBA = (0.35, 0.35, 0.37, 1.0)


def lab_scene(layout: TabletopLayout) -> list:
    """The room (a `LabCell`), the table (a fixed scene object named "table") and the
    tabletop camera poses."""
    return [_room(layout), _table(layout), *layout.camera_poses()]


def _table(layout: TabletopLayout) -> SceneObject:
    cx, (hx, hy), (dx, dy) = layout.table_centre_x, layout.table_half_size, layout.leg_offset
    depth = layout.floor_depth
    leg_half = (depth - 2 * TABLE_THICKNESS) / 2
    return SceneObject(
        "table", "box", (hx, hy, TABLE_THICKNESS), (cx, 0.0, TABLE_TOP - TABLE_THICKNESS),
        (1.0, 1.0, 1.0, 1.0), material=TABLE,
        parts=tuple(
            ObjectPart("box", (0.025, 0.025, leg_half),
                       (sx * dx, sy * dy, -TABLE_THICKNESS - leg_half), LEG_RGBA)
            for sx in (-1, 1) for sy in (-1, 1)
        ),
    )


def _room(layout: TabletopLayout) -> LabCell:
    """Lights for contrast: a key light above and in front of the table on the right (as the
    front camera sees it), a softer fill from the left, a light behind the robot that rims
    objects off the walls. Spotlights aim at the middle of the objects' patch."""
    (cx, cy) = layout.room_centre
    target_x = sum(layout.place_x_range) / 2
    height = layout.wall_height - layout.floor_depth
    reach = layout.room_half_size[1]

    def aimed(name, x, y, z, diffuse, specular=(0.2, 0.2, 0.2), castshadow=False):
        return Light(name, (x, y, z), (target_x - x, -y, -z), diffuse, specular,
                     castshadow=castshadow, cutoff=70.0)

    return LabCell(
        floor=FLOOR, wall=WALL, half_size=layout.room_half_size, centre=(cx, cy),
        wall_height=layout.wall_height,
        lights=(
            aimed("key", target_x + 0.5 * reach, 0.45 * reach, height, (0.55, 0.55, 0.52),
                  castshadow=True),
            aimed("fill", target_x + 0.3 * reach, -0.6 * reach, 0.8 * height,
                  (0.28, 0.29, 0.32), (0.05, 0.05, 0.05)),
            aimed("back", cx - 0.8 * layout.room_half_size[0], 0.0, height, (0.2, 0.2, 0.2),
                  (0.1, 0.1, 0.1)),
        ),
        ambient=0.32, headlight=0.18, open_front=False,
    )


__all__ = ["TABLE_TOP", "CameraPose", "lab_scene"]
