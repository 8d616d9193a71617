"""Lighting: how bright, what colour, and from where the scene is lit. Every light of the
scene (the lab cell's key, fill and back lights, the plain arena's two) and MuJoCo's headlight
change together; nothing else does."""

from __future__ import annotations

import math

import numpy as np

from librobot_gym.envs.variants.factor import Factor, register_factor


class Lighting(Factor):
    name = "lighting"
    summary = "light intensity, colour and direction (every scene light and the headlight)"
    levels = {
        "dark": {"scale": 0.35},  # a dim room: lights and ambient at about a third
        "bright": {"scale": 1.7},  # over-lit: highlights wash out
        "warm": {"tint": (1.0, 0.72, 0.42)},  # tungsten-like orange cast
        "cool": {"tint": (0.55, 0.75, 1.0)},  # blue daylight cast
        "side": {"turn_deg": (70.0, 110.0)},  # lights moved round the scene, either way
    }

    def apply(self, ctx, params):
        diffuse, specular = ctx.field("light_diffuse"), ctx.field("light_specular")
        ambient, head = ctx.field("headlight_ambient"), ctx.field("headlight_diffuse")
        if "scale" in params:
            k = params["scale"]
            diffuse *= k
            specular *= k
            ambient *= k
            head *= k
        if "tint" in params:
            tint = np.asarray(params["tint"])
            diffuse *= tint
            ambient *= tint
            head *= tint
        if "turn_deg" in params:
            low, high = params["turn_deg"]
            turn = math.radians(ctx.rng.uniform(low, high)) * (1 if ctx.rng.random() < 0.5
                                                                 else -1)
            _turn_lights(ctx.field("light_pos"), ctx.field("light_dir"), turn)
            # The headlight and ambient light come from everywhere (the camera): dim them,
            # or they hide where the lights now stand.
            head *= 0.25
            ambient *= 0.5
            diffuse *= 1.4
        np.clip(diffuse, 0.0, 1.0, out=diffuse)
        np.clip(ambient, 0.0, 1.0, out=ambient)


def _turn_lights(pos: np.ndarray, direction: np.ndarray, turn: float) -> None:
    """Move each light round the vertical through the point it aims at (on the z = 0 plane),
    still aimed there: the light now falls from another side."""
    c, s = math.cos(turn), math.sin(turn)
    rot = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
    for i in range(len(pos)):
        d = direction[i] / (np.linalg.norm(direction[i]) or 1.0)
        t = -pos[i][2] / d[2] if d[2] < -1e-6 else 1.0
        target = pos[i] + t * d
        pos[i] = target + rot @ (pos[i] - target)
        direction[i] = rot @ direction[i]


register_factor(Lighting())
