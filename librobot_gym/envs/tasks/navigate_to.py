"""NavigateTo: a mobile base drives to the piece of furniture or the object the instruction
names, in a two-room flat drawn from the seed (`indoor.py`). Judged on the floor grid
(`floor_grid.py`): success is being within SUCCESS_RADIUS of the target, measured around the
walls; SPL (Habitat's) takes its shortest path from the grid planner. The expert follows the
planner's distance field with pure pursuit (`navigate_to_expert.py`)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from librobot_gym.envs.tasks import floor_grid as fg
from librobot_gym.envs.tasks.base import Task, TaskReset, WorldState
from librobot_gym.envs.tasks.indoor import (
    GRID,
    HALF,
    LANDMARKS,
    PIECES,
    Layout,
    draw_layout,
    indoor_scene,
)
from librobot_gym.envs.tasks.language import Instructions
from librobot_gym.envs.tasks.navigate_to_expert import NavigateToExpert
from librobot_gym.envs.tasks.registry import register_task
from librobot_gym.errors import ConfigError

SUCCESS_RADIUS = 1.0  # m from the target's footprint, around walls (Habitat ObjectNav's 1 m)
MIN_START_GAP = 1.0  # m: the start lies at least this much beyond the success radius
REWARD_SCALE = 4.0  # m: the dense reward is exp(-distance to go / this)
COLLISION_PENALTY = 0.1  # dense reward lost on a step in contact with anything
INSTRUCTIONS = Instructions(
    train=("go to {target}", "drive to {target}", "navigate to {target}", "move to {target}",
           "head to {target}", "take me to {target}"),
    heldout=("make your way over to {target}", "find {target} and stop next to it",
             "roll up to {target}", "could you drive over to {target}?"),
)
TARGETS: dict[str, tuple[str, ...]] = {p.name: p.names for p in PIECES}
TARGETS.update({kind: names for kind, _, names in LANDMARKS})


@dataclass
class Episode:
    """The drawn flat, the target and the planner's fields for one episode, and its running
    tallies (path length, collisions)."""

    layout: Layout
    target: str
    start: tuple[float, float, float]
    goal: np.ndarray  # metres to the target around the walls, per cell
    nav: np.ndarray  # metres to the success region for the robot's footprint, per cell
    expert: np.ndarray  # the expert's cost-to-go (clearance-weighted), per cell
    shortest: float  # m, the planner's shortest path from the start (SPL's l)
    path_length: float = 0.0
    collisions: int = 0
    in_contact: bool = False
    last_xy: tuple[float, float] = (0.0, 0.0)


def _mask(footprint) -> np.ndarray:
    if footprint.radius > 0:
        return fg.disc_mask(GRID, footprint.centre, max(footprint.radius, GRID.cell))
    return fg.rectangle_mask(GRID, footprint.centre, footprint.half, footprint.yaw)


def plan(layout: Layout, target: str, radius: float) -> tuple[np.ndarray, ...]:
    """(goal, nav, expert, clear) fields for `target` in `layout` for a base of `radius` m:
    metres to the target around walls; to the success region for the base's footprint; the
    expert's cost-to-go; the clearance to the nearest obstacle."""
    walls = np.zeros(GRID.shape, dtype=bool)
    for fp in layout.walls():
        walls |= _mask(fp)
    furniture = np.zeros(GRID.shape, dtype=bool)
    for name, fp in layout.footprints.items():
        if name not in ("mug", "bowl"):  # they stand on tables
            furniture |= _mask(fp)
    aim = _mask(layout.footprints[target])
    goal = fg.distance_field(GRID, ~walls | aim, aim)
    occupied = np.pad(walls | furniture, 1, constant_values=True)
    clear = fg.clearance(GRID, occupied)[1:-1, 1:-1] - GRID.cell / 2
    nav_free = clear >= radius
    nav = fg.distance_field(GRID, nav_free, nav_free & (goal <= SUCCESS_RADIUS - 0.05))
    # The expert keeps half a metre off obstacles where it can, squeezes to its half width
    # where it must, and aims well inside the success region.
    free = clear >= radius - 0.06
    weight = 1.0 + 6.0 * np.clip((radius + 0.2 - clear) / 0.26, 0.0, 1.0)
    expert = fg.distance_field(GRID, free, free & (goal <= SUCCESS_RADIUS - 0.3), weight)
    if not np.isfinite(expert).any():
        expert = fg.distance_field(GRID, free, free & (goal <= SUCCESS_RADIUS - 0.05), weight)
    return goal, nav, expert, clear


@register_task("navigate_to")
class NavigateTo(Task):
    """
    ## Description
    A mobile base drives to the furniture or object its instruction names ("go to the red
    chair", "drive to the table by the window") in a two-room flat: a living room and a dining
    room behind 1.2 m cut-away walls, a partition with two door openings (each door open or
    shut), a window, a dining table, a coffee table, a bookshelf, a sofa, two chairs, and
    landmarks from the tabletop set (a mug on the coffee table, a bowl on the dining table, a
    bin on the floor). Every reset draws a new flat from the seed: where the partition stands,
    which doors are shut, where the window is, where each piece stands and faces, the colours,
    the target, the robot's start. Cameras: `front` (on the robot, 0.3 m up) and `overhead`
    (the whole flat from above the south wall).

    ## Action Space
    The Jackal's `base_twist`: [forward speed (m/s, +-2), yaw rate (rad/s, +-2)], normalised
    to [-1, 1], slewed at 2 m/s^2 and 3 rad/s^2 (`env.unwrapped.action_spec`). Fetch's
    `base_twist+ee_delta_pose` is in its own doc (`librobot envs --doc
    librobot/Fetch-NavigateTo-v0`).

    ## Observation Space
    The Jackal's proprioception: base pose (x, y, yaw; odometry), measured twist, wheel
    speeds, 24 lidar ranges (270 deg, 10 m). State modes add `goal_position` (the target's
    centre, m, world), `goal_vector` (the same in the base frame) and `geodesic_distance` (m
    still to go to the success region, around walls).

    ## Rewards
    `dense`: exp(-d / 4 m), d the metres still to go around the walls (1 on arrival), minus
    0.1 on every step in contact with a wall, a door or furniture. `sparse`: 1 on success.

    ## Success Criteria
    The base's centre within 1.0 m of the target's footprint, measured around walls (not
    through them). `terminated` on success; `truncated` after 400 steps (40 s at 10 Hz).

    ## Metrics
    `path_length` (m driven), `shortest_path` (the grid planner's shortest collision-free path
    from the start to the success region, l), `spl` (SPL, Habitat's success weighted by
    path length, S l / max(p, l), for the episode so far), `distance_to_goal` (m to go),
    `collisions` (contacts begun with walls, doors or furniture), `in_collision`.

    ## Starting State
    The base at rest anywhere at least 0.1 m more than its radius (the Jackal: 0.41 m) clear
    of every obstacle, facing any way with
    1.2 m of clear floor ahead, at least 1 m beyond the success radius around the walls from
    the target.

    ## Arguments
    `reward_type` ("dense", "sparse"); `instruction_set` ("train": six phrasings; "heldout":
    four paraphrases no default episode uses); and the common env arguments.

    ## Version History
    - v0: first release.
    """

    name = "navigate_to"
    summary = "drive to the furniture or object the instruction names in a two-room flat"
    max_episode_steps = 400
    expert_control_mode = "base_twist"
    instructions = INSTRUCTIONS

    def __init__(self, robot, reward_type: str = "dense", instruction_set: str = "train"):
        super().__init__(robot, reward_type)
        if robot.diff_drive is None:
            raise ConfigError(f"navigate_to needs a mobile base; {robot.name!r} has none "
                              f"(try robot='jackal')")
        # The expert drives the base through the robot's mode with a twist in it (a mobile
        # manipulator's also holds its arm, torso and gripper).
        self.expert_control_mode = next(m for m in robot.control_modes if "base_twist" in m)
        self.instructions.templates(instruction_set)  # refuses an unknown set now
        self.instruction_set = instruction_set
        self.radius = robot.diff_drive.radius
        self.episode: Episode | None = None

    def scene(self) -> list:
        return indoor_scene()

    # --- an episode ----------------------------------------------------------------------------
    def reset(self, rng: np.random.Generator) -> TaskReset:
        while True:
            layout = draw_layout(rng)
            target = list(TARGETS)[int(rng.integers(len(TARGETS)))]
            goal, nav, expert, clear = plan(layout, target, self.radius)
            starts = np.isfinite(nav) & np.isfinite(expert) & \
                (goal > SUCCESS_RADIUS + MIN_START_GAP) & self._roomy(nav)
            cells = np.flatnonzero(starts)
            if cells.size:
                break
        cell = int(cells[int(rng.integers(cells.size))])
        iy, ix = divmod(cell, GRID.nx)
        x, y = GRID.centre(iy, ix)
        start = (x, y, self._facing_space(rng, clear, x, y))
        self.episode = Episode(layout, target, start, goal, nav, expert,
                               shortest=float(nav[iy, ix]), last_xy=(x, y))
        names = TARGETS[target]
        name = names[int(rng.integers(len(names)))].format(
            colour=layout.colours.get(target, ""))
        instruction = self.instructions.say(rng, self.instruction_set, target=name)
        return TaskReset(instruction, layout.poses, colours=layout.rgba, base_pose=start)

    @staticmethod
    def _facing_space(rng: np.random.Generator, clear: np.ndarray, x: float, y: float) -> float:
        """A random heading with 1.2 m of floor clear ahead where one of 12 draws has it
        (the front camera then shows the room rather than a wall at arm's length)."""
        for _ in range(12):
            yaw = float(rng.uniform(-math.pi, math.pi))
            if all(GRID.at(clear, x + d * math.cos(yaw), y + d * math.sin(yaw)) > 0.1
                   for d in (0.4, 0.8, 1.2)):
                return yaw
        return yaw

    def _roomy(self, nav: np.ndarray) -> np.ndarray:
        """Cells a whole 0.1 m beyond the base's radius from every obstacle (a start pose
        with room to turn)."""
        grown = np.pad(~np.isfinite(nav), 1, constant_values=True)
        return fg.clearance(GRID, grown)[1:-1, 1:-1] > 0.1 + GRID.cell / 2

    # --- judging the world -----------------------------------------------------------------------
    def distance_to_go(self, state: WorldState) -> float:
        """Metres from the base to the success region, around the walls."""
        ep = self.episode
        if ep is None:
            return 0.0
        d = GRID.at(ep.goal, state.extras["base_x"], state.extras["base_y"])
        return max(d - SUCCESS_RADIUS, 0.0) if math.isfinite(d) else 2 * (HALF[0] + HALF[1])

    def success(self, state: WorldState) -> bool:
        ep = self.episode
        return ep is not None and \
            GRID.at(ep.goal, state.extras["base_x"], state.extras["base_y"]) <= SUCCESS_RADIUS

    def reward(self, state: WorldState, success: bool) -> float:
        if self.reward_type == "sparse":
            return float(success)
        penalty = COLLISION_PENALTY if state.robot_contacts else 0.0
        return math.exp(-self.distance_to_go(state) / REWARD_SCALE) - penalty

    def evaluate(self, state: WorldState) -> tuple[bool, bool, float, dict[str, float]]:
        """Tally the step (distance driven, contacts begun), then judge it."""
        ep = self.episode
        if ep is not None:
            xy = (state.extras["base_x"], state.extras["base_y"])
            ep.path_length += math.dist(xy, ep.last_xy)
            ep.last_xy = xy
            touching = bool(state.robot_contacts)
            ep.collisions += touching and not ep.in_contact
            ep.in_contact = touching
        success = self.success(state)
        return success, False, self.reward(state, success), self.metrics(state, success)

    def metrics(self, state: WorldState, success: bool | None = None) -> dict[str, float]:
        ep = self.episode
        if ep is None:
            return {}
        success = self.success(state) if success is None else success
        p, l_ = ep.path_length, ep.shortest
        return {"path_length": p, "shortest_path": l_,
                "spl": float(success) * l_ / max(p, l_, 1e-9),
                "distance_to_goal": self.distance_to_go(state),
                "collisions": float(ep.collisions), "in_collision": float(ep.in_contact)}

    def object_observation(self, state: WorldState) -> dict[str, np.ndarray]:
        ep = self.episode
        if ep is None or "base_x" not in state.extras:
            return {"goal_position": np.zeros(2), "goal_vector": np.zeros(2),
                    "geodesic_distance": np.zeros(1)}
        gx, gy = ep.layout.footprints[ep.target].centre
        x, y, yaw = state.extras["base_x"], state.extras["base_y"], state.extras["base_yaw"]
        c, s = math.cos(yaw), math.sin(yaw)
        dx, dy = gx - x, gy - y
        return {"goal_position": np.array([gx, gy]),
                "goal_vector": np.array([c * dx + s * dy, -s * dx + c * dy]),
                "geodesic_distance": np.array([self.distance_to_go(state)])}

    def make_expert(self) -> NavigateToExpert:
        return NavigateToExpert(self)
