"""PickCup-v1: lift the cup or mug the instruction names, among distractors, in the lab cell.

The multi-object successor of PickCup-v0 (which stays as it was): 2-5 objects per episode, and
the instruction is the only way to know which one to lift. Built on `TabletopTask`.
"""

from __future__ import annotations

import math

import numpy as np

from librobot_gym.envs.tasks.base import EeCommand, WorldState, reach_reward
from librobot_gym.envs.tasks.grasping import GraspSkill
from librobot_gym.envs.tasks.language import (
    Instructions,
    Reference,
    relational_reference,
    shortest_reference,
)
from librobot_gym.envs.tasks.objects import COLOURS
from librobot_gym.envs.tasks.placement import upright
from librobot_gym.envs.tasks.registry import register_task
from librobot_gym.envs.tasks.tabletop import TabletopTask

POOL = (
    ("cup_a", "cup"), ("cup_b", "cup"), ("mug_a", "mug"), ("mug_b", "mug"),
    ("bowl", "bowl"), ("plate", "plate"), ("block_a", "block"), ("block_b", "block"),
)
TARGET_KINDS = ("cup", "mug")
# How the target is told apart: by colour (a same-kind distractor in another colour), by kind
# (a cup and a mug of one colour), or by relation (two of a kind in one colour, a landmark
# between them: "the mug left of the bowl").
MODES = ("colour", "kind", "relation")

INSTRUCTIONS = Instructions(
    train=(
        "pick up the {target}",
        "lift the {target}",
        "grab the {target} and raise it",
        "pick the {target} up off the table",
        "raise the {target}",
        "take the {target} and lift it up",
    ),
    heldout=(
        "could you lift the {target}",
        "get the {target} off the table",
        "hold the {target} up in the air",
        "the {target}: pick it up",
    ),
)

__all__ = ["INSTRUCTIONS", "MODES", "POOL", "PickCupV1", "PickCupV1Expert"]


@register_task("pick_cup_v1")
class PickCupV1(TabletopTask):
    """
    ## Description
    `librobot/Franka-PickCup-v1`, `librobot/SO100-PickCup-v1`: in a lab cell (floor, walls,
    a wooden table, three lights), the arm lifts the cup or mug the instruction names and holds
    it above the table. 2-5 objects stand on the table (cups, mugs with handles, bowls, plates,
    blocks, in eight colours), and the instruction alone tells which to lift: by colour ("the
    red mug", another mug is green), by kind ("the cup", a mug of the same colour stands by),
    or by relation ("the cup left of the bowl", two cups of one colour; left and right as the
    front camera sees the table). Lifting or holding any other object is a failure
    (`wrong_object`). PickCup-v0 (one cup, no room) is unchanged.
    `librobot/UR5e-PickCup-v1` is the same task on the UR5e, at the Franka's numbers: every
    figure below given for the Franka holds for it.

    ## Action Space
    `control_mode="ee_delta_pose"` (default), `Box(-1, 1, (7,))`: tool translation (dx, dy,
    dz), rotation (droll, dpitch, dyaw) and the gripper (-1 closed, +1 open), scaled to the
    arm's step limits (Franka: 0.03 m, 0.2 rad per step; SO-100: 0.015 m, 0.15 rad).
    `control_mode="joint_pos"`: absolute joint targets scaled to the joint limits, then the
    gripper.

    ## Observation Space
    `rgb` (default): `front` and `wrist` camera images framed for the table (the tabletop
    camera set: the objects' patch fills the front image; the wrist view shows the fingers and
    what is between them), proprioception (joint_pos, joint_vel, gripper_opening, ee_pos,
    ee_quat) and the instruction. `state` adds target_pos (3), target_quat (4),
    target_to_tcp (3): privileged, it names the target, so state-mode agents need no language.

    ## Rewards
    Dense (default): 0.25 reach + 0.25 held + 0.45 lift progress (while held), 1.0 on success,
    as PickCup-v0's, on the target; reach = 0.5 (1 - tanh(d / s)) + 0.5 (1 - tanh(5 d / s)),
    d the tool-to-target distance and s the distance from the base to the middle of the reach
    patch. The step that acts on a wrong object earns 0. Sparse: 1.0 on success, else 0.

    ## Metrics (`info["task_metrics"]`)
    lift_height (m, the target above its rest height), tcp_to_target (m), grasped (0/1),
    wrong_object (0/1: another object was held or lifted half the success height),
    distractors_moved (m, the furthest any other object moved from where it stood). Safety:
    arena_contact (a robot link other than the pads touches the table or floor), joint_limit.

    ## Success and Episode End
    Success: the target held between the pads at least the lift height above its rest
    (Franka 0.10 m, SO-100 0.05 m), and no wrong object. `terminated` on success or failure:
    a wrong object acted on, the target off the table, or the target knocked over and not
    held. `truncated` after 200 steps (10 s at 20 Hz).

    ## Starting State
    The arm's home pose with +-0.02 rad joint noise, gripper open. 2-5 objects from a pool of
    two cups, two mugs, a bowl, a plate and two blocks, in random colours and yaws, at least a
    finger's width apart; the target within the arm's reach (Franka: x 0.38-0.58 m, y +-0.2
    m; SO-100: x 0.12-0.22 m, y +-0.1 m), the others anywhere on a wider patch. The way the
    target is named (colour, kind or relation) is drawn uniformly.

    ## Arguments
    `reward_type` ("dense", "sparse"); `instruction_set` ("train", default: six phrasings;
    "heldout": four paraphrases no default episode uses, for generalisation variants); and the
    common env arguments.

    ## Version History
    - v1: first release (the multi-object successor of PickCup-v0).
    """

    name = "pick_cup_v1"
    summary = "lift the cup or mug the instruction names (colour, kind or place) among others"
    pool = POOL
    instructions = INSTRUCTIONS

    def __init__(self, robot, reward_type: str = "dense", instruction_set: str = "train"):
        super().__init__(robot, reward_type, instruction_set)
        self.target = "cup_a"
        self.mode = "colour"
        self.reference: Reference | None = None

    # --- an episode ------------------------------------------------------------------------
    def draw(self, rng: np.random.Generator) -> str | None:
        mode = MODES[int(rng.integers(len(MODES)))]
        count = int(rng.integers(2, 6))
        kind = TARGET_KINDS[int(rng.integers(2))]
        other = "mug" if kind == "cup" else "cup"
        names = list(COLOURS)
        colour = names[int(rng.integers(len(names)))]
        target, twin = f"{kind}_a", f"{kind}_b"
        chosen = {target: colour}
        if mode == "colour":
            chosen[twin] = names[(names.index(colour) + int(rng.integers(1, len(names))))
                                 % len(names)]
        elif mode == "kind":
            chosen[f"{other}_a"] = colour
        else:
            chosen[twin] = colour
            count = max(count, 3)
        spare = [n for n, k in self.pool if n not in chosen and (mode != "relation" or k != kind)]
        for i in rng.permutation(len(spare))[: max(0, count - len(chosen))]:
            chosen[spare[i]] = names[int(rng.integers(len(names)))]
        if self.arrange(rng, chosen, reach={target}) is None:
            return None
        things = self.things()
        me = next(t for t in things if t.name == target)
        if mode == "relation":
            reference = relational_reference(me, things, self.layout.clearance)
        else:
            reference = shortest_reference(me, things)
            if reference is not None and reference.colour is None and rng.random() < 0.5:
                reference = Reference(reference.kind, colour)  # colour said, but redundant
        if reference is None or not reference.picks_out(target, things):
            return None
        self.target, self.mode, self.reference = target, mode, reference
        return self.instructions.say(rng, self.instruction_set, target=reference.text())

    # --- judging the world -----------------------------------------------------------------
    def _measure(self, state: WorldState) -> tuple[float, float, bool, list[str]]:
        pos = state.object_pos[self.target]
        return (self.lift(state, self.target), math.dist(state.ee_pos.tolist(), pos.tolist()),
                bool(state.grasped[self.target]), self.wrong_objects(state, {self.target}))

    def evaluate(self, state: WorldState) -> tuple[bool, bool, float, dict[str, float]]:
        lift, distance, held, wrong = self._measure(state)
        success = held and lift >= self.layout.lift_success and not wrong
        others = [self.moved(state, n) for n in self.active
                  if n != self.target and n in state.object_pos]
        metrics = {"lift_height": lift, "tcp_to_target": distance, "grasped": float(held),
                   "wrong_object": float(bool(wrong)),
                   "distractors_moved": max(others, default=0.0)}
        reward = self._reward(lift, distance, held, wrong, success)
        return success, self._failure(state, held, wrong), reward, metrics

    def success(self, state: WorldState) -> bool:
        return self.evaluate(state)[0]

    def failure(self, state: WorldState) -> bool:
        _, _, held, wrong = self._measure(state)
        return self._failure(state, held, wrong)

    def _failure(self, state: WorldState, held: bool, wrong: list[str]) -> bool:
        knocked = upright(state.object_quat[self.target]) < 0.4 and not held
        return bool(wrong) or knocked or self.off_table(state, self.target)

    def reward(self, state: WorldState, success: bool) -> float:
        lift, distance, held, wrong = self._measure(state)
        return self._reward(lift, distance, held, wrong, success)

    def _reward(self, lift: float, distance: float, held: bool, wrong: list[str],
                success: bool) -> float:
        if success:
            return 1.0
        if self.reward_type == "sparse" or wrong:
            return 0.0
        reach = reach_reward(distance, self.reach_scale)
        progress = min(max(lift / self.layout.lift_success, 0.0), 1.0) if held else 0.0
        return 0.25 * reach + 0.25 * float(held) + 0.45 * progress

    def metrics(self, state: WorldState) -> dict[str, float]:
        return self.evaluate(state)[3]

    def object_observation(self, state: WorldState) -> dict[str, np.ndarray]:
        """The target's pose; zeros where the world reports no target (a robot cell before
        its first reset)."""
        pos = state.object_pos.get(self.target, np.zeros(3))
        quat = state.object_quat.get(self.target, np.array([1.0, 0.0, 0.0, 0.0]))
        return {"target_pos": pos, "target_quat": quat, "target_to_tcp": state.ee_pos - pos}

    def make_expert(self) -> PickCupV1Expert:
        return PickCupV1Expert(self)


class PickCupV1Expert:
    """Grasps the episode's target from above (`GraspSkill`), knowing which it is from
    privileged state: the upper reference for language-conditioned policies."""

    def __init__(self, task: PickCupV1):
        self.task = task
        self.skill: GraspSkill | None = None

    def reset(self) -> None:
        self.skill = None

    def act(self, state: WorldState) -> EeCommand:
        task = self.task
        if self.skill is None or self.skill.name != task.target:
            self.skill = GraspSkill(task.layout, task.target, task.kinds[task.target],
                                    task.rest_z(task.target))
        return self.skill.act(state)
