"""Tasks: reset distribution, instruction, reward, success, metrics and a scripted expert.

Tasks read the world through `WorldState` and describe their scene with `SceneObject`s, so they
never touch a backend. Registered by name in `TASKS`.
"""

from librobot_gym.envs.tasks.base import SceneObject, Task, TaskReset, WorldState
from librobot_gym.envs.tasks.dig_dump import DigDump
from librobot_gym.envs.tasks.pick_cup import PickCup

TASKS: dict[str, type[Task]] = {"pick_cup": PickCup, "dig_dump": DigDump}

__all__ = ["TASKS", "SceneObject", "Task", "TaskReset", "WorldState", "PickCup", "DigDump"]
