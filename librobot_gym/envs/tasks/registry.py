"""The task registry: `@register_task("name")` on a `Task` class, `get_task(name)`,
`list_tasks()`. Built-in tasks are one module each in this package, imported on first lookup;
plugins register theirs the same way."""

from __future__ import annotations

from librobot_gym.registry import Registry

BUILTIN_TASKS = (
    "librobot_gym.envs.tasks.pick_cup",
    "librobot_gym.envs.tasks.pick_cup_v1",
    "librobot_gym.envs.tasks.dig_dump",
    "librobot_gym.envs.tasks.open_drawer",
    "librobot_gym.envs.tasks.close_drawer",
    "librobot_gym.envs.tasks.push_to_target",
    "librobot_gym.envs.tasks.press_button",
    # The tabletop suite's pick-and-place tasks (issue 17).
    "librobot_gym.envs.tasks.place_in_container",
    "librobot_gym.envs.tasks.stack_blocks",
    # The earthmoving fleet (issue 22): the wheel loader's task.
    "librobot_gym.envs.tasks.load_hauler",
    # Mobile robots (issue 20): NavigateTo in a two-room flat.
    "librobot_gym.envs.tasks.navigate_to",
    "librobot_gym.envs.tasks.mobile_pick_cup",
    "librobot_gym.envs.tasks.mobile_drawer",
    "librobot_gym.envs.tasks.haul_dump",
    "librobot_gym.envs.tasks.dig_dump_v1",
    # Humanoids (issue 21): Stand under pushes.
    "librobot_gym.envs.tasks.humanoid_stand",
    # Humanoids (issue 21): WalkTo through the walking controller.
    "librobot_gym.envs.tasks.humanoid_walk_to",
    # Humanoids (issue 21): TabletopPick, standing at a table.
    "librobot_gym.envs.tasks.humanoid_pick",
)
TASKS = Registry("task", builtins=BUILTIN_TASKS)


def register_task(name: str, aliases=()):
    """Class decorator: register a `Task` subclass under `name`."""
    return TASKS.register(name, aliases)


def get_task(name: str):
    """The `Task` class registered under `name` (or an alias)."""
    return TASKS.get(name)


def list_tasks() -> list[str]:
    return TASKS.names()
