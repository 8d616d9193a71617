"""TabletopPick: a humanoid standing at a table picks up the object the instruction names and
lifts it, among 2-4 objects of the tabletop set (`objects.py`): GR00T's GR1 tabletop
evaluations' setting, the upper body acting while the balance law holds the legs.

The table's height and how far the objects stand from the robot are fitted to each robot's
reach and are data in its spec (`task_layouts["tabletop_pick"]`). The expert is
`humanoid_pick_expert.py`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from librobot_gym.envs.tasks.base import Task, TaskReset, WorldState
from librobot_gym.envs.tasks.humanoid_pick_expert import TabletopPickExpert
from librobot_gym.envs.tasks.humanoid_stand import FALL_HEIGHT, FALL_TILT, FLOOR, WALL
from librobot_gym.envs.tasks.language import Instructions, Thing, shortest_reference
from librobot_gym.envs.tasks.objects import COLOURS, KINDS, make_object
from librobot_gym.envs.tasks.placement import Footprint, place, upright, yaw_quat
from librobot_gym.envs.tasks.registry import register_task
from librobot_gym.errors import ConfigError
from librobot_gym.robots.humanoids.common import SIDES, hands_for
from librobot_gym.scene import (
    INDOOR_SKY,
    CameraPose,
    LabCell,
    Light,
    ObjectPart,
    SceneObject,
)

POOL = (("cup_0", "cup"), ("cup_1", "cup"), ("block_0", "block"), ("block_1", "block"))
PICK_COLOURS = ("red", "green", "blue", "yellow", "orange", "purple")
N_OBJECTS = (2, 4)  # objects on the table per episode, inclusive
GRASP_HEIGHT = {"cup": 0.05, "block": 0.042}  # m above the table top: the grip point's goal
CLEARANCE = 0.06  # m between objects' footprints
LIFT_SUCCESS = 0.1  # m above its rest height
WRONG_LIFT = 0.04  # m: another object this high was lifted
HELD_RADIUS = 0.07  # m: an object this close to a grip point and off the table is held
TABLE_HALF = (0.25, 0.5)  # m: the table top's half depth and half width
TABLE_THICKNESS = 0.02  # m, half of it
MAX_YAW = math.radians(20)  # objects stand within this of square to the robot (a block's
# faces where a level pinch closes on them; a cup is round)
START_JITTER = (0.02, 0.05)  # m, rad: the robot's start around its spot
WOOD = (0.58, 0.40, 0.24, 1.0)
INSTRUCTIONS = Instructions(
    train=("pick up the {target}", "lift the {target}", "grab the {target} and raise it",
           "take the {target} off the table", "get the {target} and hold it up"),
    heldout=("could you pick up the {target}?", "the {target}: lift it off the table",
             "raise the {target} into the air"),
)
LAYOUT_KEYS = ("table_height", "table_edge", "reach_x", "reach_y", "open")


@dataclass(frozen=True)
class Placed:
    """An object of this episode: kind, colour, where it stood at reset (world) and its yaw."""

    name: str
    kind: str
    colour: str
    pos: np.ndarray
    yaw: float


@dataclass
class Episode:
    """This episode's objects, target and running tallies."""

    objects: dict[str, Placed]
    target: str
    fell: bool = False
    max_lift: float = 0.0


def pick_layout(robot) -> dict[str, float]:
    """The robot's TabletopPick numbers (`task_layouts["tabletop_pick"]`): `table_height`
    (m, the top), `table_edge` (m ahead of the pelvis to the table's near edge), `reach_x`
    ((near, far) m ahead of the pelvis the objects' centres stand), `reach_y` ((near, far) m
    to one side of the centre line: each object stands on a side drawn at random, in front
    of the hand that picks it), `open` (m, the jaws' opening while reaching); optional
    `cameras`: (name, position, look-at point (m, the mount's frame), vertical field of view
    (deg)) per camera the task frames on the table; optional `jaw_lean` (rad): the expert
    brings the jaws to lean this far from straight down before it reaches (7-DoF arms)."""
    layout = dict(robot.task_layouts.get("tabletop_pick", {}))
    missing = [k for k in LAYOUT_KEYS if k not in layout]
    if missing:
        raise ConfigError(f"{robot.name!r} has no tabletop_pick layout ({missing} missing): a "
                          f"humanoid's spec gives task_layouts['tabletop_pick'] = "
                          f"{{{', '.join(LAYOUT_KEYS)}}}")
    return layout


@register_task("tabletop_pick")
class TabletopPick(Task):
    """
    ## Description
    A humanoid (the Unitree H1, the Fourier GR1, the Figure-class (unofficial) robot) stands
    at a table in a room and picks up the object the instruction names, "pick up the red
    cup", "lift the block", among 2-4 objects of the tabletop set (cups 6.4 cm across and
    10 cm high, 5 cm blocks) in six colours. The name is the plainest that picks the target
    out: its kind when no other object is of that kind, else colour and kind (which always
    do). Lifting another object is a failure (`wrong_object`); so is falling. GR00T's GR1
    tabletop evaluations are the anchor: the upper body acts, the lower body is held. The
    table is fitted to each robot's reach (its spec's `task_layouts["tabletop_pick"]`): the
    top 0.85 m high, the near edge beyond the hanging hands (0.2 m ahead of the pelvis for the
    H1, 0.33 m for the GR1, 0.27 m for the Figure-class robot), the objects' centres 0.28-0.4,
    0.38-0.46 and 0.33-0.43 m ahead, 0.1-0.3 m to either side of the centre line. Cameras:
    `head` (framed on the objects, 42 deg: a block ~10 px, a cup ~13 px at 128x128) and
    `chest` (the table).

    ## Action Space
    `ee_delta_pose` (the expert's; `Box(-1, 1, (14,))`): per hand (left, then right) the grip
    point's step (m, +-0.02 a step) and the hand's turn (rad, +-0.1) in the pelvis frame, and
    the jaws' opening (m, 0-0.085); damped least-squares inverse kinematics on the arms, the
    legs held by the balance law. `upper_body`: the arms' (and the GR1's head's) PD targets
    and the two openings; `joint_pos`: every joint, nothing balancing. Units in
    `env.unwrapped.action_spec`.

    ## Observation Space
    The robot's proprioception (joint positions and speeds, the grippers' openings among them;
    the IMU). State modes add `target_pos` (3, the named object, world), `target_quat` (4),
    `target_to_grip` (3, from the nearer hand's grip point) and `grips` (6, both grip points,
    world): privileged, they name the target.

    ## Rewards
    `dense`: 0.4 (1 - tanh(5 d)) for reaching (d the nearer grip point's distance to the
    target, m: it pays from the first step) + 0.2 while the target is held (off the table,
    within 7 cm of a grip point) + 0.35 lift progress (while held), 1 on success, 0 on the
    step it falls or another object is lifted. `sparse`: 1 on success.

    ## Success Criteria
    The named object held at least 0.10 m above its rest height, no other object lifted, the
    robot on its feet. `terminated` on success or failure: a fall (the pelvis below 0.6 m or
    the trunk tilted beyond 0.7 rad; `info["safety"]["fell"] = True`), another object lifted
    4 cm (`wrong_object`), the target off the table or knocked over and not held;
    `truncated` after 300 steps (6 s at 50 Hz).

    ## Metrics
    `grip_to_target` (m, the nearer hand), `lift_height` (m), `held` (0/1), `wrong_object`
    (0/1), `fell` (0/1), `distractors_moved` (m, the furthest another object moved), `tilt`
    (rad, the trunk now).

    ## Starting State
    The nominal standing posture (grippers open), the robot within 2 cm and 0.05 rad of its
    spot facing the table; objects apart (6 cm between footprints), upright, turned up to
    20 deg from square to the robot.

    ## Arguments
    `reward_type` ("dense", "sparse"); `instruction_set` ("train": five phrasings;
    "heldout": three paraphrases no default episode uses); and the common env arguments.

    ## Version History
    - v0: first release.
    """

    name = "tabletop_pick"
    summary = "a standing humanoid picks the named object off a table and lifts it"
    max_episode_steps = 300
    expert_control_mode = "ee_delta_pose"
    instructions = INSTRUCTIONS

    def __init__(self, robot, reward_type: str = "dense", instruction_set: str = "train"):
        super().__init__(robot, reward_type)
        if robot.family != "humanoid":
            raise ConfigError(f"tabletop_pick needs a humanoid; {robot.name!r} is a "
                              f"{robot.family} (try robot='h1')")
        hands_for(robot)  # refuses a humanoid without hands now
        self.layout = pick_layout(robot)
        self.instructions.templates(instruction_set)  # refuses an unknown set now
        self.instruction_set = instruction_set
        self.kinds = dict(POOL)
        self.episode: Episode | None = None

    # --- the scene -------------------------------------------------------------------------
    def table_top(self) -> float:
        return float(self.layout["table_height"])

    def scene(self) -> list:
        top, edge = self.table_top(), float(self.layout["table_edge"])
        (hx, hy), leg = TABLE_HALF, (top - 2 * TABLE_THICKNESS) / 2
        legs = tuple(ObjectPart("box", (0.025, 0.025, leg),
                                (sx * (hx - 0.05), sy * (hy - 0.05), -TABLE_THICKNESS - leg),
                                (0.3, 0.3, 0.32, 1.0)) for sx in (-1, 1) for sy in (-1, 1))
        table = SceneObject("table", "box", (hx, hy, TABLE_THICKNESS),
                            (edge + hx, 0.0, top - TABLE_THICKNESS), WOOD, parts=legs)
        cell = LabCell(floor=FLOOR, wall=WALL, half_size=(2.5, 2.5), wall_height=2.6,
                       lights=(Light("sun", (0.0, -2.0, 6.0), (0.2, 0.3, -1.0), (0.5, 0.5, 0.5),
                                     directional=True),
                               Light("lamp", (1.2, 0.8, 2.4), (-0.3, -0.3, -1.0),
                                     (0.35, 0.35, 0.32), cutoff=80.0)),
                       ambient=0.35, headlight=0.3, open_front=False, sleep=False)
        objects = [replace(make_object(kind, name, 1.0, "white"),
                           pos=tuple(self.parking(name)[0])) for name, kind in POOL]
        # The cameras framed on the objects' patch (a task's own views, `CameraPose`): the
        # head's narrowed to 42 deg (the D435's colour field) so a 5 cm block spans ~10 px
        # and a cup ~13 at 128x128.
        views = [CameraPose(name, tuple(pos), tuple(lookat), float(fovy))
                 for name, pos, lookat, fovy in self.layout.get("cameras", ())]
        return [cell, INDOOR_SKY, table, *objects, *views]

    def parking(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """Where pool object `name` waits when an episode does not show it: on the floor
        behind the robot, out of its cameras' sight and its reach."""
        index = [n for n, _ in POOL].index(name)
        kind = KINDS[self.kinds[name]]
        return np.array([-1.8, -0.9 + 0.6 * index, kind.rest_z]), yaw_quat(0.0)

    def rest_z(self, name: str) -> float:
        """World height of `name`'s origin standing on the table."""
        return self.table_top() + KINDS[self.kinds[name]].rest_z

    def grasp_height(self, name: str) -> float:
        """World height the grip point closes at on `name` (the expert's)."""
        return self.table_top() + GRASP_HEIGHT[self.kinds[name]]

    # --- an episode ------------------------------------------------------------------------
    def reset(self, rng: np.random.Generator) -> TaskReset:
        for _ in range(100):
            reset = self._draw(rng)
            if reset is not None:
                return reset
        raise RuntimeError("tabletop_pick: 100 draws placed no episode; its reach patch is "
                           "too small for its objects")

    def _draw(self, rng: np.random.Generator) -> TaskReset | None:
        count = int(rng.integers(N_OBJECTS[0], N_OBJECTS[1] + 1))
        names = [POOL[i][0] for i in sorted(rng.choice(len(POOL), count, replace=False))]
        reach_x, (near, far) = tuple(self.layout["reach_x"]), tuple(self.layout["reach_y"])
        sides = [(near, far) if rng.random() < 0.5 else (-far, -near) for _ in names]
        spots = place(rng, [Footprint(n, KINDS[self.kinds[n]].footprint, (reach_x, side))
                            for n, side in zip(names, sides, strict=True)], CLEARANCE)
        if spots is None:
            return None
        colours = {n: PICK_COLOURS[int(rng.integers(len(PICK_COLOURS)))] for n in names}
        target = names[int(rng.integers(len(names)))]
        same = [n for n in names if n != target and self.kinds[n] == self.kinds[target]]
        for n in same:  # the target's kind and colour pick it out alone
            while colours[n] == colours[target]:
                colours[n] = PICK_COLOURS[int(rng.integers(len(PICK_COLOURS)))]
        objects = {n: Placed(n, self.kinds[n], colours[n],
                             np.array([*spots[n], self.rest_z(n)]),
                             float(rng.uniform(-MAX_YAW, MAX_YAW))) for n in names}
        things = [Thing(n, KINDS[p.kind].noun, p.colour, -float(p.pos[1]))
                  for n, p in objects.items()]
        ref = shortest_reference(next(t for t in things if t.name == target), things)
        words = ref.text()
        if ref.colour is None and rng.random() < 0.5:
            words = f"{colours[target]} {words}"
        self.episode = Episode(objects, target)
        instruction = self.instructions.say(rng, self.instruction_set, target=words)
        poses = {n: self.parking(n) for n, _ in POOL}
        poses.update({n: (p.pos.copy(), yaw_quat(p.yaw)) for n, p in objects.items()})
        dx, dyaw = START_JITTER
        base = (float(rng.uniform(-dx, dx)), float(rng.uniform(-dx, dx)),
                float(rng.uniform(-dyaw, dyaw)))
        return TaskReset(instruction, poses, colours={n: COLOURS[p.colour]
                                                      for n, p in objects.items()},
                         base_pose=base)

    # --- judging the world -------------------------------------------------------------------
    @staticmethod
    def fallen(state: WorldState) -> bool:
        extras = state.extras
        return extras.get("base_z", 1.0) < FALL_HEIGHT or extras.get("tilt", 0.0) > FALL_TILT

    @staticmethod
    def grips(state: WorldState) -> list[np.ndarray]:
        """Both hands' grip points (world, m)."""
        return [np.array([state.extras[f"{side}_grip_{a}"] for a in "xyz"]) for side in SIDES]

    def _measure(self, state: WorldState) -> dict[str, float]:
        ep = self.episode
        pos = state.object_pos[ep.target]
        lift = float(pos[2] - ep.objects[ep.target].pos[2])
        reach = min(float(np.linalg.norm(g - pos)) for g in self.grips(state))
        held = bool(lift > 0.01 and reach < HELD_RADIUS)
        ep.fell |= self.fallen(state)
        wrong = any(float(state.object_pos[n][2]) - p.pos[2] > WRONG_LIFT
                    for n, p in ep.objects.items() if n != ep.target)
        moved = [float(np.linalg.norm(state.object_pos[n] - p.pos))
                 for n, p in ep.objects.items() if n != ep.target]
        return {"grip_to_target": reach, "lift_height": lift, "held": float(held),
                "wrong_object": float(wrong), "fell": float(ep.fell),
                "distractors_moved": max(moved, default=0.0),
                "tilt": float(state.extras.get("tilt", 0.0))}

    @staticmethod
    def _success(m: dict[str, float]) -> bool:
        return bool(m["held"]) and m["lift_height"] >= LIFT_SUCCESS and \
            not m["wrong_object"] and not m["fell"]

    def _failure(self, state: WorldState, m: dict[str, float]) -> bool:
        target = self.episode.target
        knocked = upright(state.object_quat[target]) < 0.4 and not m["held"]
        off = m["lift_height"] < -0.05
        return bool(m["fell"] or m["wrong_object"]) or knocked or off

    def _reward(self, m: dict[str, float], success: bool) -> float:
        if success:
            return 1.0
        if self.reward_type == "sparse" or m["wrong_object"] or m["fell"]:
            return 0.0
        progress = min(max(m["lift_height"] / LIFT_SUCCESS, 0.0), 1.0) * m["held"]
        return 0.4 * (1.0 - math.tanh(5.0 * m["grip_to_target"])) + 0.2 * m["held"] \
            + 0.35 * progress

    def evaluate(self, state: WorldState) -> tuple[bool, bool, float, dict[str, float]]:
        if self.episode is None or "left_grip_x" not in state.extras:
            return False, False, 0.0, {}
        m = self._measure(state)
        success = self._success(m)
        return success, bool(self._failure(state, m)), float(self._reward(m, success)), m

    def success(self, state: WorldState) -> bool:
        return self.evaluate(state)[0]

    def failure(self, state: WorldState) -> bool:
        return self.evaluate(state)[1]

    def reward(self, state: WorldState, success: bool) -> float:
        return self.evaluate(state)[2]

    def metrics(self, state: WorldState) -> dict[str, float]:
        return self.evaluate(state)[3]

    def safety(self, state: WorldState) -> dict[str, bool]:
        """`fell` (the episode's failure), `joint_limit`, and `arena_contact` for anything
        the robot touches but the floor under its feet and the objects (the table counts)."""
        return {"fell": self.fallen(state), "joint_limit": state.near_joint_limit,
                "arena_contact": bool(state.robot_contacts - {"floor"})}

    def object_observation(self, state: WorldState) -> dict[str, np.ndarray]:
        ep = self.episode
        if ep is None or "left_grip_x" not in state.extras:
            return {"target_pos": np.zeros(3), "target_quat": np.array([1.0, 0, 0, 0]),
                    "target_to_grip": np.zeros(3), "grips": np.zeros(6)}
        pos = state.object_pos[ep.target]
        grips = self.grips(state)
        near = min(grips, key=lambda g: float(np.linalg.norm(g - pos)))
        return {"target_pos": pos, "target_quat": state.object_quat[ep.target],
                "target_to_grip": near - pos, "grips": np.concatenate(grips)}

    def make_expert(self) -> TabletopPickExpert:
        return TabletopPickExpert(self)


__all__ = ["INSTRUCTIONS", "LIFT_SUCCESS", "POOL", "TabletopPick", "pick_layout"]
