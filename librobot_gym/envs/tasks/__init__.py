"""Tasks: reset distribution, instruction, reward, success, metrics and a scripted expert.

Tasks read the world through `WorldState` and describe their scene with `SceneObject`s, so they
never touch a backend. One module per task, registered with `@register_task` (`TASKS`).
"""

from librobot_gym.envs.tasks.base import SceneObject, Task, TaskReset, WorldState
from librobot_gym.envs.tasks.registry import TASKS, get_task, list_tasks, register_task

__all__ = ["TASKS", "get_task", "list_tasks", "register_task", "SceneObject", "Task",
           "TaskReset", "WorldState"]
