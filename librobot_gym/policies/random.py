"""Uniform random actions: the lower reference row of every leaderboard."""

from __future__ import annotations

import gymnasium as gym
import numpy as np

from librobot_gym.policies.base import PolicyCard, batch_size


class RandomPolicy:
    def __init__(self, env: gym.Env, seed: int | None = None):
        self.action_space = env.action_space
        self.card = PolicyCard("random")
        self.rng = np.random.default_rng(seed)

    def reset(self, seed: int | None = None) -> None:
        if seed is not None:  # same episode seed, same actions, whichever worker runs it
            self.rng = np.random.default_rng(seed)

    def act(self, obs) -> np.ndarray:
        """One action, or one per observation when `obs` is a batch (vector envs)."""
        low, high = self.action_space.low, self.action_space.high
        batch = batch_size(obs)
        shape = (batch, *low.shape) if batch is not None else low.shape
        return self.rng.uniform(low, high, shape).astype(self.action_space.dtype)
