"""Shared fixtures: headless rendering and the list of every registered env id."""

import os

os.environ.setdefault("MUJOCO_GL", "egl")

import gymnasium as gym  # noqa: E402

import librobot_gym  # noqa: E402, F401


def registered_env_ids() -> list[str]:
    """Every env id librobot-gym registers: new envs join the conformance suite by themselves."""
    return sorted(env_id for env_id in gym.registry if env_id.startswith("librobot/"))
