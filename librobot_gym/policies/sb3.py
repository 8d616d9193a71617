"""A stable-baselines3 model (trained in `state` mode) acting through `act(obs)`."""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym
import numpy as np

from librobot_gym.errors import ConfigError
from librobot_gym.policies.base import PolicyCard


class SB3Policy:
    def __init__(self, env: gym.Env, algorithm: str, path: str | Path):
        import stable_baselines3

        classes = {"ppo": stable_baselines3.PPO, "sac": stable_baselines3.SAC}
        if not Path(path).exists():
            raise ConfigError(f"no stable-baselines3 model at {path}; train one with "
                              f"`librobot bench run CARD --train {algorithm}`")
        self.model = classes[algorithm].load(str(path), device="cpu")
        self.card = PolicyCard(f"{algorithm}:{Path(path).name}", obs_mode="state",
                               action_dim=int(np.prod(self.model.action_space.shape)))
        self.card.check(env)

    def reset(self, seed: int | None = None) -> None:
        pass

    def act(self, obs) -> np.ndarray:
        action, _ = self.model.predict(obs, deterministic=True)
        return np.asarray(action, dtype=np.float32)
