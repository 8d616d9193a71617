"""Policies: anything with `reset()` and `act(obs) -> action`, the policy spec schemes
(`registry`: expert, random, ppo, sac, vla, remote and plugins) and the built-in policies.

May import robots, hardware and envs; training, benchmarks, serving and the CLI build on it.
"""

from librobot_gym.policies.base import Mismatch, Policy, PolicyCard
from librobot_gym.policies.expert import ExpertPolicy
from librobot_gym.policies.random import RandomPolicy
from librobot_gym.policies.registry import (
    POLICIES,
    list_policies,
    make_policy,
    register_policy,
    required_obs_mode,
)

__all__ = ["Policy", "PolicyCard", "Mismatch", "make_policy", "register_policy", "list_policies",
           "required_obs_mode", "POLICIES", "ExpertPolicy", "RandomPolicy"]
