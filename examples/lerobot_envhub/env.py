"""An EnvHub `env.py`: push this file to a Hugging Face Hub repository and LeRobot loads our env
with `make_env("USER/REPO", n_envs=..., trust_remote_code=True)` (librobot-gym must be installed
where LeRobot runs: EnvHub fetches this file, not our package). LIBROBOT_ENV picks the id."""

import os

from librobot_gym.envs.lerobot_hub import make_env as _make_env


def make_env(n_envs: int = 1, use_async_envs: bool = False):
    return _make_env(n_envs, use_async_envs,
                     env_id=os.environ.get("LIBROBOT_ENV", "librobot/Franka-PickCup-v1"),
                     camera_size=int(os.environ.get("LIBROBOT_CAMERA_SIZE", "128")))
