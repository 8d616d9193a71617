"""Policy spec schemes -> policies: "expert", "expert:0.3", "random", "ppo:MODEL.zip",
"vla:CHECKPOINT_DIR", "remote:ws://HOST:PORT", and whatever plugins add.

A spec is `SCHEME[:ARG]`; the scheme picks a builder `(arg, env, seed) -> Policy` from the
`POLICIES` registry (`@register_policy("scheme", usage=..., summary=..., obs_mode=...)`). The
built-in schemes (`policies/schemes.py`, `serving/scheme.py`) are imported on first lookup.
"""

from __future__ import annotations

from collections.abc import Callable

import gymnasium as gym

from librobot_gym.registry import Registry

POLICIES = Registry("policy scheme", builtins=("librobot_gym.policies.schemes",
                                               "librobot_gym.serving.scheme"))


def register_policy(scheme: str, usage: str, summary: str, obs_mode: str | None = None,
                    aliases=()) -> Callable:
    """Decorator: `builder(arg, env, seed) -> Policy` serves specs `scheme[:arg]`. `obs_mode`:
    the observation mode the policy needs, known before it is built (None: any)."""
    return POLICIES.register(scheme, aliases, usage=usage, summary=summary, obs_mode=obs_mode)


def policy_usages() -> list[str]:
    return [entry.info["usage"] for entry in POLICIES.entries()]


def required_obs_mode(spec: str) -> str | None:
    """The observation mode a policy spec needs, known before building it (None: any)."""
    return (POLICIES.entry(spec.partition(":")[0]).info or {}).get("obs_mode")


def make_policy(spec: str, env: gym.Env, seed: int | None = None):
    """A policy for `env` from a spec `SCHEME[:ARG]` (see `librobot policies`)."""
    scheme, _, arg = spec.partition(":")
    return POLICIES.get(scheme)(arg, env, seed)


def list_policies() -> list[str]:
    return POLICIES.names()
