"""The objects the episode shows (the ones it colours: a tabletop task's active objects,
PickCup's cup): their shade, their size, their mass, their friction.

Colour changes keep the hue: the instruction may name the colour ("the red mug"), so a pale
or dark red must still read as red. Size scales every geom of a free object (its looks'
meshes too, uploaded again to the renderer) and stands it on the table at its new height;
tasks judge lifts from their unscaled rest height, a bias of (scale - 1) x the object's half
height (under 1 cm at these levels)."""

from __future__ import annotations

import numpy as np

from librobot_gym.envs.variants.factor import Factor, register_factor

TABLE_TOP = 0.0  # every tabletop layout stands the robot's base on the table top (z = 0)


class ObjectColour(Factor):
    name = "object_colour"
    summary = "the shown objects' shade, hue kept (the instruction may name the colour)"
    levels = {
        "pale": {"towards": (1.0, 1.0, 1.0), "amount": 0.45},
        "dark": {"towards": (0.0, 0.0, 0.0), "amount": 0.5},
        "muted": {"grey": 0.55},  # half-way to the colour's own grey
    }

    def apply(self, ctx, params):
        colours = ctx.task_reset.colours
        for name, rgba in list(colours.items()):
            rgb = np.asarray(rgba[:3], dtype=np.float64)
            if "grey" in params:
                rgb = rgb + params["grey"] * (rgb.mean() - rgb)
            else:
                rgb = rgb + params["amount"] * (np.asarray(params["towards"]) - rgb)
            colours[name] = (*(float(v) for v in rgb), float(rgba[3]))


def _object_geoms(model, body: int) -> list[int]:
    return [g for g in range(model.ngeom) if int(model.geom_bodyid[g]) == body]


class ObjectSize(Factor):
    name = "object_size"
    summary = "the shown free objects scaled (looks and collisions), mass unchanged"
    levels = {"small": {"scale": 0.85}, "large": {"scale": 1.15}}

    def apply(self, ctx, params):
        import mujoco

        m, s = ctx.model, params["scale"]
        size, gpos = ctx.field("geom_size"), ctx.field("geom_pos")
        rbound, aabb = ctx.field("geom_rbound"), ctx.field("geom_aabb")
        ipos, inertia = ctx.field("body_ipos"), ctx.field("body_inertia")
        meshes: set[int] = set()
        for name in ctx.free_objects():
            body = m.body(name).id
            ipos[body] *= s
            inertia[body] *= s * s
            for g in _object_geoms(m, body):
                gpos[g] *= s
                rbound[g] *= s
                aabb[g] *= s
                if int(m.geom_type[g]) == int(mujoco.mjtGeom.mjGEOM_MESH):
                    meshes.add(int(m.geom_dataid[g]))
                else:
                    size[g] *= s
            pos, quat = ctx.task_reset.poses[name]
            pos = np.array(pos, dtype=np.float64)
            pos[2] = TABLE_TOP + (pos[2] - TABLE_TOP) * s
            ctx.task_reset.poses[name] = (pos, quat)
        if meshes:
            vert = ctx.field("mesh_vert")
            for mesh in sorted(meshes):  # a mesh shared by two objects is scaled once
                start, count = int(m.mesh_vertadr[mesh]), int(m.mesh_vertnum[mesh])
                vert[start: start + count] *= s
                ctx.edits.asset("mesh", mesh)


class ObjectMass(Factor):
    name = "object_mass"
    summary = "the shown free objects' mass (and inertia) scaled"
    levels = {"light": {"scale": 0.5}, "heavy": {"scale": 2.0}}
    visual = False

    def apply(self, ctx, params):
        mass, inertia = ctx.field("body_mass"), ctx.field("body_inertia")
        for name in ctx.free_objects():
            body = ctx.model.body(name).id
            mass[body] *= params["scale"]
            inertia[body] *= params["scale"]


class Friction(Factor):
    name = "friction"
    summary = "the shown free objects' sliding friction scaled"
    levels = {"low": {"scale": 0.4}, "high": {"scale": 1.6}}
    visual = False

    def apply(self, ctx, params):
        friction = ctx.field("geom_friction")
        for name in ctx.free_objects():
            for g in _object_geoms(ctx.model, ctx.model.body(name).id):
                friction[g, 0] *= params["scale"]


for _factor in (ObjectColour(), ObjectSize(), ObjectMass(), Friction()):
    register_factor(_factor)
