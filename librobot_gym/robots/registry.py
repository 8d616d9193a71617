"""The robot registry: `register_robot(spec)` (or `@register_robot` on a function returning a
spec), `get_robot(name)`, `list_robots()`. Built-in robots are one folder each under
`robots/<family>/<name>/`, imported on first lookup; plugins register theirs the same way."""

from __future__ import annotations

from collections.abc import Callable

from librobot_gym.registry import Registry, caller_module
from librobot_gym.robots.spec import RobotSpec

BUILTIN_ROBOTS = (
    "librobot_gym.robots.arms.franka_panda",
    "librobot_gym.robots.arms.so100",
    "librobot_gym.robots.arms.ur5e",
    "librobot_gym.robots.heavy.excavator",
    "librobot_gym.robots.heavy.wheel_loader",
    "librobot_gym.robots.mobile.jackal",
    "librobot_gym.robots.mobile_manipulators.fetch",
    "librobot_gym.robots.mobile_manipulators.tiago",
    "librobot_gym.robots.heavy.hauler",
    "librobot_gym.robots.humanoids.h1",
    "librobot_gym.robots.humanoids.gr1",
    "librobot_gym.robots.humanoids.figure",
)
ROBOTS = Registry("robot", builtins=BUILTIN_ROBOTS)


def register_robot(spec: RobotSpec | Callable[[], RobotSpec], aliases=()) -> RobotSpec:
    """Register a robot under its `name`; returns the spec. As a decorator on a zero-argument
    function, registers the spec the function returns."""
    if not isinstance(spec, RobotSpec):
        spec = spec()
    if not isinstance(spec, RobotSpec):
        raise TypeError(f"register_robot needs a RobotSpec, got {type(spec).__name__}")
    return ROBOTS.add(spec.name, spec, aliases, module=caller_module(), family=spec.family)


def get_robot(name: str) -> RobotSpec:
    """The robot description registered under `name` (or an alias)."""
    return ROBOTS.get(name)


def list_robots() -> list[str]:
    return ROBOTS.names()
