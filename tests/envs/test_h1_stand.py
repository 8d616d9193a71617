"""H1-Stand (issue 21 item 3, Stand for the H1): seeded pushes, falls as failures with
`info["safety"]["fell"]`, recoveries, language, rewards, and the balance-law expert."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

from librobot_gym.envs.registration import env_doc
from librobot_gym.envs.tasks.humanoid_stand import IMPULSE_RANGE, INSTRUCTIONS, N_PUSHES
from librobot_gym.errors import ConfigError
from librobot_gym.policies import ExpertPolicy

ENV_ID = "librobot/H1-Stand-v0"


@pytest.fixture(scope="module")
def env():
    env = gym.make(ENV_ID, obs_mode="state")
    yield env
    env.close()


def _episode(env, seed: int, policy: str = "expert") -> tuple[dict, list[float]]:
    """Run one episode with the expert, or with PD alone holding the nominal posture."""
    obs, _ = env.reset(seed=seed)
    u = env.unwrapped
    expert = ExpertPolicy(env)
    expert.reset()
    hold = u.action_spec.to_normalised(np.array(u.robot.home_qpos)).astype(np.float32)
    rewards = []
    while True:
        action = expert.act(obs) if policy == "expert" else hold
        obs, reward, terminated, truncated, info = env.step(action)
        rewards.append(reward)
        if terminated or truncated:
            return info, rewards


def test_pushes_come_from_the_seed_within_the_stated_range(env):
    env.reset(seed=3)
    first = env.unwrapped.task.episode.pushes
    env.reset(seed=4)
    assert env.unwrapped.task.episode.pushes != first
    env.reset(seed=3)
    assert env.unwrapped.task.episode.pushes == first and len(first) == N_PUSHES
    for push in first:
        impulse = np.hypot(*push.force[:2]) * push.duration
        assert IMPULSE_RANGE[0] <= impulse <= IMPULSE_RANGE[1] and push.force[2] == 0.0
    starts = [p.start for p in first]
    assert starts[0] >= 1.0 and np.all(np.diff(starts) >= 2.0)


def test_the_expert_recovers_from_every_push(env):
    for seed in range(3):
        info, rewards = _episode(env, seed)
        assert info["is_success"] and not info["safety"]["fell"], (seed, info["task_metrics"])
        assert info["task_metrics"]["recoveries"] == N_PUSHES and rewards[-1] == 1.0


def test_a_fall_is_a_failure_that_says_fell(env):
    """PD alone (no balance feedback) topples under seed 5's pushes."""
    info, rewards = _episode(env, 5, policy="pd")
    assert not info["is_success"] and info["safety"]["fell"]
    assert info["task_metrics"]["fell"] == 1.0 and info["task_metrics"]["recoveries"] < N_PUSHES
    assert rewards[-1] == 0.0 and env.unwrapped._steps < env.unwrapped.max_episode_steps


def test_the_dense_reward_falls_under_a_shove_and_rises_as_the_expert_recovers(env):
    _, rewards = _episode(env, 0)
    push = env.unwrapped.task.episode.pushes[0]
    at = round(push.start * 50)
    before, dip = rewards[at - 1], min(rewards[at: at + 50])
    assert 0.8 < before < 1.0 and dip < before - 0.2
    assert rewards[at + 90] > dip + 0.2  # 1.8 s later, nearly still again


def test_sparse_reward_pays_on_success_only():
    env = gym.make(ENV_ID, obs_mode="state", reward_type="sparse")
    try:
        info, rewards = _episode(env, 1)
        assert info["is_success"] and rewards[-1] == 1.0 and not any(rewards[:-1])
    finally:
        env.close()


def test_instructions_come_from_the_templates_and_heldout_phrasings_stay_out(env):
    seen = {env.reset(seed=s)[1]["instruction"] for s in range(12)}
    assert seen <= set(INSTRUCTIONS.train) and len(seen) > 2
    heldout = gym.make(ENV_ID, obs_mode="state", instruction_set="heldout")
    try:
        assert heldout.reset(seed=0)[1]["instruction"] in INSTRUCTIONS.heldout
    finally:
        heldout.close()


def test_upper_body_mode_stands_under_the_same_pushes():
    env = gym.make(ENV_ID, obs_mode="state", control_mode="upper_body")
    try:
        env.reset(seed=0)
        arms = env.unwrapped.action_spec.to_normalised(
            np.array(env.unwrapped.robot.home_qpos[11:])).astype(np.float32)
        while True:
            _, _, terminated, truncated, info = env.step(arms)
            if terminated or truncated:
                break
        assert info["is_success"] and info["task_metrics"]["recoveries"] == N_PUSHES
    finally:
        env.close()


def test_mistakes_are_refused_with_the_fix():
    with pytest.raises(ConfigError, match="humanoid"):
        gym.make(ENV_ID, robot="franka_panda")
    with pytest.raises(ConfigError, match="impulse_range"):
        gym.make(ENV_ID, impulse_range=(20, 10))
    with pytest.raises(ConfigError, match="instruction_set"):
        gym.make(ENV_ID, instruction_set="test")
    with pytest.raises(ConfigError, match="no control_mode"):
        gym.make(ENV_ID, control_mode="base_twist")


def test_the_doc_says_how_the_task_is_scored():
    doc = env_doc(ENV_ID)
    for phrase in ("## Success Criteria", "recoveries", "fell", "N s", "joint_pos",
                   "upper_body", "## Rewards"):
        assert phrase in doc


@pytest.mark.slow
def test_the_expert_succeeds_on_at_least_90_of_100_seeds():
    env = gym.make(ENV_ID, obs_mode="state")
    try:
        wins = sum(_episode(env, seed)[0]["is_success"] for seed in range(100))
    finally:
        env.close()
    assert wins >= 90, f"{wins}/100"
