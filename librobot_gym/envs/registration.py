"""The table of env ids. Released ids are frozen: a behaviour change gets a new -v<N+1>."""

from __future__ import annotations

from dataclasses import dataclass, field

import gymnasium as gym

ENTRY_POINT = "librobot_gym.envs.core:RobotEnv"


@dataclass(frozen=True)
class EnvEntry:
    """One registered env: which robot does which task, and its fixed settings."""

    id: str
    robot: str
    task: str
    max_episode_steps: int
    kwargs: dict = field(default_factory=dict)


ENV_TABLE: tuple[EnvEntry, ...] = (
    EnvEntry("librobot/Franka-PickCup-v0", "franka_panda", "pick_cup", 200),
    EnvEntry("librobot/SO100-PickCup-v0", "so100", "pick_cup", 200),
    EnvEntry("librobot/Excavator-DigDump-v0", "excavator", "dig_dump", 1200),
    # Real hardware: the same robot, task, spaces and success test; pass driver=... to make.
    EnvEntry("librobot/Franka-PickCup-Real-v0", "franka_panda", "pick_cup", 200,
             {"backend": "real"}),
    EnvEntry("librobot/SO100-PickCup-Real-v0", "so100", "pick_cup", 200, {"backend": "real"}),
    EnvEntry("librobot/Excavator-DigDump-Real-v0", "excavator", "dig_dump", 1200,
             {"backend": "real"}),
)


def register_all() -> None:
    """Register every env id with gymnasium (idempotent)."""
    for entry in ENV_TABLE:
        if entry.id in gym.registry:
            continue
        # The env enforces its own step limit (the real backend needs it too), so no TimeLimit
        # wrapper; the conformance suite runs gymnasium's checker, so no per-step checker wrapper.
        gym.register(
            id=entry.id,
            entry_point=ENTRY_POINT,
            disable_env_checker=True,
            kwargs={"robot": entry.robot, "task": entry.task,
                    "max_episode_steps": entry.max_episode_steps, **entry.kwargs},
        )


def env_ids() -> list[str]:
    return [entry.id for entry in ENV_TABLE]


def env_doc(env_id: str) -> str:
    """The Markdown documentation of a registered env: its task's docstring, or the task's
    doc for this env's robot where it has one (`env_docs`, e.g. PickCup at the SO-100's scale)."""
    import inspect

    from librobot_gym.envs.tasks import TASKS
    from librobot_gym.errors import ConfigError

    for entry in ENV_TABLE:
        if entry.id == env_id:
            task = TASKS[entry.task]
            doc = getattr(task, "env_docs", {}).get(entry.robot) or task.__doc__
            return inspect.cleandoc(doc or "")
    raise ConfigError(f"unknown env id {env_id!r}; known: {', '.join(env_ids())}")
