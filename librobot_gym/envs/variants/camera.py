"""Camera pose: the fixed cameras (mounted on the world: the tabletop's front camera, the
excavator's external one) moved by at most `shift` in a random direction and turned by at
most `tilt_deg` about a random axis. Cameras a robot carries (wrist, cab) stay where they are
bolted. A heavy machine's site is ten times an arm's, and so are its shifts."""

from __future__ import annotations

import math

import numpy as np

from librobot_gym.envs.variants.factor import Factor, register_factor

HEAVY_SCALE = 10.0


def _quat_mul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    w1, x1, y1, z1 = a
    w2, x2, y2, z2 = b
    return np.array([w1 * w2 - x1 * x2 - y1 * y2 - z1 * z2,
                     w1 * x2 + x1 * w2 + y1 * z2 - z1 * y2,
                     w1 * y2 - x1 * z2 + y1 * w2 + z1 * x2,
                     w1 * z2 + x1 * y2 - y1 * x2 + z1 * w2])


def _unit(rng: np.random.Generator) -> np.ndarray:
    v = rng.normal(size=3)
    return v / np.linalg.norm(v)


class Camera(Factor):
    name = "camera"
    summary = "the fixed cameras shifted (m) and tilted (deg) within stated bounds"
    levels = {
        "shift_1": {"shift": 0.02, "tilt_deg": 2.0},
        "shift_2": {"shift": 0.05, "tilt_deg": 5.0},
        "shift_3": {"shift": 0.08, "tilt_deg": 8.0},
    }

    def apply(self, ctx, params):
        scale = HEAVY_SCALE if ctx.robot.family == "heavy" else 1.0
        pos, quat = ctx.field("cam_pos"), ctx.field("cam_quat")
        for spec in ctx.robot.cameras:
            if spec.mount != "world":
                continue
            cam = ctx.model.camera(spec.name).id
            # Uniform in the ball of radius `shift`; a tilt uniform in [0, tilt] about an axis.
            radius = params["shift"] * scale * ctx.rng.random() ** (1 / 3)
            pos[cam] += radius * _unit(ctx.rng)
            angle = math.radians(params["tilt_deg"]) * ctx.rng.random()
            axis = _unit(ctx.rng)
            turn = np.array([math.cos(angle / 2), *(math.sin(angle / 2) * axis)])
            q = _quat_mul(turn, quat[cam])
            quat[cam] = q / np.linalg.norm(q)


register_factor(Camera())
