"""Released ids are frozen: PickCup-v0's scene, cameras, first observation and rewards, pinned.

The tabletop suite (lab cell, object set, camera sets) is built for new ids only; these pins
prove the v0 envs did not change underneath it. The figures were taken from the v0 envs before
the suite was added: if one moves, a v0 env changed, and that change belongs in a new version.
"""

from __future__ import annotations

import hashlib

import gymnasium as gym
import numpy as np
import pytest

# Scene-defining arrays of the compiled model: every geom, body, camera, light and material.
MODEL_FIELDS = ("geom_type", "geom_size", "geom_rgba", "geom_pos", "geom_quat", "geom_friction",
                "geom_contype", "geom_conaffinity", "geom_matid", "body_mass", "body_pos",
                "cam_pos", "cam_quat", "cam_fovy", "cam_bodyid", "light_pos", "light_dir",
                "light_diffuse", "light_castshadow", "mat_rgba", "tex_data")

PINS = {
    "librobot/Franka-PickCup-v0": {
        "model": "54f5dcea7a46fbc5",
        "instruction": "pick the purple cup up off the table",
        "state": [0.012531, -0.768888, 0.004265, -2.347014, 0.001745, 1.588199, 0.798032, 0.0,
                  0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.08, 0.314224, 0.005724, 0.487647, 0.000539,
                  0.999986, 0.001478, 0.005042, 0.473957, -0.16525, 0.05, 0.0519, 0.0, 0.0,
                  -0.998652, -0.159733, 0.170974, 0.437647],
        "rewards": [0.02982535, 0.02950641, 0.0291792, 0.02885162, 0.02852426],
        "image_means": {"front": (106.0, 89.53, 74.61), "wrist": (171.72, 150.49, 129.43)},
    },
    "librobot/SO100-PickCup-v0": {
        "model": "a8de252f7c567199",
        "instruction": "pick the purple cup up off the table",
        "state": [0.012531, -0.28349, 0.304265, 1.57918, 0.001745, 0.0, 0.0, 0.0, 0.0, 0.0,
                  0.06, 0.156679, 0.021965, 0.097863, 0.000104, 0.999879, 0.005392, -0.014579,
                  0.141583, -0.073444, 0.03, 0.0519, 0.0, 0.0, -0.998652, 0.015096, 0.095409,
                  0.067863],
        "rewards": [0.04478401, 0.04266376, 0.04074116, 0.03882517, 0.03659197],
        "image_means": {"front": (151.71, 120.52, 92.02), "wrist": (205.97, 152.75, 110.27)},
    },
}


def model_digest(model) -> str:
    h = hashlib.sha256()
    for name in MODEL_FIELDS:
        h.update(np.ascontiguousarray(getattr(model, name)).tobytes())
    return h.hexdigest()[:16]


@pytest.mark.parametrize("env_id", sorted(PINS))
def test_v0_scene_first_state_and_rewards_are_unchanged(env_id):
    pin = PINS[env_id]
    env = gym.make(env_id, obs_mode="state")
    try:
        obs, info = env.reset(seed=0)
        assert model_digest(env.unwrapped.sim.model) == pin["model"]
        assert info["instruction"] == pin["instruction"]
        np.testing.assert_allclose(obs, pin["state"], atol=2e-6)
        rewards = [env.step(np.full(7, 0.3, np.float32))[1] for _ in range(5)]
        np.testing.assert_allclose(rewards, pin["rewards"], rtol=1e-5)
    finally:
        env.close()


@pytest.mark.parametrize("env_id", sorted(PINS))
def test_v0_camera_images_are_unchanged(env_id):
    """A coarse statistic (mean colour per camera at 128x128), loose enough for another
    rasteriser, tight enough to catch a moved camera, a new light or a textured wall."""
    env = gym.make(env_id)
    try:
        obs, _ = env.reset(seed=0)
        for camera, means in PINS[env_id]["image_means"].items():
            image = obs["images"][camera]
            assert image.shape == (128, 128, 3)
            np.testing.assert_allclose(image.reshape(-1, 3).mean(0), means, atol=1.5)
    finally:
        env.close()
