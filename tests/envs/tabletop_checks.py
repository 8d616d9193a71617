"""Shared checks for tabletop env tests: one episode of a policy, and the scripted expert's
record over a range of seeds (the scaffolding every tabletop task's test file repeats)."""

from __future__ import annotations

import gymnasium as gym

from librobot_gym.policies import ExpertPolicy


def run(env: gym.Env, policy, seed: int, steps: int | None = None) -> tuple[dict, bool]:
    """One episode of `policy(obs) -> action` from `reset(seed=seed)`, at most `steps` steps
    (default: the env's registered limit); the last info and whether it ended early."""
    steps = steps or env.spec.max_episode_steps
    obs, info = env.reset(seed=seed)
    for _ in range(steps):
        obs, _, terminated, truncated, info = env.step(policy(obs))
        if terminated or truncated:
            return info, terminated
    return info, False


def expert_record(env_id: str, seeds: range) -> tuple[int, list[int]]:
    """The scripted expert on `env_id` (state mode) over `seeds`: how many episodes it won,
    and the seeds where it acted on a wrong object."""
    env = gym.make(env_id, obs_mode="state")
    try:
        expert = ExpertPolicy(env)
        wins, wrong = 0, []
        for seed in seeds:
            expert.reset()
            info, _ = run(env, expert.act, seed)
            wins += bool(info["is_success"])
            if info["task_metrics"].get("wrong_object", 0.0):
                wrong.append(seed)
        return wins, wrong
    finally:
        env.close()


def expert_episode(env: gym.Env, seed: int) -> tuple[list[float], list[dict], dict]:
    """The scripted expert's episode from `reset(seed=seed)`: the reward and the task metrics
    of every step, and the last info."""
    expert = ExpertPolicy(env)
    obs, info = env.reset(seed=seed)
    expert.reset()
    rewards, metrics = [], []
    for _ in range(env.spec.max_episode_steps):
        obs, reward, terminated, truncated, info = env.step(expert.act(obs))
        rewards.append(float(reward))
        metrics.append(info["task_metrics"])
        if terminated or truncated:
            break
    return rewards, metrics, info
