"""What the mobile manipulation tasks share (MobilePickCup, the mobile OpenDrawer): a mobile
manipulator in NavigateTo's two-room flat (`indoor.py`) drives to the stand from which it
works on the named object of a few standing on the flat's tables, then uses its arm.

`MobileTask` draws the episode (the flat, the objects and their stands from the subclass's
`_place`, the target, the route, the start), keeps the driving tallies (path length, contacts
begun), turns the subclass's measurements into success, failure, reward and metrics, and
gives the target's geometry to the state observation. A subclass says what its objects are,
where they go, how the instruction names the target and what counts as done.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from librobot_gym.envs.tasks.base import Task, TaskReset, WorldState
from librobot_gym.envs.tasks.indoor import PIECES, Layout, draw_layout
from librobot_gym.envs.tasks.mobile_pick_cup_stand import (
    Floor,
    Route,
    Stand,
    floor,
    mobile_arm_mode,
    mobile_layout,
    route,
    start_pose,
)
from librobot_gym.envs.tasks.objects import COLOURS
from librobot_gym.envs.tasks.placement import yaw_quat
from librobot_gym.errors import ConfigError

TABLES = ("table_window", "coffee_table")
TABLE_WORDS = {p.name: p.names for p in PIECES if p.name in TABLES}
COLLISION_PENALTY = 0.05  # dense reward lost a step a robot part touches the flat


@dataclass
class Item:
    """One object of the episode: the table it stands on, its colour, rest pose and the
    stand the base works on it from."""

    table: str
    colour: str
    pos: np.ndarray
    yaw: float
    stand: Stand


@dataclass
class Episode:
    """The drawn flat, the objects by name, the target and the route to its stand; the
    driving tallies."""

    layout: Layout
    items: dict[str, Item]
    target: str
    way: Route
    ground: Floor
    path_length: float = 0.0
    collisions: int = 0
    in_contact: bool = False
    last_xy: tuple[float, float] = (0.0, 0.0)

    @property
    def expert(self) -> np.ndarray:
        return self.way.expert

    @property
    def goal(self) -> np.ndarray:
        return self.way.goal


class MobileTask(Task):
    """A mobile manipulation task in the flat; subclasses set `item_names` and implement
    `scene`, `_place`, `_describe`, `_measure`, `_success`, `_failure`, `_reward`,
    `target_point`, `make_expert` (and, where they have them, the hooks below)."""

    max_episode_steps = 500
    item_names: tuple[str, ...] = ()

    def __init__(self, robot, reward_type: str = "dense", instruction_set: str = "train"):
        super().__init__(robot, reward_type)
        if robot.diff_drive is None or robot.upper_body is None or robot.gripper is None:
            raise ConfigError(f"{self.name} needs a mobile manipulator (a base, a torso, an arm "
                              f"and a gripper); {robot.name!r} is not one (try robot='fetch')")
        self.expert_control_mode = mobile_arm_mode(robot, self.name)
        self.instructions.templates(instruction_set)  # refuses an unknown set now
        self.instruction_set = instruction_set
        self.radius = robot.diff_drive.radius
        self.layout = mobile_layout(robot)
        self.episode: Episode | None = None

    # --- an episode ----------------------------------------------------------------------------
    def reset(self, rng: np.random.Generator) -> TaskReset:
        while True:
            layout = draw_layout(rng)
            ground = floor(layout, self.radius)
            items = self._place(rng, layout, ground)
            if items is None:
                continue
            target = self.item_names[int(rng.integers(len(self.item_names)))]
            self._before_route(rng, items, target)
            way = route(ground, items[target].stand, self.radius)
            start = start_pose(rng, ground, way)
            if start is not None:
                break
        self.episode = Episode(layout, items, target, way, ground, last_xy=start[:2])
        words = self._describe(rng, items, target)
        poses = dict(layout.poses)
        poses.update({n: (c.pos.copy(), yaw_quat(c.yaw)) for n, c in items.items()})
        colours = dict(layout.rgba)
        colours.update({n: COLOURS[c.colour] for n, c in items.items()})
        instruction = self.instructions.say(rng, self.instruction_set, target=words)
        return TaskReset(instruction, poses, colours=colours, base_pose=start,
                         **self._reset_extras())

    def _place(self, rng, layout: Layout, ground: Floor) -> dict[str, Item] | None:
        """The objects on the tables with their stands; None when one finds no place (the
        flat is drawn again)."""
        raise NotImplementedError

    def _before_route(self, rng, items: dict[str, Item], target: str) -> None:
        """Draws that must precede the route's (colours that decide the target's stand)."""

    def _describe(self, rng, items: dict[str, Item], target: str) -> str:
        """The words the instruction names the target with (and any colouring left)."""
        raise NotImplementedError

    def _reset_extras(self) -> dict:
        """More TaskReset fields (e.g. articulated objects' joints)."""
        return {}

    # --- judging the world -----------------------------------------------------------------------
    def touching(self, state: WorldState) -> bool:
        """A robot part touches the flat's walls, doors or furniture."""
        return bool(state.robot_contacts)

    def _tally(self, state: WorldState) -> None:
        """The step's distance driven and contact begun (once per step, from `evaluate`)."""
        ep = self.episode
        xy = (state.extras["base_x"], state.extras["base_y"])
        ep.path_length += math.dist(xy, ep.last_xy)
        ep.last_xy = xy
        touching = self.touching(state)
        ep.collisions += touching and not ep.in_contact
        ep.in_contact = touching

    def distance_to_go(self, state: WorldState) -> float:
        """Metres the base still has to drive to its stand, around walls."""
        return self.episode.way.to_go(state.extras["base_x"], state.extras["base_y"])

    def driving_metrics(self, state: WorldState) -> dict[str, float]:
        """The metrics every mobile task reports first."""
        ep = self.episode
        return {"path_length": ep.path_length, "collisions": float(ep.collisions),
                "in_collision": float(self.touching(state)),
                "distance_to_stand": self.distance_to_go(state)}

    def _measure(self, state: WorldState) -> dict[str, float]:
        raise NotImplementedError

    def _success(self, m: dict[str, float]) -> bool:
        raise NotImplementedError

    def _failure(self, state: WorldState, m: dict[str, float]) -> bool:
        return bool(m["wrong_object"])

    def _reward(self, state: WorldState, m: dict[str, float], success: bool) -> float:
        raise NotImplementedError

    def collision_penalty(self, m: dict[str, float]) -> float:
        return COLLISION_PENALTY if m["in_collision"] else 0.0

    def evaluate(self, state: WorldState) -> tuple[bool, bool, float, dict[str, float]]:
        if self.episode is None or "base_x" not in state.extras:
            return False, False, 0.0, {}
        self._tally(state)
        m = self._measure(state)
        success = self._success(m)
        return success, self._failure(state, m), self._reward(state, m, success), m

    def success(self, state: WorldState) -> bool:
        return self.episode is not None and self._success(self._measure(state))

    def failure(self, state: WorldState) -> bool:
        return self.episode is not None and self._failure(state, self._measure(state))

    def reward(self, state: WorldState, success: bool) -> float:
        return self._reward(state, self._measure(state), success) if self.episode else 0.0

    def metrics(self, state: WorldState) -> dict[str, float]:
        return self._measure(state) if self.episode else {}

    def safety(self, state: WorldState) -> dict[str, bool]:
        """arena_contact: a robot part touches a wall, door or furniture (`touching`)."""
        return {"arena_contact": self.touching(state), "joint_limit": state.near_joint_limit}

    # --- what the state observation gets ---------------------------------------------------------
    def target_point(self, state: WorldState) -> tuple[np.ndarray, np.ndarray]:
        """The point the arm works at on the target (world) and the target's orientation."""
        raise NotImplementedError

    def target_extras(self, state: WorldState | None) -> dict[str, np.ndarray]:
        """More state-observation entries (zeros when `state` is None: before a reset)."""
        return {}

    def ready(self, state: WorldState) -> bool:
        return self.episode is not None and "base_x" in state.extras

    def object_observation(self, state: WorldState) -> dict[str, np.ndarray]:
        """`target_pos`, `target_quat`, `target_to_tcp`, the subclass's extras, `target_vector`
        (the target in the base's frame) and `geodesic_distance` (m to drive, around walls)."""
        if not self.ready(state):
            return {"target_pos": np.zeros(3), "target_quat": np.array([1.0, 0, 0, 0]),
                    "target_to_tcp": np.zeros(3), **self.target_extras(None),
                    "target_vector": np.zeros(2), "geodesic_distance": np.zeros(1)}
        pos, quat = self.target_point(state)
        x, y, yaw = state.extras["base_x"], state.extras["base_y"], state.extras["base_yaw"]
        c, s = math.cos(yaw), math.sin(yaw)
        dx, dy = pos[0] - x, pos[1] - y
        return {"target_pos": pos, "target_quat": quat, "target_to_tcp": state.ee_pos - pos,
                **self.target_extras(state),
                "target_vector": np.array([c * dx + s * dy, -s * dx + c * dy]),
                "geodesic_distance": np.array([self.distance_to_go(state)])}


__all__ = ["COLLISION_PENALTY", "TABLES", "TABLE_WORDS", "Episode", "Item", "MobileTask"]
