"""Built-in policies and the card check that runs before a rollout."""

import gymnasium as gym
import numpy as np
import pytest

from librobot_gym.errors import ConfigError, PolicyMismatchError
from librobot_gym.policies import ExpertPolicy, Policy, make_policy

ENV_ID = "librobot/Franka-PickCup-v0"


def test_builtin_policies_follow_the_protocol():
    env = gym.make(ENV_ID, obs_mode="state")
    obs, _ = env.reset(seed=0)
    for name in ("expert", "random"):
        policy = make_policy(name, env, seed=0)
        assert isinstance(policy, Policy)
        policy.reset()
        action = policy.act(obs)
        assert env.action_space.contains(action)
    env.close()


def test_random_policy_is_seeded():
    env = gym.make(ENV_ID, obs_mode="state")
    a = make_policy("random", env, seed=5).act(None)
    b = make_policy("random", env, seed=5).act(None)
    np.testing.assert_array_equal(a, b)
    env.close()


def test_expert_refuses_a_control_mode_it_cannot_emit():
    env = gym.make(ENV_ID, obs_mode="state", control_mode="joint_pos")
    with pytest.raises(PolicyMismatchError, match="control_mode"):
        ExpertPolicy(env)
    env.close()


def test_unknown_policy_name():
    env = gym.make(ENV_ID, obs_mode="state")
    with pytest.raises(ConfigError, match="expert"):
        make_policy("oracle", env)
    env.close()


def test_perturbed_experts_are_seeded_and_degrade_with_noise():
    from librobot_gym.benchmarks.rollout import run_episode

    env = gym.make(ENV_ID, obs_mode="state")
    noisy = make_policy("expert:0.5", env, seed=0)
    assert noisy.card.name == "expert:0.5"
    rates = {}
    for spec in ("expert", "expert:2"):
        policy = make_policy(spec, env, seed=0)
        rates[spec] = np.mean([run_episode(env, policy, s, ENV_ID).success_once
                               for s in range(4)])
    assert rates["expert"] == 1.0 and rates["expert:2"] < 1.0
    obs, _ = env.reset(seed=3)
    first = [make_policy("expert:0.5", env, seed=0) for _ in range(2)]
    for policy in first:
        policy.reset(seed=3)
    np.testing.assert_array_equal(first[0].act(obs), first[1].act(obs))
    with pytest.raises(ConfigError, match="expert:NOISE"):
        make_policy("expert:loud", env)
    env.close()
