"""A `Sky` fills what no geometry covers: no black void above a machine's horizon or over an
indoor room's open top, while the arms' pinned scenes stay without one."""

from __future__ import annotations

import gymnasium as gym
import mujoco
import pytest

import librobot_gym  # noqa: F401


def _has_skybox(env) -> bool:
    model = env.unwrapped.sim.model
    return bool((model.tex_type == mujoco.mjtTexture.mjTEXTURE_SKYBOX).any())


@pytest.mark.parametrize("env_id, camera", [("librobot/Hauler-HaulDump-v0", "cab"),
                                            ("librobot/WheelLoader-LoadHauler-v0", "cab")])
def test_outdoor_cameras_see_a_blue_sky_above_the_horizon(env_id, camera):
    env = gym.make(env_id, obs_mode="rgb", camera_size=(64, 64))
    obs, _ = env.reset(seed=0)
    top = obs["images"][camera][:4].reshape(-1, 3).astype(float).mean(axis=0)
    env.close()
    assert top.min() > 100, f"the top rows are dark {top}: no sky drawn"
    assert top[2] > top[0] + 20, f"the top rows are not sky blue {top}"


def test_an_indoor_overhead_view_past_the_floor_is_not_black():
    env = gym.make("librobot/Jackal-NavigateTo-v0", obs_mode="rgb", camera_size=(64, 64))
    obs, _ = env.reset(seed=0)
    env.close()
    bottom = obs["images"]["overhead"][-3:].reshape(-1, 3).astype(float).mean(axis=0)
    assert bottom.min() > 100, f"the view past the flat's floor is dark {bottom}"


@pytest.mark.parametrize("env_id", ["librobot/Franka-PickCup-v0", "librobot/Excavator-DigDump-v0"])
def test_released_v0_scenes_keep_no_sky(env_id):
    env = gym.make(env_id, obs_mode="state")
    env.reset(seed=0)
    assert not _has_skybox(env), f"{env_id} gained a sky: a v0 scene changed"
    env.close()
