"""PlaceInContainer-v0: put the block or cup the instruction names in the bowl or bin, or on the
plate, it names, among other things to pick and other places to put them, in the lab cell.

Both halves of the instruction matter: another block or cup shares the target's kind or colour,
another container shares the destination's kind or stands beside it in another kind. Built on
`TabletopTask`; the expert is `PickPlaceExpert` (`skills_place.py`), the judgement `resting.py`.
"""

from __future__ import annotations

import math

import numpy as np

from librobot_gym.envs.tasks.base import WorldState, reach_reward
from librobot_gym.envs.tasks.language import (
    Instructions,
    Reference,
    Thing,
    relational_reference,
    shortest_reference,
)
from librobot_gym.envs.tasks.objects import COLOURS, KINDS
from librobot_gym.envs.tasks.placement import quat_yaw, upright
from librobot_gym.envs.tasks.registry import register_task
from librobot_gym.envs.tasks.resting import RECEPTACLES, Steady, clear_of, local_offset
from librobot_gym.envs.tasks.skills_place import PickPlaceExpert, PlaceGoal, tallest
from librobot_gym.envs.tasks.tabletop import TabletopTask

POOL = (
    ("block_a", "block"), ("block_b", "block"), ("cup_a", "cup"), ("cup_b", "cup"),
    ("mug", "mug"),
    ("bowl_a", "bowl"), ("bowl_b", "bowl"), ("plate_a", "plate"), ("plate_b", "plate"),
    ("bin", "bin"),
)
ITEM_KINDS = ("block", "cup")
CONTAINER_KINDS = ("bowl", "plate", "bin")
# How the thing to move is told apart (as PickCup-v1: by colour, by kind, by relation to a
# landmark), and the container (by colour: two of its kind; by kind: another kind stands by).
MODES = ("colour", "kind", "relation")
CONTAINER_MODES = ("colour", "kind")
STEADY_TIME = 0.25  # s the object must rest in place, released, before it counts
KNOCKABLE = ("cup", "mug", "bowl", "plate", "bin")  # kinds that can be knocked over

INSTRUCTIONS = Instructions(
    train=(
        "put the {target} {prep} the {place}",
        "place the {target} {prep} the {place}",
        "pick up the {target} and put it {prep} the {place}",
        "move the {target} {onto} the {place}",
        "set the {target} down {prep} the {place}",
        "take the {target} and drop it {prep} the {place}",
    ),
    heldout=(
        "could you put the {target} {prep} the {place}",
        "the {target} goes {prep} the {place}",
        "transfer the {target} {onto} the {place}",
        "i want the {target} {prep} the {place}",
    ),
)

__all__ = ["CONTAINER_MODES", "INSTRUCTIONS", "MODES", "POOL", "PlaceInContainer"]


@register_task("place_in_container")
class PlaceInContainer(TabletopTask):
    """
    ## Description
    `librobot/Franka-PlaceInContainer-v0`, `librobot/SO100-PlaceInContainer-v0`: in the lab
    cell, the arm picks up the block or cup the instruction names and puts it in the bowl or
    the bin, or on the plate, the instruction names ("put the red block in the blue bowl",
    "move the cup left of the plate into the bin"). 4-5 objects stand on the table: at least
    two things to move and two places to put them, so both halves of the sentence must be
    read. The thing is named by colour (another of its kind in another colour), by kind (a
    cup, mug or block of the same colour stands by) or by relation ("the block left of the
    bowl": two blocks of one colour); the container by colour (two bowls or plates) or by kind
    (a bowl, a plate and the bin). Moving another object, or putting the thing in the wrong
    container, is a failure (`wrong_object`).
    `librobot/UR5e-PlaceInContainer-v0` is the same task on the UR5e, at the Franka's numbers: every
    figure below given for the Franka holds for it.

    ## Action Space
    `control_mode="ee_delta_pose"` (default), `Box(-1, 1, (7,))`: tool translation (dx, dy,
    dz), rotation (droll, dpitch, dyaw) and the gripper (-1 closed, +1 open), scaled to the
    arm's step limits (Franka: 0.03 m, 0.2 rad per step; SO-100: 0.015 m, 0.15 rad).
    `control_mode="joint_pos"`: absolute joint targets scaled to the joint limits, then the
    gripper.

    ## Observation Space
    `rgb` (default): `front` and `wrist` camera images framed for the table, proprioception
    (joint_pos, joint_vel, gripper_opening, ee_pos, ee_quat) and the instruction. `state` adds
    target_pos (3), target_quat (4), target_to_tcp (3), place_pos (3: the named container),
    target_to_place (3): privileged, it names both objects, so state-mode agents need no
    language.

    ## Rewards
    Dense (default), staged: 0.2 reach (tool to the thing; 1 once it is in place) + 0.15
    while it is held or in place + 0.35 carry progress (while held or in place: the thing's
    distance to the container's floor centre, on the reach curve) + 0.2 once it rests in
    place with the gripper clear; 1.0 on success. reach(d) = 0.5 (1 - tanh(d / s)) + 0.5
    (1 - tanh(5 d / s)), s the distance from the base to the middle of the reach patch. The
    step that acts on a wrong object earns 0. Sparse: 1.0 on success, else 0.

    ## Metrics (`info["task_metrics"]`)
    lift_height (m, the thing's bottom above the table), tcp_to_target (m), grasped (0/1),
    to_container (m, the thing's centre from the container's, across the table),
    in_container (0/1: it rests inside or on it), released (0/1: let go, the tool clear
    above or beside it), wrong_object (0/1: another object held or lifted, or the thing put
    in another container), wrong_container (0/1: the latter), distractors_moved (m, the
    furthest any object but these two moved). Safety: arena_contact, joint_limit.

    ## Success and Episode End
    Success: the thing rests in (bowl, bin: its centre over the floor, its bottom below the
    rim) or on (plate) the named container, released, the tool clear of it (half the hover
    height above its top: Franka 0.035 m, SO-100 0.02 m, or as far beyond it sideways), for
    0.25 s, and no wrong object. `terminated` on success or failure: a wrong object, the thing
    off the table, the thing (a cup) or the container knocked over. `truncated` after 300
    steps (15 s at 20 Hz).

    ## Starting State
    The arm's home pose with +-0.02 rad joint noise, gripper open. 4-5 objects from a pool of
    two blocks, two cups, a mug, two bowls, two plates and a bin, in random colours and yaws,
    at least a finger's width apart; the thing and its container within the arm's reach
    (Franka: x 0.38-0.58 m, y +-0.2 m; SO-100: x 0.12-0.22 m, y +-0.1 m), the others on a
    wider patch. How each is named is drawn uniformly.

    ## Arguments
    `reward_type` ("dense", "sparse"); `instruction_set` ("train", default: six phrasings;
    "heldout": four paraphrases no default episode uses); and the common env arguments.

    ## Version History
    - v0: first release.
    """

    name = "place_in_container"
    summary = "put the block or cup the instruction names in or on the container it names"
    pool = POOL
    instructions = INSTRUCTIONS
    max_episode_steps = 300

    def __init__(self, robot, reward_type: str = "dense", instruction_set: str = "train"):
        super().__init__(robot, reward_type, instruction_set)
        self.target, self.container = "block_a", "bowl_a"
        self.mode, self.container_mode = "colour", "colour"
        self.reference: Reference | None = None
        self.container_reference: Reference | None = None
        self.steady = Steady()

    # --- an episode ------------------------------------------------------------------------
    def reset(self, rng: np.random.Generator):
        self.steady.reset()
        return super().reset(rng)

    def draw(self, rng: np.random.Generator) -> str | None:
        names = list(COLOURS)

        def any_colour() -> str:
            return names[int(rng.integers(len(names)))]

        def other_than(colour: str) -> str:
            return names[(names.index(colour) + int(rng.integers(1, len(names)))) % len(names)]

        mode = MODES[int(rng.integers(len(MODES)))]
        kind = ITEM_KINDS[int(rng.integers(len(ITEM_KINDS)))]
        item, twin, colour = f"{kind}_a", f"{kind}_b", any_colour()
        chosen = {item: colour}
        if mode == "colour":
            chosen[twin] = other_than(colour)
        elif mode == "kind":
            others = [n for n in ("block_a", "cup_a", "mug") if self.kinds[n] != kind]
            chosen[others[int(rng.integers(len(others)))]] = colour
        else:
            chosen[twin] = colour
        container_kind = CONTAINER_KINDS[int(rng.integers(len(CONTAINER_KINDS)))]
        container_mode = CONTAINER_MODES[int(rng.integers(len(CONTAINER_MODES)))]
        if container_kind == "bin":
            container_mode = "kind"  # one bin in the pool: another kind stands by
        container = "bin" if container_kind == "bin" else f"{container_kind}_a"
        box_colour = any_colour()
        chosen[container] = box_colour
        if container_mode == "colour":
            chosen[f"{container_kind}_b"] = other_than(box_colour)
        else:
            others = [n for n in ("bowl_a", "plate_a", "bin") if self.kinds[n] != container_kind]
            chosen[others[int(rng.integers(len(others)))]] = \
                box_colour if rng.random() < 0.5 else any_colour()
        spare = [n for n, k in self.pool if n not in chosen and (mode != "relation" or k != kind)]
        for i in rng.permutation(len(spare))[: int(rng.integers(0, 2))]:
            chosen[spare[i]] = any_colour()
        if self.arrange(rng, chosen, reach={item, container}) is None:
            return None
        things = self.things()
        reference = self._item_reference(rng, item, container, mode, colour, things)
        place = shortest_reference(next(t for t in things if t.name == container), things)
        if place is not None and place.colour is None and rng.random() < 0.5:
            place = Reference(place.kind, box_colour)  # colour said, but redundant
        if reference is None or place is None or not place.picks_out(container, things):
            return None
        self.target, self.container = item, container
        self.mode, self.container_mode = mode, container_mode
        self.reference, self.container_reference = reference, place
        receptacle = RECEPTACLES[container_kind]
        return self.instructions.say(rng, self.instruction_set, target=reference.text(),
                                     place=place.text(), prep=receptacle.preposition,
                                     onto=receptacle.onto)

    def _item_reference(self, rng: np.random.Generator, item: str, container: str, mode: str,
                        colour: str, things: list[Thing]) -> Reference | None:
        """How the instruction names the thing to move: by relation (a landmark other than
        the destination where one serves, so the sentence names two different objects), else
        its kind, with its colour where needed (and half the time where not)."""
        me = next(t for t in things if t.name == item)
        if mode == "relation":
            for pool in ([t for t in things if t.name != container], things):
                reference = relational_reference(me, pool, self.layout.clearance)
                if reference is not None and reference.picks_out(item, things):
                    return reference
            return None
        reference = shortest_reference(me, things)
        if reference is not None and reference.colour is None and rng.random() < 0.5:
            reference = Reference(reference.kind, colour)
        if reference is None or not reference.picks_out(item, things):
            return None
        return reference

    # --- judging the world -----------------------------------------------------------------
    def rests_in(self, state: WorldState, item: str, container: str) -> bool:
        """Whether `item` rests in (or on) `container`: over its floor, below its rim."""
        receptacle = RECEPTACLES[self.kinds[container]]
        return receptacle.level(self.lift(state, item), self.scale) and \
            receptacle.over_floor(local_offset(state, item, container), self.scale)

    def _clear(self, state: WorldState) -> bool:
        kind = KINDS[self.kinds[self.target]]
        return clear_of(state, self.target, (kind.height - kind.rest_z) * self.scale,
                        self.footprint(self.target), self.layout.hover_height / 2)

    def evaluate(self, state: WorldState) -> tuple[bool, bool, float, dict[str, float]]:
        item, box = self.target, self.container
        inside = self.rests_in(state, item, box)
        clear = self._clear(state)
        elsewhere = [c for c in self.active if c != box and self.kinds[c] in RECEPTACLES
                     and self.rests_in(state, item, c)] if clear else []
        wrong = self.wrong_objects(state, {item}) + elsewhere
        steady = self.steady.held(state.time, inside and clear and not wrong)
        success = steady >= STEADY_TIME - 1e-9
        held = bool(state.grasped[item])
        pos = state.object_pos[item]
        distance = math.dist(state.ee_pos.tolist(), pos.tolist())
        others = [math.dist(state.object_pos[n].tolist(), placed.pos.tolist())
                  for n, placed in self.active.items() if n not in (item, box)]
        metrics = {
            "lift_height": self.lift(state, item), "tcp_to_target": distance,
            "grasped": float(held),
            "to_container": float(np.hypot(*(pos[:2] - state.object_pos[box][:2]))),
            "in_container": float(inside), "released": float(clear),
            "wrong_object": float(bool(wrong)), "wrong_container": float(bool(elsewhere)),
            "distractors_moved": max(others, default=0.0),
        }
        reward = self._reward(state, distance, held, inside, clear, wrong, success)
        return success, self._failure(state, held, inside, wrong), reward, metrics

    def success(self, state: WorldState) -> bool:
        return self.evaluate(state)[0]

    def failure(self, state: WorldState) -> bool:
        return self.evaluate(state)[1]

    def reward(self, state: WorldState, success: bool) -> float:
        return self.evaluate(state)[2]

    def metrics(self, state: WorldState) -> dict[str, float]:
        return self.evaluate(state)[3]

    def _failure(self, state: WorldState, held: bool, inside: bool, wrong: list[str]) -> bool:
        item, box = self.target, self.container
        knocked = [n for n in (item, box) if self.kinds[n] in KNOCKABLE
                   and upright(state.object_quat[n]) < 0.4 and not state.grasped[n]]
        lying = knocked and not (knocked == [item] and inside)
        return bool(wrong) or bool(lying) or self.off_table(state, item)

    def _reward(self, state: WorldState, distance: float, held: bool, inside: bool,
                clear: bool, wrong: list[str], success: bool) -> float:
        if success:
            return 1.0
        if self.reward_type == "sparse" or wrong:
            return 0.0
        scale = self.reach_scale
        reach = 1.0 if inside else reach_reward(distance, scale)
        carrying = held or inside
        progress = reach_reward(math.dist(state.object_pos[self.target].tolist(),
                                          self._goal(state).tolist()), scale) if carrying else 0.0
        return 0.2 * reach + 0.15 * float(carrying) + 0.35 * progress + \
            0.2 * float(inside and clear)

    def _goal(self, state: WorldState) -> np.ndarray:
        """Where the thing's origin stands once placed: over the container's floor centre."""
        rise = RECEPTACLES[self.kinds[self.container]].floor + \
            KINDS[self.kinds[self.target]].rest_z
        return state.object_pos[self.container] + np.array([0.0, 0.0, rise * self.scale])

    def spot(self, state: WorldState) -> PlaceGoal:
        """Where the expert puts the thing: its bottom on the container's floor centre, any
        yaw, except in the bin, where the jaws close along its long side (room for them)."""
        box = self.container
        floor = RECEPTACLES[self.kinds[box]].floor * self.scale
        yaw = quat_yaw(state.object_quat[box]) + math.pi / 2 if self.kinds[box] == "bin" \
            else None
        point = state.object_pos[box] + np.array([0.0, 0.0, floor])
        return PlaceGoal(point, yaw, math.pi, "tool", tallest(self, state, self.target, point))

    def object_observation(self, state: WorldState) -> dict[str, np.ndarray]:
        """The thing's pose and the container's place; zeros where the world reports neither
        (a robot cell before its first reset)."""
        pos = state.object_pos.get(self.target, np.zeros(3))
        quat = state.object_quat.get(self.target, np.array([1.0, 0.0, 0.0, 0.0]))
        place = state.object_pos.get(self.container, np.zeros(3))
        return {"target_pos": pos, "target_quat": quat, "target_to_tcp": state.ee_pos - pos,
                "place_pos": place, "target_to_place": place - pos}

    def make_expert(self) -> PickPlaceExpert:
        return PickPlaceExpert(self, self.spot,
                               lambda state: self.rests_in(state, self.target, self.container))
