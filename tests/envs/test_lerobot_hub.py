"""LeRobot's view of our envs: EnvHub's make_env(n_envs, use_async_envs) and the observation
conventions of LeRobot's gym_* packages, as lerobot-eval reads them from a vector env."""

from __future__ import annotations

import importlib.util

import gymnasium as gym
import numpy as np
import pytest

from librobot_gym.envs.lerobot_hub import LeRobotView, make_env
from librobot_gym.errors import ConfigError

ENV_ID = "librobot/Franka-PickCup-v1"


@pytest.mark.parametrize("use_async", [False, True])
def test_make_env_gives_a_vector_env_in_lerobots_conventions(use_async):
    envs = make_env(n_envs=2, use_async_envs=use_async, env_id=ENV_ID, camera_size=32)
    try:
        obs, info = envs.reset(seed=[3, 4])
        assert set(obs) == {"pixels", "agent_pos"}
        assert obs["pixels"]["front"].shape == (2, 32, 32, 3)
        assert obs["pixels"]["front"].dtype == np.uint8
        assert obs["agent_pos"].shape == (2, 22) and obs["agent_pos"].dtype == np.float32
        # what lerobot-eval asks the vector env for
        descriptions = envs.call("task_description")
        assert len(descriptions) == 2 and all(isinstance(d, str) and d for d in descriptions)
        assert envs.call("task") == descriptions
        assert envs.call("_max_episode_steps") == (200, 200)
        assert [m["render_fps"] for m in envs.call("metadata")] == [20, 20]
        obs, reward, terminated, truncated, info = envs.step(envs.action_space.sample())
        assert "is_success" in info and info["is_success"].shape == (2,)
    finally:
        envs.close()


def test_the_envhub_example_file_builds_the_env(monkeypatch):
    monkeypatch.setenv("LIBROBOT_CAMERA_SIZE", "32")
    spec = importlib.util.spec_from_file_location("envhub_env", "examples/lerobot_envhub/env.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    envs = module.make_env(n_envs=1)
    try:
        obs, _ = envs.reset(seed=0)
        assert obs["pixels"]["wrist"].shape == (1, 32, 32, 3)
    finally:
        envs.close()


def test_a_state_env_is_refused_with_the_fix():
    with pytest.raises(ConfigError, match="obs_mode='rgb'"):
        LeRobotView(gym.make(ENV_ID, obs_mode="state"))
    with pytest.raises(ConfigError, match="n_envs"):
        make_env(n_envs=0)
