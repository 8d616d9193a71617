"""Policies: anything with `reset()` and `act(obs) -> action`, plus the built-in ones.

May import robots and envs; benchmarks and the CLI build on it.
"""

from librobot_gym.policies.base import Policy, PolicyCard, make_policy
from librobot_gym.policies.expert import ExpertPolicy
from librobot_gym.policies.random import RandomPolicy

__all__ = ["Policy", "PolicyCard", "make_policy", "ExpertPolicy", "RandomPolicy"]
