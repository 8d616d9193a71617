"""PushToTarget-v0: push the block the instruction names onto the coloured square it names,
among distractors, in the lab cell. Built on `TabletopTask`; the expert is `PushSkill`.

Marks are fixed, flat and collide with nothing (`objects.mark`): objects slide over them. The
episode is drawn so that a straight push works: the block and its square inside the arm's
reach, and no other object near the push's path.
"""

from __future__ import annotations

import math

import numpy as np

from librobot_gym.envs.tasks.base import EeCommand, TaskReset, WorldState, reach_reward
from librobot_gym.envs.tasks.lab_cell import TABLE_TOP
from librobot_gym.envs.tasks.language import (
    Instructions,
    Reference,
    relational_reference,
    shortest_reference,
)
from librobot_gym.envs.tasks.objects import COLOURS, KINDS
from librobot_gym.envs.tasks.registry import register_task
from librobot_gym.envs.tasks.skills_push import PushSkill, push_start, pusher_point
from librobot_gym.envs.tasks.tabletop import Placed, TabletopTask

# The order sets where unused objects wait (`TabletopTask.parking`): the plate and bowl, whose
# resting poses a PyBullet twin settles least exactly, wait behind the robot's column.
POOL = (
    ("block_a", "block"), ("plate", "plate"), ("bowl", "bowl"), ("block_b", "block"),
    ("block_c", "block"), ("mark_a", "mark"), ("mark_b", "mark"), ("mark_c", "mark"),
)
MARKS = ("mark_a", "mark_b", "mark_c")
# Distractors are low: the hand passes over them (a Franka's hand, 20 cm across, sweeps
# 6 cm above the table as it pushes; a cup or mug in its way would be knocked over).
LANDMARKS = ("bowl", "plate")
# How the block is told apart: by colour (another block in another colour), by kind (a bowl
# or plate of the block's colour), or by relation (two blocks of one colour, a landmark
# between).
MODES = ("colour", "kind", "relation")
SUCCESS_RADIUS = 0.035  # m at scale 1: the block's centre this near the square's centre
WRONG_PUSH = 0.03  # m at scale 1: another object moved this far was pushed: wrong_object
RESTING = 0.01  # m at scale 1: the block at most this far above the table counts as on it
MAX_PUSH = 0.25  # m at scale 1: the longest push an episode asks for
TRIES_PER_DRAW = 10  # scenes `draw` tries before it lets `reset` draw again
PLACE_TRIES = 50  # spots `_place_twin` tries

INSTRUCTIONS = Instructions(
    train=(
        "push the {target} onto the {place}",
        "slide the {target} onto the {place}",
        "push the {target} so that it sits on the {place}",
        "shove the {target} over to the {place}",
        "move the {target} onto the {place} by pushing it",
        "nudge the {target} onto the {place}",
    ),
    heldout=(
        "could you push the {target} to the {place}",
        "the {target} belongs on the {place}: push it there",
        "slide the {target} across to the {place}",
        "get the {target} onto the {place} without lifting it",
    ),
)

__all__ = ["INSTRUCTIONS", "MODES", "POOL", "PushToTarget", "PushToTargetExpert"]


@register_task("push_to_target")
class PushToTarget(TabletopTask):
    """
    ## Description
    `librobot/Franka-PushToTarget-v0`, `librobot/SO100-PushToTarget-v0`: in the lab cell, the
    arm pushes the block the instruction names across the table until it sits on the
    coloured square the instruction names ("push the red block onto the green square"). 2-4
    objects (blocks, a bowl, a plate, in eight colours) and 1-3 flat coloured squares (a
    white border, nothing collides with them) stand on the table; the instruction alone
    tells which block, by colour ("the red block", another block is blue), by kind ("the
    block", a bowl or plate of its colour stands by) or by relation ("the block left of the
    bowl", two blocks of one colour), and which square, by colour when there are several
    ("the green square"; with one, "the square" or "the marked spot"). Pushing with the
    gripper closed is the way; lifting is allowed, but the block must end on the table.
    Moving any other object is a failure (`wrong_object`).
    `librobot/UR5e-PushToTarget-v0` is the same task on the UR5e, at the Franka's numbers: every
    figure below given for the Franka holds for it.

    ## Action Space
    `control_mode="ee_delta_pose"` (default), `Box(-1, 1, (7,))`: tool translation (dx, dy,
    dz), rotation (droll, dpitch, dyaw) and the gripper (-1 closed, +1 open), scaled to the
    arm's step limits (Franka: 0.03 m, 0.2 rad per step; SO-100: 0.015 m, 0.15 rad).
    `control_mode="joint_pos"`: absolute joint targets scaled to the joint limits, then the
    gripper.

    ## Observation Space
    `rgb` (default): `front` and `wrist` camera images of the table, proprioception
    (joint_pos, joint_vel, gripper_opening, ee_pos, ee_quat) and the instruction. `state`
    adds target_pos (3), target_quat (4), goal_pos (3: the named square's centre),
    target_to_goal (3), target_to_tcp (3): privileged, it names block and square.

    ## Rewards
    Dense (default): 0.3 reach + 0.65 progress, 1.0 on success. reach = 0.5 (1 - tanh(d /
    s)) + 0.5 (1 - tanh(5 d / s)), d the distance from the pusher's bottom (the closed
    fingers' or jaws' tips) to where a push starts (behind the block, on the line from the
    square through it, just above the table), s the distance from the base to the middle of
    the reach patch; progress = 1 - (block-to-square distance) / (that distance at reset),
    clipped to [0, 1]. A step with a wrong object earns 0. Sparse: 1.0 on success, else 0.

    ## Metrics (`info["task_metrics"]`)
    target_to_goal (m, in the table's plane), tcp_to_target (m), pushed (m, how far the block
    moved from where it stood), wrong_object (0/1: another object moved more than 3 cm at
    the Franka's scale, 1.8 cm at the SO-100's, or was lifted; touching it is no fault),
    distractors_moved (m, the furthest any other object moved). Safety: arena_contact (a
    robot link other than the pads touches the table or floor), joint_limit.

    ## Success and Episode End
    Success: the block's centre within 3.5 cm of the square's centre (SO-100: 2.1 cm; the
    square is 9 cm across, 5.4 cm), the block on the table (at most 1 cm above it, 6 mm for
    the SO-100), and no wrong object.
    `terminated` on success or failure: a wrong object, or the block off the table.
    `truncated` after 200 steps (10 s at 20 Hz).

    ## Starting State
    The arm's home pose with +-0.02 rad joint noise, gripper open. The block, its square and
    where a push of it would start within the arm's reach (Franka: x 0.38-0.58 m, y +-0.2 m;
    SO-100: x 0.12-0.22 m, y +-0.1 m), at most 25 cm apart (SO-100: 15 cm); the other objects
    and squares anywhere on a wider patch but off the push's path; random colours and yaws.
    The way the block is named is drawn uniformly, and the number of squares (1-3).

    ## Arguments
    `reward_type` ("dense", "sparse"); `instruction_set` ("train", default: six phrasings;
    "heldout": four paraphrases no default episode uses); and the common env arguments.

    ## Version History
    - v0: first release.
    """

    name = "push_to_target"
    summary = "push the block the instruction names onto the coloured square it names"
    pool = POOL
    instructions = INSTRUCTIONS

    def __init__(self, robot, reward_type: str = "dense", instruction_set: str = "train"):
        super().__init__(robot, reward_type, instruction_set)
        self.target, self.goal = "block_a", "mark_a"
        self.mode = self._naming = "colour"
        self.reference: Reference | None = None
        self.place_reference: Reference | None = None
        self.start_distance = 1.0
        self.radius = SUCCESS_RADIUS * self.scale

    # --- an episode ------------------------------------------------------------------------
    def reset(self, rng: np.random.Generator) -> TaskReset:
        """The way the block is named is drawn once per episode, before the draws of the
        scene (some ways fit fewer scenes: drawn per scene, they would come up less often)."""
        self._naming = MODES[int(rng.integers(len(MODES)))]
        return super().reset(rng)

    def draw(self, rng: np.random.Generator) -> str | None:
        # Few scenes fit the block and its square in reach and the push's path clear (one
        # in five or so): several tries per draw keep `reset` from giving up.
        for _ in range(TRIES_PER_DRAW):
            instruction = self._draw_once(rng, self._naming)
            if instruction is not None:
                return instruction
        return None

    def _draw_once(self, rng: np.random.Generator, mode: str) -> str | None:
        names = list(COLOURS)
        count = int(rng.integers(2, 5))
        colour = names[int(rng.integers(len(names)))]
        chosen = {"block_a": colour}
        if mode == "colour":
            chosen["block_b"] = names[(names.index(colour) + int(rng.integers(1, len(names))))
                                      % len(names)]
        elif mode == "kind":
            chosen[LANDMARKS[int(rng.integers(2))]] = colour
        else:  # the twin (block_b, same colour) is placed after the rest: `_place_twin`
            chosen[LANDMARKS[int(rng.integers(2))]] = names[int(rng.integers(len(names)))]
        # A relation scene is hard enough to fit: two blocks and the landmark, no more.
        spare = [n for n in LANDMARKS if n not in chosen] if mode != "relation" else []
        if mode == "colour":
            spare.append("block_c")
        for i in rng.permutation(len(spare))[: max(0, count - len(chosen))]:
            chosen[spare[i]] = names[int(rng.integers(len(names)))]
        marks = int(rng.integers(1, 4))
        for name, i in zip(MARKS[:marks], rng.permutation(len(names)), strict=False):
            chosen[name] = names[i]
        if self.arrange(rng, chosen, reach={"block_a", "mark_a"}) is None \
                or (mode == "relation" and not self._place_twin(rng, colour, chosen)) \
                or not self._pushable():
            return None
        things = self.things()
        movable = [t for t in things if t.name not in MARKS]
        me = next(t for t in movable if t.name == "block_a")
        if mode == "relation":
            reference = relational_reference(me, movable, self.layout.clearance)
        else:
            reference = shortest_reference(me, movable)
            if reference is not None and reference.colour is None and rng.random() < 0.5:
                reference = Reference(reference.kind, colour)  # colour said, but redundant
        if reference is None or not reference.picks_out("block_a", movable):
            return None
        squares = [t for t in things if t.name in MARKS]
        place = Reference("square", chosen["mark_a"])
        if marks == 1:  # the square, the green square, or the marked spot (None)
            place = (Reference("square"), place, None)[int(rng.integers(3))]
        if place is not None and not place.picks_out("mark_a", squares):
            return None
        self.target, self.goal, self.mode = "block_a", "mark_a", mode
        self.reference, self.place_reference = reference, place
        start = self.active[self.target].pos[:2]
        self.start_distance = float(np.linalg.norm(start - self.active[self.goal].pos[:2]))
        words = place.text() if place is not None else "marked spot"
        return self.instructions.say(rng, self.instruction_set, target=reference.text(),
                                     place=words)

    def _place_twin(self, rng: np.random.Generator, colour: str, chosen: dict) -> bool:
        """Relation episodes: put block_b, the target's twin, on the other side of the
        landmark from the target as the front camera sees it (both at least the clearance
        away from it), apart from everything and off the push's path; False if no spot of
        `PLACE_TRIES` does. Placing it last, where the relation holds, spares the many
        scenes a blind placement would throw away."""
        lay = self.layout
        landmark = next(self.active[n] for n in LANDMARKS if n in chosen)
        target, goal = self.active["block_a"], self.active["mark_a"]
        side = float((target.pos[:2] - landmark.pos[:2]) @ self.camera_right)
        if abs(side) < lay.clearance:
            return False
        reach = self.footprint("block_b")
        start = push_start(lay, target.pos, goal.pos[:2], self.footprint("block_a"))[:2]
        for _ in range(PLACE_TRIES):
            xy = np.array([rng.uniform(*lay.place_x_range), rng.uniform(*lay.place_y_range)])
            twin_side = float((xy - landmark.pos[:2]) @ self.camera_right)
            if twin_side * side > 0 or abs(twin_side) < lay.clearance:
                continue
            if any(math.dist(xy, p.pos[:2]) < reach + self.footprint(n) + lay.clearance
                   for n, p in self.active.items()):
                continue
            if _segment_distance(xy, start, goal.pos[:2]) < 2 * reach + lay.clearance:
                continue
            self.active["block_b"] = Placed("block_b", "block", colour,
                                            np.array([*xy, self.rest_z("block_b")]),
                                            float(rng.uniform(-math.pi, math.pi)))
            return True
        return False

    def _pushable(self) -> bool:
        """The block's push is short enough, starts within the arm's reach (a short arm
        cannot point its tool down beyond it), and its path (from where the pusher comes
        down to the square) keeps clear of every other object."""
        block, goal = self.active["block_a"], self.active["mark_a"]
        reach = self.footprint("block_a")
        if math.dist(block.pos[:2], goal.pos[:2]) > MAX_PUSH * self.scale:
            return False
        start = push_start(self.layout, block.pos, goal.pos[:2], reach)[:2]
        lay = self.layout
        if not all(lo <= v <= hi for v, (lo, hi) in
                   zip(start, (lay.reach_x_range, lay.reach_y_range), strict=True)):
            return False  # the push would start beyond the arm's reach
        for name, other in self.active.items():
            if name in MARKS or name == "block_a":
                continue
            gap = _segment_distance(other.pos[:2], start, goal.pos[:2])
            if gap < self.footprint(name) + reach + self.layout.clearance:
                return False
        return True

    # --- judging the world -----------------------------------------------------------------
    def _measure(self, state: WorldState) -> tuple[np.ndarray, float, list[str]]:
        """The block's position, its distance to the square's centre (in the table's plane),
        and the other objects acted on."""
        pos = state.object_pos[self.target]
        goal = self.active[self.goal].pos
        to_goal = float(np.linalg.norm(pos[:2] - goal[:2]))
        # Touching another object with both pads is no fault here (a closed gripper pushes
        # with both); moving or lifting it is.
        bar = self.layout.lift_success / 2
        wrong = [n for n in self.active if n not in MARKS and n != self.target and (
            self.moved(state, n) > WRONG_PUSH * self.scale or self.lift(state, n) > bar)]
        return pos, to_goal, wrong

    def evaluate(self, state: WorldState) -> tuple[bool, bool, float, dict[str, float]]:
        pos, to_goal, wrong = self._measure(state)
        # On the table (not lifted): touching it with both pads is how closed fingers push.
        resting = self.lift(state, self.target) < RESTING * self.scale
        success = to_goal <= self.radius and resting and not wrong
        others = [self.moved(state, n) for n in self.active
                  if n not in MARKS and n != self.target]
        metrics = {"target_to_goal": to_goal,
                   "tcp_to_target": math.dist(state.ee_pos.tolist(), pos.tolist()),
                   "pushed": self.moved(state, self.target),
                   "wrong_object": float(bool(wrong)),
                   "distractors_moved": max(others, default=0.0)}
        failure = bool(wrong) or self.off_table(state, self.target)
        return success, failure, self._reward(state, to_goal, wrong, success), metrics

    def success(self, state: WorldState) -> bool:
        return self.evaluate(state)[0]

    def failure(self, state: WorldState) -> bool:
        return self.evaluate(state)[1]

    def reward(self, state: WorldState, success: bool) -> float:
        _, to_goal, wrong = self._measure(state)
        return self._reward(state, to_goal, wrong, success)

    def approach_distance(self, state: WorldState) -> float:
        """How far (m) the pusher's bottom is from where a push of the block starts."""
        start = push_start(self.layout, state.object_pos[self.target],
                           self.active[self.goal].pos[:2], self.footprint(self.target))
        return float(np.linalg.norm(pusher_point(self.layout, state.ee_pos, state.ee_rot)
                                    - start))

    def _reward(self, state: WorldState, to_goal: float, wrong: list[str],
                success: bool) -> float:
        if success:
            return 1.0
        if self.reward_type == "sparse" or wrong:
            return 0.0
        reach = reach_reward(self.approach_distance(state), self.reach_scale)
        progress = min(max(1.0 - to_goal / self.start_distance, 0.0), 1.0)
        return 0.3 * reach + 0.65 * progress

    def metrics(self, state: WorldState) -> dict[str, float]:
        return self.evaluate(state)[3]

    def object_observation(self, state: WorldState) -> dict[str, np.ndarray]:
        """The block's pose and the square's centre; zeros where the world reports no block
        (a robot cell before its first reset)."""
        pos = state.object_pos.get(self.target, np.zeros(3))
        quat = state.object_quat.get(self.target, np.array([1.0, 0.0, 0.0, 0.0]))
        placed = self.active.get(self.goal)
        goal = placed.pos.copy() if placed is not None else np.zeros(3)
        return {"target_pos": pos, "target_quat": quat, "goal_pos": goal,
                "target_to_goal": goal - pos, "target_to_tcp": state.ee_pos - pos}

    def make_expert(self) -> PushToTargetExpert:
        return PushToTargetExpert(self)


def _segment_distance(p: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    """The distance from point `p` to the segment from `a` to `b` (2-D)."""
    ab = b - a
    t = float(np.clip((p - a) @ ab / max(float(ab @ ab), 1e-12), 0.0, 1.0))
    return float(np.linalg.norm(p - (a + t * ab)))


class PushToTargetExpert:
    """Pushes the episode's block onto its square (`PushSkill`), knowing both from privileged
    state: the upper reference for language-conditioned policies."""

    def __init__(self, task: PushToTarget):
        self.task = task
        self.skill: PushSkill | None = None
        self._episode: tuple | None = None

    def reset(self) -> None:
        self.skill = None

    def act(self, state: WorldState) -> EeCommand:
        task = self.task
        goal = task.active[task.goal].pos
        episode = (task.target, tuple(goal))
        if self.skill is None or self._episode != episode:
            top = TABLE_TOP + KINDS[task.kinds[task.target]].height * task.scale
            self.skill = PushSkill(task.layout, task.target, task.footprint(task.target),
                                   top, goal[:2])
            self._episode = episode
        return self.skill.act(state)
