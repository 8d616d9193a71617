"""WalkTo (issue 21 item 3): a humanoid walks to the named floor marker through the walking
controller and stops on it. The expert reaches the marker and stays (fast: a few seeds on
each humanoid; slow: >= 90 of 100 seeds), the instruction names the target's colour, the
dense reward rises as the robot closes in, a fall ends the episode with `fell`, the doc says
how it is scored, and a robot with no walking controller is refused."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

from librobot_gym.envs.registration import env_doc
from librobot_gym.envs.tasks.humanoid_walk_to import MARKERS, SUCCESS_RADIUS
from librobot_gym.errors import ConfigError
from librobot_gym.policies import ExpertPolicy

ALL = ("librobot/H1-WalkTo-v0", "librobot/GR1-WalkTo-v0", "librobot/FigureClass-WalkTo-v0")
WALKERS = ALL  # the Figure-class one walks too since the landing fix (README, "Humanoids")


def _episode(env, seed: int, act=None) -> tuple[dict, list[float]]:
    obs, info = env.reset(seed=seed)
    expert = ExpertPolicy(env)
    expert.reset()
    rewards = []
    while True:
        action = expert.act(obs) if act is None else act
        obs, reward, terminated, truncated, info = env.step(action)
        rewards.append(reward)
        if terminated or truncated:
            return info, rewards


@pytest.mark.parametrize("env_id", WALKERS)
def test_the_expert_walks_to_the_marker_and_stops(env_id):
    env = gym.make(env_id, obs_mode="state")
    try:
        for seed in (0, 1):
            obs, info = env.reset(seed=seed)
            target = env.unwrapped.task.episode.target
            assert target in info["instruction"] and target in MARKERS
            info, rewards = _episode(env, seed)
            assert info["is_success"], info
            metrics = info["task_metrics"]
            assert metrics["falls"] == 0.0 and not info["safety"]["fell"]
            assert metrics["distance_to_goal"] <= SUCCESS_RADIUS
            assert metrics["on_marker"] >= 1.0 - 1e-6
            assert metrics["path_length"] > 1.0 and metrics["time"] > 1.0
            assert rewards[-1] == 1.0 and rewards[-2] > rewards[0] > 0.0  # closer, more
    finally:
        env.close()


def test_a_fall_ends_the_episode_with_fell():
    """Full-speed sideways and turning at once from a standstill topples the H1."""
    env = gym.make("librobot/H1-WalkTo-v0", obs_mode="state")
    try:
        info, rewards = _episode(env, 0, act=np.array([1.0, 1.0, 1.0], dtype=np.float32))
        if info["task_metrics"]["falls"]:
            assert info["safety"]["fell"] and not info["is_success"] and rewards[-1] == 0.0
        else:  # it survived 20 s: then it is still walking, truncated, never on the marker
            pytest.skip("the H1 kept its feet under full-speed commands for this seed")
    finally:
        env.close()


@pytest.mark.parametrize("env_id", ALL)
def test_the_doc_says_how_it_is_scored(env_id):
    doc = env_doc(env_id)
    for phrase in ("## Success Criteria", "base_velocity", "fell", "path_length", "time",
                   "0.4 m", "## Rewards"):
        assert phrase in doc, phrase


def test_a_robot_without_a_walking_controller_is_refused():
    from librobot_gym.envs.tasks.humanoid_walk_to import WalkTo
    from librobot_gym.robots import get_robot

    with pytest.raises(ConfigError, match="walking controller"):
        WalkTo(get_robot("ur5e"))


@pytest.mark.slow
@pytest.mark.parametrize("env_id", WALKERS)
def test_the_expert_succeeds_on_at_least_90_of_100_seeds(env_id):
    env = gym.make(env_id, obs_mode="state")
    try:
        wins = sum(_episode(env, seed)[0]["is_success"] for seed in range(100))
    finally:
        env.close()
    assert wins >= 90, f"{wins}/100"
