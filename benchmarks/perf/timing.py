"""The one way env throughput is timed, shared by our envs and the peer's (which runs in its own
venv, see peer_fetch.py): numpy, gymnasium and the clock only, so it imports on both sides."""

from __future__ import annotations

import os
import time

import gymnasium as gym
import numpy as np

RGB_ROUNDS = 3  # rgb mode: median of this many timed runs, on every env


def pin_to_one_core() -> None:
    """Pin this process (and the peer's subprocess, which inherits it) to one core."""
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})


def random_actions(env: gym.Env, steps: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    space = env.action_space
    return rng.uniform(space.low, space.high, (steps, *space.shape)).astype(space.dtype)


def time_env(env: gym.Env, actions: np.ndarray, seed: int, render: bool = False) -> float:
    """Wall seconds for stepping through `actions`, resetting when an episode ends."""
    env.reset(seed=seed)
    start = time.perf_counter()
    for action in actions:
        _, _, terminated, truncated, _ = env.step(action)
        if render:
            env.render()
        if terminated or truncated:
            env.reset()
    return time.perf_counter() - start


def rgb_steps(steps: int) -> int:
    return max(steps // 4, 50)


def time_rgb(env: gym.Env, actions: np.ndarray, seed: int, render: bool = False) -> float:
    """rgb-mode steps/s: a 20-step warm-up, then the median of RGB_ROUNDS timed runs."""
    count = rgb_steps(len(actions))
    time_env(env, actions[:20], seed, render)
    seconds = [time_env(env, actions[:count], seed, render) for _ in range(RGB_ROUNDS)]
    return count / float(np.median(seconds))
