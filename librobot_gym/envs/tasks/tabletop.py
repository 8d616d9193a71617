"""The base of the tabletop suite: a lab cell, a table, a pool of objects from the object set,
and per episode a few of them coloured, placed apart and named in the instruction; the rest
wait out of sight behind the back wall. What a tabletop task adds is its pool, how it draws an
episode (`draw`), its instruction templates, and its judgement and expert.

The model is built once per env from the pool (a simulator cannot add bodies per episode), so a
pool holds every object an episode may show: e.g. two cups so that two cups of one colour can
make "the cup left of the bowl" the only way to tell them apart.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from librobot_gym.envs.tasks.base import SceneObject, Task, TaskReset, WorldState
from librobot_gym.envs.tasks.lab_cell import TABLE_TOP, lab_scene
from librobot_gym.envs.tasks.language import INSTRUCTION_SETS, Instructions, Thing
from librobot_gym.envs.tasks.objects import COLOURS, KINDS, make_object
from librobot_gym.envs.tasks.placement import Footprint, place, yaw_quat
from librobot_gym.envs.tasks.tabletop_layouts import TabletopLayout
from librobot_gym.errors import ConfigError

PARKING_GAP = 0.3  # m between parked objects, and from the back wall
ARENA = frozenset({"table", "floor"})


@dataclass(frozen=True)
class Placed:
    """An object of this episode: its kind, colour, and where it stood at reset (world)."""

    name: str
    kind: str
    colour: str
    pos: np.ndarray
    yaw: float


class TabletopTask(Task):
    """Subclasses set `pool` ((object name, kind) pairs), `instructions`, and implement
    `draw(rng)` (choose, colour and place this episode's objects with `arrange`, name the
    target, return the instruction) plus the `Task` judgement and expert."""

    pool: tuple[tuple[str, str], ...] = ()
    instructions: Instructions
    max_episode_steps = 200
    variant_factors = ("lighting", "table", "background", "distractors", "camera",
                       "object_colour", "object_size", "object_mass", "friction",
                       "joint_noise", "language", "image_noise", "state_noise")

    def __init__(self, robot, reward_type: str = "dense", instruction_set: str = "train"):
        super().__init__(robot, reward_type)
        if robot.tool_site is None or robot.gripper is None:
            raise ConfigError(f"{type(self).__name__} needs a robot with a tool frame and a "
                              f"gripper; {robot.name!r} has none")
        if instruction_set not in INSTRUCTION_SETS:
            raise ConfigError(f"instruction_set={instruction_set!r} is not one of "
                              f"{INSTRUCTION_SETS}")
        self.instruction_set = instruction_set
        self.layout = TabletopLayout.for_robot(robot)
        self.scale = self.layout.object_scale
        self.floor_height = -self.layout.floor_depth
        self.kinds = dict(self.pool)
        self.active: dict[str, Placed] = {}
        front = next((c for c in self.layout.camera_poses() if c.name == "front"), None)
        right = np.cross(np.subtract(front.lookat, front.pos), front.up) if front else (0, 1, 0)
        self.camera_right = np.asarray(right[:2], dtype=np.float64) / np.hypot(*right[:2])
        reach = self.layout.reach_x_range, self.layout.reach_y_range
        self.reach_scale = math.hypot(*(sum(r) / 2 for r in reach))

    # --- the scene -------------------------------------------------------------------------
    def scene(self) -> list:
        objects = [self._pooled(name, kind, i) for i, (name, kind) in enumerate(self.pool)]
        return lab_scene(self.layout) + objects

    def _pooled(self, name: str, kind: str, index: int) -> SceneObject:
        obj = make_object(kind, name, self.scale, "white")
        return replace(obj, pos=tuple(self.parking(name)[0]))

    def parking(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """Where pool object `name` waits when an episode does not show it: on the floor
        behind the back wall, out of every camera's sight and the arm's reach."""
        index = [n for n, _ in self.pool].index(name)
        back = self.layout.room_centre[0] - self.layout.room_half_size[0] - PARKING_GAP
        row, col = divmod(index, 4)
        kind = KINDS[self.kinds[name]]
        return (np.array([back - PARKING_GAP * (row + 1), (col - 1.5) * PARKING_GAP * 1.5,
                          self.floor_height + kind.rest_z * self.scale]), yaw_quat(0.0))

    def rest_z(self, name: str) -> float:
        """World height of `name`'s origin when it stands on the table."""
        return TABLE_TOP + KINDS[self.kinds[name]].rest_z * self.scale

    def footprint(self, name: str) -> float:
        return KINDS[self.kinds[name]].footprint * self.scale

    # --- an episode ------------------------------------------------------------------------
    def draw(self, rng: np.random.Generator) -> str | None:
        """Choose this episode's objects and target, `arrange` them, return the instruction
        (None: the draw did not work out, e.g. nothing fit; `reset` draws again)."""
        raise NotImplementedError

    def reset(self, rng: np.random.Generator) -> TaskReset:
        for _ in range(100):
            instruction = self.draw(rng)
            if instruction is not None:
                return self._task_reset(instruction)
        raise RuntimeError(f"{type(self).__name__}: 100 draws found no episode; its pool "
                           f"or placement patch is too small")

    def arrange(self, rng: np.random.Generator, colours: dict[str, str],
                reach: set[str] = frozenset(), facing: set[str] = frozenset()
                ) -> dict[str, Placed] | None:
        """Place the objects named in `colours` (name -> colour) on the table apart from each
        other, the `reach` ones inside the arm's reach (and first), each turned to a random
        yaw, or, the `facing` ones, with their front (-x: a drawer's pull) towards the robot;
        sets `self.active`. None when they do not fit."""
        lay = self.layout
        patch = (lay.place_x_range, lay.place_y_range)
        near = (lay.reach_x_range, lay.reach_y_range)
        order = sorted(colours, key=lambda n: n not in reach)
        spots = place(rng, [Footprint(n, self.footprint(n), near if n in reach else patch)
                            for n in order], lay.clearance)
        if spots is None:
            return None
        self.active = {}
        for name in order:
            yaw = float(rng.uniform(-math.pi, math.pi))
            if name in facing:
                yaw = math.atan2(spots[name][1], spots[name][0])
            self.active[name] = Placed(name, self.kinds[name], colours[name],
                                       np.array([*spots[name], self.rest_z(name)]), yaw)
        return self.active

    def _task_reset(self, instruction: str) -> TaskReset:
        poses = {name: self.parking(name) for name, _ in self.pool}
        poses.update({p.name: (p.pos.copy(), yaw_quat(p.yaw)) for p in self.active.values()})
        return TaskReset(instruction=instruction, poses=poses,
                         colours={p.name: COLOURS[p.colour] for p in self.active.values()})

    def things(self) -> list[Thing]:
        """This episode's objects as instructions see them (`language.Thing`)."""
        return [Thing(p.name, KINDS[p.kind].noun, p.colour, float(p.pos[:2] @ self.camera_right))
                for p in self.active.values()]

    # --- judging ---------------------------------------------------------------------------
    def lift(self, state: WorldState, name: str) -> float:
        """How far (m) `name` is above where it rests on the table."""
        return float(state.object_pos[name][2]) - self.rest_z(name)

    def moved(self, state: WorldState, name: str) -> float:
        """How far (m) `name` is from where it stood at reset."""
        return float(np.linalg.norm(state.object_pos[name] - self.active[name].pos))

    def wrong_objects(self, state: WorldState, allowed: set[str]) -> list[str]:
        """This episode's free objects, other than `allowed`, that the robot acted on: held
        between its fingers, or lifted half the layout's lift height off the table."""
        bar = self.layout.lift_success / 2
        return [name for name in self.active if name not in allowed and name in state.grasped
                and (state.grasped[name] or self.lift(state, name) > bar)]

    def safety(self, state: WorldState) -> dict[str, bool]:
        """arena_contact: a robot part other than the pads touches the table or the floor
        (furniture it works with, a cabinet or a button's housing, does not count)."""
        return {"arena_contact": bool(state.robot_contacts & ARENA),
                "joint_limit": state.near_joint_limit}

    def off_table(self, state: WorldState, name: str) -> bool:
        return float(state.object_pos[name][2]) < TABLE_TOP - 0.05
