"""Sensor noise, the two factors that act on every observation: image noise or blur on every
camera image, Gaussian noise on the state vector. Drawn from the variant's stream, so an
episode replays exactly; the world and the expert's privileged state are untouched."""

from __future__ import annotations

import numpy as np

from librobot_gym.envs.variants.factor import Factor, register_factor


def _blur(image: np.ndarray, passes: int) -> np.ndarray:
    """A separable [1 2 1] / 4 blur, `passes` times (edges repeated)."""
    out = image.astype(np.float32)
    for _ in range(passes):
        for axis in (0, 1):
            padded = np.concatenate([np.take(out, [0], axis), out, np.take(out, [-1], axis)],
                                    axis)
            n = out.shape[axis]
            out = (np.take(padded, range(0, n), axis) + 2 * np.take(padded, range(1, n + 1),
                   axis) + np.take(padded, range(2, n + 2), axis)) / 4
    return out


class ImageNoise(Factor):
    name = "image_noise"
    summary = "camera images with Gaussian pixel noise (sigma in 0-255 levels) or blurred"
    levels = {"gaussian": {"sigma": 10.0}, "strong": {"sigma": 25.0},
              "blur": {"blur_passes": 2}}
    sim_only = False
    per_step = True

    def observe(self, obs, ctx, params):
        if ctx.obs_mode != "rgb":
            return obs
        images = {}
        for name, image in obs["images"].items():
            if "sigma" in params:
                noisy = image + ctx.rng.normal(0.0, params["sigma"], image.shape)
            else:
                noisy = _blur(image, params["blur_passes"])
            images[name] = np.clip(np.rint(noisy), 0, 255).astype(np.uint8)
        return {**obs, "images": images}


class StateNoise(Factor):
    name = "state_noise"
    summary = "Gaussian noise on every entry of the state vector (its units: m, rad, ...)"
    levels = {"small": {"sigma": 0.005}, "large": {"sigma": 0.02}}
    sim_only = False
    per_step = True
    visual = False

    def observe(self, obs, ctx, params):
        sigma = params["sigma"]
        if ctx.obs_mode == "state":
            return (obs + ctx.rng.normal(0.0, sigma, obs.shape)).astype(np.float32)
        if ctx.obs_mode == "state_dict":
            return {k: (v + ctx.rng.normal(0.0, sigma, v.shape)).astype(np.float32)
                    for k, v in obs.items()}
        state = obs["state"]
        return {**obs, "state": (state + ctx.rng.normal(0.0, sigma, state.shape))
                .astype(np.float32)}


register_factor(ImageNoise())
register_factor(StateNoise())
