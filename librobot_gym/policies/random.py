"""Uniform random actions: the lower reference row of every leaderboard."""

from __future__ import annotations

import gymnasium as gym
import numpy as np

from librobot_gym.policies.base import PolicyCard


class RandomPolicy:
    def __init__(self, env: gym.Env, seed: int | None = None):
        self.action_space = env.action_space
        self.card = PolicyCard("random")
        self.rng = np.random.default_rng(seed)

    def reset(self, seed: int | None = None) -> None:
        if seed is not None:  # same episode seed, same actions, whichever worker runs it
            self.rng = np.random.default_rng(seed)

    def act(self, obs) -> np.ndarray:
        low, high = self.action_space.low, self.action_space.high
        return self.rng.uniform(low, high).astype(self.action_space.dtype)
