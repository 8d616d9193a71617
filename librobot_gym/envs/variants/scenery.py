"""What stands behind and under the task: the table (its colour, or a pattern on its texture)
and the background (walls and floor). Colours change the model's materials or geom colours;
patterns rewrite the table's texture (uploaded again to the renderer), so only tasks whose
table carries a texture (the lab cell's) offer them."""

from __future__ import annotations

import numpy as np

from librobot_gym.envs.variants.factor import Factor, register_factor
from librobot_gym.errors import ConfigError


def _rgb_role() -> int:
    import mujoco

    return int(mujoco.mjtTextureRole.mjTEXROLE_RGB)


def paint_geom(ctx, geom: int, rgb) -> None:
    """Show geom `geom` in colour `rgb`: its material's colour where it has one (the texture,
    if any, is left to the caller), and its own."""
    rgba = ctx.field("geom_rgba")
    rgba[geom, :3] = rgb
    matid = int(ctx.model.geom_matid[geom])
    if matid >= 0:
        ctx.field("mat_rgba")[matid, :3] = rgb


def table_texture(model, geom: int) -> int:
    """The id of the texture the table's material shows, or -1."""
    matid = int(model.geom_matid[geom])
    if matid < 0:
        return -1
    return int(model.mat_texid[matid, _rgb_role()])


def texture_pixels(ctx, texture: int) -> np.ndarray:
    """The texture's texels as a (height, width, channels) view into the model, saved for
    restoring and marked for upload."""
    m = ctx.model
    data = ctx.field("tex_data")
    h, w, n = int(m.tex_height[texture]), int(m.tex_width[texture]), int(m.tex_nchannel[texture])
    start = int(m.tex_adr[texture])
    ctx.edits.asset("texture", texture)
    return data[start: start + h * w * n].reshape(h, w, n)


class Table(Factor):
    name = "table"
    summary = "the table top's colour, or a pattern on its texture"
    levels = {
        "dark": {"rgb": (0.22, 0.15, 0.10)},  # dark-stained wood
        "white": {"rgb": (0.90, 0.90, 0.88)},  # a white laminate
        "green": {"rgb": (0.14, 0.42, 0.20)},  # green felt
        "checker": {"pattern": "checker", "rgb": (0.85, 0.85, 0.82),
                    "rgb2": (0.28, 0.28, 0.32), "squares": 8},
        "stripes": {"pattern": "stripes", "rgb": (0.80, 0.62, 0.30),
                    "rgb2": (0.35, 0.22, 0.12), "squares": 10},
    }

    def apply(self, ctx, params):
        geom = ctx.model.geom("table").id
        texture = table_texture(ctx.model, geom)
        rgb = np.asarray(params["rgb"])
        if texture < 0:
            if "pattern" in params:
                raise ConfigError("table patterns need a textured table (the lab cell's); "
                                  "this task's table has none: use table:dark/white/green")
            paint_geom(ctx, geom, rgb)
            return
        pixels = texture_pixels(ctx, texture)
        h, w = pixels.shape[:2]
        if "pattern" in params:
            rgb2, n = np.asarray(params["rgb2"]), params["squares"]
            iy, ix = np.meshgrid(np.arange(h) * n // h, np.arange(w) * n // w, indexing="ij")
            second = (ix + iy) % 2 == 1 if params["pattern"] == "checker" else ix % 2 == 1
            image = np.where(second[..., None], rgb2, rgb)
        else:  # a flat colour with the grain of the wood it replaces, kept faint
            grain = pixels[..., :3].astype(np.float32).mean(axis=2, keepdims=True)
            image = rgb * (0.85 + 0.3 * (grain / max(float(grain.max()), 1.0) - 0.5))
        pixels[..., :3] = np.clip(image * 255.0, 0, 255).astype(np.uint8)


class Background(Factor):
    name = "background"
    summary = "the walls' and the floor's colours (the plain arena and the excavator's site: "\
        "the ground)"
    levels = {
        "dark": {"wall": (0.16, 0.16, 0.18), "floor": (0.10, 0.10, 0.11)},
        "blue": {"wall": (0.30, 0.45, 0.80), "floor": (0.20, 0.28, 0.45)},
        "green": {"wall": (0.35, 0.62, 0.35), "floor": (0.22, 0.35, 0.20)},
        "warm": {"wall": (0.85, 0.70, 0.50), "floor": (0.55, 0.38, 0.25)},
    }

    def apply(self, ctx, params):
        m = ctx.model
        for geom in range(m.ngeom):
            name = m.geom(geom).name
            if name == "floor":
                paint_geom(ctx, geom, params["floor"])
            elif name.startswith("wall_"):
                paint_geom(ctx, geom, params["wall"])


register_factor(Table())
register_factor(Background())
