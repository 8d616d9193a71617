"""MobilePickCup: a mobile manipulator drives to the table holding the cup the instruction
names ("pick up the red cup on the dining table") and lifts it, in NavigateTo's two-room flat
(`indoor.py`), among cups of other colours on both tables. Where each cup may stand and where
the robot stands to reach it come from `mobile_pick_cup_stand.py`; the expert is
`mobile_pick_cup_expert.py` (the floor planner and pursuit, then the tabletop `GraspSkill`).
"""

from __future__ import annotations

import math

import numpy as np

from librobot_gym.envs.tasks.base import WorldState
from librobot_gym.envs.tasks.indoor import OBJECT_COLOURS, TABLE_HEIGHT, Layout, indoor_scene
from librobot_gym.envs.tasks.language import Instructions
from librobot_gym.envs.tasks.mobile_pick_cup_expert import MobilePickCupExpert
from librobot_gym.envs.tasks.mobile_pick_cup_stand import (
    Floor,
    approach_reward,
    aside,
    edge_frame,
    stand_for,
)
from librobot_gym.envs.tasks.mobile_task import TABLE_WORDS, TABLES, Item, MobileTask
from librobot_gym.envs.tasks.objects import KINDS, make_object
from librobot_gym.envs.tasks.placement import upright
from librobot_gym.envs.tasks.registry import register_task

CUPS = ("cup_0", "cup_1", "cup_2", "cup_3")
CUP_SCALE = 1.0  # the tabletop set's cup: 6.4 cm across, 10 cm high (a 10 cm gripper holds it)
DEPTH = (0.08, 0.17)  # m from the table edge the robot works from to the cup's centre
EDGE_MARGIN = 0.1  # m: a cup's centre at least this far from the table's other edges
# Where the base stands beside the cup (`sidestep`, m to its right: Fetch's arm, unfolded to
# the left, then reaches it with its shoulder pan off the joint's limit) and on which side the
# elbow needs room come from the robot's mobile layout (`mobile_pick_cup_stand.mobile_layout`).
GAP = 0.06  # m between cups (rim to rim) and from a landmark's footprint
LIFT_SUCCESS = 0.10  # m above its rest height
WRONG_LIFT = LIFT_SUCCESS / 2
TWIN = 0.5  # the chance a cup of the target's colour stands on the other table
INSTRUCTIONS = Instructions(
    train=("pick up the {target}", "lift the {target}", "grab the {target} and raise it",
           "go and pick up the {target}", "fetch the {target} and lift it",
           "get the {target} and hold it up"),
    heldout=("could you pick up the {target}?", "the {target}: lift it off the table",
             "find the {target} and raise it", "bring the {target} up into the air"),
)


def cup_rest_z(table: str) -> float:
    return TABLE_HEIGHT[table] + KINDS["cup"].rest_z * CUP_SCALE


@register_task("mobile_pick_cup")
class MobilePickCup(MobileTask):
    """
    ## Description
    A mobile manipulator (Fetch, TIAGo) drives to the table holding the cup the instruction names
    and lifts it: "pick up the red cup on the dining table". NavigateTo's two-room flat
    (walls, a partition with two doors, a dining table by the window 0.75 m high, a coffee
    table 0.42 m high, a bookshelf, a sofa, two chairs, a mug, a bowl and a bin), drawn anew
    from the seed, with four cups (6.4 cm across, 10 cm high) in six colours on the two
    tables. The instruction names the cup by colour and table; another cup on the same
    table has another colour, and half the time a cup of the same colour stands on the
    other table, so both words count. Lifting another cup is a failure (`wrong_object`).
    Cameras: `head` (on the pan/tilt head, tilted to the floor ahead and the table tops) and
    `overhead`.

    ## Action Space
    `base_twist+ee_delta_pose` (`Box(-1, 1, (10,))`): forward speed (m/s, +-1) and yaw rate
    (rad/s, +-1.5), slewed at 1 m/s^2 and 2 rad/s^2; the gripper's translation (m, +-0.03 a
    step) and rotation (rad, +-0.15) in the base's frame; the torso's speed (m/s, +-0.1);
    the gripper opening (-1 closed, +1 open). Units in `env.unwrapped.action_spec`.

    ## Observation Space
    The robot's proprioception (arm joints, gripper, tool pose, torso and head, base pose and
    twist, wheel speeds, 24 laser ranges). State modes add `target_pos` (3, the named cup,
    world), `target_quat` (4), `target_to_tcp` (3), `target_vector` (2, the cup in the
    base's frame) and `geodesic_distance` (1, m still to drive to the stand, around walls):
    privileged, they name the target.

    ## Rewards
    `dense`: 0.4 approach + 0.2 while held + 0.35 lift progress (while held), minus 0.05 a
    step in contact with a wall, door or furniture; 1 on success, 0 on the step another cup
    is held or lifted. approach = 0.6 max(0, 1 - d / 16 m) + 0.4 (1 - tanh(5 d / 1 m)), d
    the metres still to go: the base's to its stand facing the cup (around walls) plus the
    tool's to the cup, so it pays from the first step.
    `sparse`: 1 on success.

    ## Success Criteria
    The named cup held between the fingers at least 0.10 m above its rest height, no other
    cup held or lifted. `terminated` on success or failure (another cup held or lifted 5 cm,
    the named cup off its table or knocked over and not held); `truncated` after 500 steps
    (50 s at 10 Hz).

    ## Metrics
    `path_length` (m driven), `collisions` (contacts begun with walls, doors or furniture),
    `in_collision`, `distance_to_stand` (m to drive, around walls), `tcp_to_target` (m),
    `lift_height` (m), `grasped` (0/1), `wrong_object` (0/1), `distractors_moved` (m, the
    furthest another cup moved).

    ## Starting State
    The base at rest anywhere with room to turn, at least 1 m (around walls) from where it
    works, facing any way; arm tucked, torso down, gripper open. Each cup stands 8-17 cm in
    from a table edge the base can stand at (0.37 m out from it for Fetch, 0.55 m for TIAGo:
    the robot's `task_layouts["mobile"]`), apart from the other cups and the landmarks.

    ## Arguments
    `reward_type` ("dense", "sparse"); `instruction_set` ("train": six phrasings;
    "heldout": four paraphrases no default episode uses); and the common env arguments.

    ## Version History
    - v0: first release.
    """

    name = "mobile_pick_cup"
    summary = "drive to the table holding the named cup and lift it, in a two-room flat"
    instructions = INSTRUCTIONS
    item_names = CUPS
    cup_scale = CUP_SCALE  # the expert's numbers
    lift_success = LIFT_SUCCESS

    def scene(self) -> list:
        return indoor_scene() + [make_object("cup", name, CUP_SCALE, "white") for name in CUPS]

    # --- an episode ----------------------------------------------------------------------------
    def _place(self, rng, layout: Layout, ground: Floor, tries: int = 60
               ) -> dict[str, Item] | None:
        """Each cup on a table, DEPTH in from an edge whose stand the base fits, apart from
        the other cups and the landmarks; None when some cup finds no place."""
        radius = KINDS["cup"].footprint * CUP_SCALE
        taken = [(np.asarray(layout.footprints[k].centre), layout.footprints[k].radius)
                 for k in ("mug", "bowl")]
        cups: dict[str, Item] = {}
        for name in CUPS:
            for _ in range(tries):
                table = TABLES[int(rng.integers(len(TABLES)))]
                fp = layout.footprints[table]
                side = int(rng.integers(4))
                normal, _, depth, half = edge_frame(fp, side)
                offset = float(rng.uniform(-half + EDGE_MARGIN, half - EDGE_MARGIN))
                inset = float(rng.uniform(*DEPTH))
                if inset > 2 * depth - EDGE_MARGIN:
                    continue
                edge = stand_for(fp, side, offset, self.layout["standoff"])
                xy = np.asarray(edge.aim) - inset * normal
                stand = aside(edge, self.layout["sidestep"], (float(xy[0]), float(xy[1])))
                if not ground.works(stand, self.layout["elbow_side"]) or any(
                        math.dist(xy, c) < radius + r + GAP for c, r in taken):
                    continue
                pos = np.array([*xy, cup_rest_z(table)])
                cups[name] = Item(table, "", pos, float(rng.uniform(-math.pi, math.pi)), stand)
                taken.append((xy, radius))
                break
            else:
                return None
        return cups

    def _before_route(self, rng, cups: dict[str, Item], target: str) -> None:
        """Colours that make "<colour> cup on <table>" pick out the target alone: the
        target's table holds no other cup of its colour; half the time a cup on the other
        table shares it (so the table matters too)."""
        me = cups[target]
        me.colour = OBJECT_COLOURS[int(rng.integers(len(OBJECT_COLOURS)))]
        others = [OBJECT_COLOURS.index(c) for c in OBJECT_COLOURS if c != me.colour]
        elsewhere = [n for n, c in cups.items() if n != target and c.table != me.table]
        twin = elsewhere[int(rng.integers(len(elsewhere)))] \
            if elsewhere and rng.random() < TWIN else None
        for name, cup in cups.items():
            if name != target:
                cup.colour = me.colour if name == twin else \
                    OBJECT_COLOURS[others[int(rng.integers(len(others)))]]

    def _describe(self, rng, cups: dict[str, Item], target: str) -> str:
        me = cups[target]
        words = TABLE_WORDS[me.table]
        return f"{me.colour} cup on {words[int(rng.integers(len(words)))]}"

    # --- judging the world -----------------------------------------------------------------------
    def _measure(self, state: WorldState) -> dict[str, float]:
        ep = self.episode
        target = ep.target
        pos = state.object_pos[target]
        lift = float(pos[2] - ep.items[target].pos[2])
        wrong = [n for n in ep.items if n != target and n in state.object_pos and (
            state.grasped[n] or state.object_pos[n][2] - ep.items[n].pos[2] > WRONG_LIFT)]
        moved = [float(np.linalg.norm(state.object_pos[n] - c.pos))
                 for n, c in ep.items.items() if n != target and n in state.object_pos]
        return {**self.driving_metrics(state),
                "tcp_to_target": float(np.linalg.norm(state.ee_pos - pos)),
                "lift_height": lift, "grasped": float(state.grasped[target]),
                "wrong_object": float(bool(wrong)), "distractors_moved": max(moved, default=0.0)}

    def _success(self, m: dict[str, float]) -> bool:
        return bool(m["grasped"]) and m["lift_height"] >= LIFT_SUCCESS and not m["wrong_object"]

    def _failure(self, state: WorldState, m: dict[str, float]) -> bool:
        target = self.episode.target
        knocked = upright(state.object_quat[target]) < 0.4 and not m["grasped"]
        fallen = m["lift_height"] < -0.1
        return bool(m["wrong_object"]) or knocked or fallen

    def _reward(self, state: WorldState, m: dict[str, float], success: bool) -> float:
        if success:
            return 1.0
        if self.reward_type == "sparse" or m["wrong_object"]:
            return 0.0
        held = m["grasped"]
        progress = min(max(m["lift_height"] / LIFT_SUCCESS, 0.0), 1.0) * held
        to_go = m["distance_to_stand"] + m["tcp_to_target"]
        return 0.4 * approach_reward(to_go) + 0.2 * held + 0.35 * progress - \
            self.collision_penalty(m)

    # --- what the state observation gets ---------------------------------------------------------
    def ready(self, state: WorldState) -> bool:
        return super().ready(state) and self.episode.target in state.object_pos

    def target_point(self, state: WorldState) -> tuple[np.ndarray, np.ndarray]:
        target = self.episode.target
        return state.object_pos[target], state.object_quat[target]

    def make_expert(self) -> MobilePickCupExpert:
        return MobilePickCupExpert(self)


__all__ = ["CUPS", "INSTRUCTIONS", "LIFT_SUCCESS", "MobilePickCup"]
