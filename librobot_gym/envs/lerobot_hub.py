"""Our envs as LeRobot's own gym packages present theirs, for LeRobot users.

LeRobot's `lerobot-eval` and EnvHub load an env through `make_env(n_envs=1,
use_async_envs=False)` returning a gymnasium vector env, and read observations in the
conventions of its gym_* packages: `pixels` (a dict of camera images, H x W x 3 uint8) and
`agent_pos` (the proprioceptive state), the instruction from the env's `task_description`
(and `task`), success from `info["is_success"]`, the rate from `metadata["render_fps"]` and the
step limit from `_max_episode_steps`. `LeRobotView` is that view of one of our envs;
`make_env` builds K of them. An EnvHub repository holds an `env.py` that calls `make_env` (see
`examples/lerobot_envhub/env.py`).
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from librobot_gym.errors import ConfigError

DEFAULT_ENV = "librobot/Franka-PickCup-v1"


class LeRobotView(gym.ObservationWrapper):
    """One env with LeRobot's observation keys: {"pixels": {camera: image}, "agent_pos": state}."""

    def __init__(self, env: gym.Env):
        super().__init__(env)
        spaces = env.observation_space
        if not isinstance(spaces, gym.spaces.Dict) or "images" not in spaces.spaces:
            raise ConfigError(f"{env.spec.id if env.spec else env}: LeRobot's view needs camera "
                              f"images; make the env with obs_mode='rgb'")
        self.observation_space = gym.spaces.Dict({
            "pixels": spaces["images"], "agent_pos": gym.spaces.Box(
                -np.inf, np.inf, spaces["state"].shape, np.float32)})
        self._max_episode_steps = env.spec.max_episode_steps if env.spec else None
        self.metadata = {**env.metadata, "render_fps": env.metadata.get("render_fps")}

    def observation(self, obs: dict) -> dict:
        return {"pixels": obs["images"],
                "agent_pos": np.asarray(obs["state"], dtype=np.float32)}

    @property
    def task_description(self) -> str:
        """The current episode's instruction (what LeRobot feeds a VLA as its task)."""
        return self.env.unwrapped.instruction

    @property
    def task(self) -> str:
        return self.task_description


def make_env(n_envs: int = 1, use_async_envs: bool = False, env_id: str = DEFAULT_ENV,
             **env_kwargs: Any) -> gym.vector.VectorEnv:
    """`n_envs` copies of `env_id` in LeRobot's view, as one gymnasium vector env (async:
    one process each). `env_kwargs` go to `gym.make` (camera_size, control_mode, ...). The ids
    are registered already: importing this module imported `librobot_gym`."""
    if not isinstance(n_envs, int) or n_envs < 1:
        raise ConfigError(f"n_envs must be an integer >= 1, got {n_envs!r}")
    env_kwargs.setdefault("obs_mode", "rgb")

    def one() -> gym.Env:
        return LeRobotView(gym.make(env_id, **env_kwargs))

    vector = gym.vector.AsyncVectorEnv if use_async_envs and n_envs > 1 \
        else gym.vector.SyncVectorEnv
    return vector([one] * n_envs)
