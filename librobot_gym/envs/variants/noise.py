"""Sensor noise, the two factors that act on every observation: image noise or blur on every
camera image, Gaussian noise on the state vector. Drawn from the variant's stream, so an
episode replays exactly; the world and the expert's privileged state are untouched."""

from __future__ import annotations

import numpy as np

from librobot_gym.envs.variants.factor import Factor, register_factor

BANK = 16  # noise fields drawn per camera at reset; each step adds one, chosen by the stream


def _blur(image: np.ndarray, passes: int) -> np.ndarray:
    """A separable [1 2 1] / 4 blur, `passes` times (edges repeated), in integers."""
    out = image.astype(np.uint16)
    for _ in range(passes):
        p = np.pad(out, ((1, 1), (0, 0), (0, 0)), mode="edge")
        out = (p[:-2] + 2 * p[1:-1] + p[2:] + 2) >> 2
        p = np.pad(out, ((0, 0), (1, 1), (0, 0)), mode="edge")
        out = (p[:, :-2] + 2 * p[:, 1:-1] + p[:, 2:] + 2) >> 2
    return out.astype(np.uint8)


class ImageNoise(Factor):
    name = "image_noise"
    summary = "camera images with Gaussian pixel noise (sigma in 0-255 levels) or blurred"
    levels = {"gaussian": {"sigma": 10.0}, "strong": {"sigma": 25.0},
              "blur": {"blur_passes": 2}}
    sim_only = False
    per_step = True

    def observe(self, obs, ctx, params):
        """Gaussian: one of `BANK` noise fields drawn for this camera at the episode's first
        image (drawing 100,000 normals every step would cost a millisecond a camera)."""
        if ctx.obs_mode != "rgb":
            return obs
        images = {}
        for name, image in obs["images"].items():
            if "sigma" not in params:
                images[name] = _blur(image, params["blur_passes"])
                continue
            bank = ctx.state.setdefault(f"noise_{name}", None)
            if bank is None:
                bank = ctx.rng.normal(0.0, params["sigma"], (BANK, *image.shape))
                bank = ctx.state[f"noise_{name}"] = np.rint(bank).astype(np.int16)
            noisy = image.astype(np.int16) + bank[int(ctx.rng.integers(BANK))]
            images[name] = np.clip(noisy, 0, 255).astype(np.uint8)
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
