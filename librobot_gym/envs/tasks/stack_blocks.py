"""StackBlocks-v0: stack the block the instruction names on the block it names, among other
blocks (and a few other things), in the lab cell.

3-4 blocks stand on the table, so naming the top does not name the bottom; the instruction
names both by colour, or one of them by where it stands ("the red block left of the bowl": two
red blocks). Built on `TabletopTask`; the expert is `PickPlaceExpert` (`skills_place.py`).
"""

from __future__ import annotations

import math

import numpy as np

from librobot_gym.envs.tasks.base import WorldState, reach_reward
from librobot_gym.envs.tasks.language import Instructions, Reference, Thing, shortest_reference
from librobot_gym.envs.tasks.objects import COLOURS, KINDS
from librobot_gym.envs.tasks.placement import quat_yaw
from librobot_gym.envs.tasks.registry import register_task
from librobot_gym.envs.tasks.resting import Steady, clear_of, local_offset
from librobot_gym.envs.tasks.skills_place import PickPlaceExpert, PlaceGoal, tallest
from librobot_gym.envs.tasks.tabletop import TabletopTask

BLOCKS = ("block_a", "block_b", "block_c", "block_d", "block_e")
LANDMARKS = ("cup", "bowl", "plate")
POOL = tuple((name, "block") for name in BLOCKS) + tuple((name, name) for name in LANDMARKS)
# Both blocks named by colour (every block its own colour), or one of them by where it stands
# (its twin shares its colour; a cup, bowl or plate is the landmark).
MODES = ("colour", "relation")
HALF = KINDS["block"].height / 2  # m at scale 1: a block's half side
ON_TOLERANCE = 0.004  # m at scale 1: how far from a block's height above the other it may rest
MOVED_TOLERANCE = 0.02  # m at scale 1: another object moved further is "moved off its place"
STEADY_TIME = 0.5  # s the stack must stand, released, before it counts

INSTRUCTIONS = Instructions(
    train=(
        "stack the {target} on the {base}",
        "put the {target} on top of the {base}",
        "place the {target} onto the {base}",
        "pick up the {target} and stack it on the {base}",
        "set the {target} on the {base}",
        "move the {target} onto the {base}",
    ),
    heldout=(
        "could you stack the {target} on the {base}",
        "the {target} goes on top of the {base}",
        "build a stack with the {target} above the {base}",
        "balance the {target} on the {base}",
    ),
)

__all__ = ["INSTRUCTIONS", "MODES", "POOL", "StackBlocks", "coloured_relation"]


def coloured_relation(target: Thing, things: list[Thing], margin: float) -> Reference | None:
    """"<colour> <kind> left of / right of the <landmark>" for a target with a twin of its
    kind and colour: the landmark (another kind, named plainly) nearest the target first, and
    only where every look-alike stands `margin` (m) to one side of it. None if none serves."""
    alike = [t for t in things if (t.kind, t.colour) == (target.kind, target.colour)]
    for landmark in sorted((t for t in things if t.kind != target.kind),
                           key=lambda t: abs(t.side - target.side)):
        plain = shortest_reference(landmark, things)
        if plain is None or any(abs(t.side - landmark.side) < margin for t in alike):
            continue
        relation = "left of" if target.side < landmark.side else "right of"
        reference = Reference(target.kind, target.colour, relation, plain)
        if reference.picks_out(target.name, things):
            return reference
    return None


@register_task("stack_blocks")
class StackBlocks(TabletopTask):
    """
    ## Description
    `librobot/Franka-StackBlocks-v0`, `librobot/SO100-StackBlocks-v0`: in the lab cell, the
    arm picks up the block the instruction names and stacks it on the block it names ("stack
    the green block on the yellow block"). 3-4 blocks stand on the table, so both colours must
    be read; in a third of episodes two blocks share a colour and one of the pair is named by
    where it stands ("put the red block left of the bowl on top of the blue block"; left and
    right as the front camera sees the table), with a cup, bowl or plate as the landmark.
    Moving another object off its place, lifting it, or stacking onto the wrong block is a
    failure (`wrong_object`).
    `librobot/UR5e-StackBlocks-v0` is the same task on the UR5e, at the Franka's numbers: every
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
    target_pos (3), target_quat (4), target_to_tcp (3) of the block to move, place_pos (3:
    the block to stack on), target_to_place (3): privileged, it names both blocks.

    ## Rewards
    Dense (default), staged: 0.2 reach (tool to the top block; 1 once stacked) + 0.15 while
    it is held or stacked + 0.35 carry progress (while held or stacked: its distance to its
    place on the bottom block, on the reach curve) + 0.2 once it stands stacked with the
    gripper clear; 1.0 on success. reach(d) = 0.5 (1 - tanh(d / s)) + 0.5 (1 - tanh(5 d /
    s)), s the distance from the base to the middle of the reach patch. The step that acts on
    a wrong object earns 0. Sparse: 1.0 on success, else 0.

    ## Metrics (`info["task_metrics"]`)
    lift_height (m, the top block above its rest height), tcp_to_target (m), grasped (0/1),
    top_to_bottom (m, the top block's centre from above the bottom block's, across the
    table), stacked (0/1: it rests on the bottom block, which stands on the table), released
    (0/1: let go, the tool clear above or beside it), wrong_object (0/1), bottom_moved (m),
    distractors_moved (m, the furthest any other object moved). Safety: arena_contact,
    joint_limit.

    ## Success and Episode End
    Success: the top block rests on the bottom block (its centre within half a block's side
    of the bottom's, one block's height above it to 0.004 m at the Franka's scale), the
    bottom block on the table, released, the tool clear (half the hover height above the top
    block: Franka 0.035 m, SO-100 0.02 m, or as far beyond it sideways), all for 0.5 s, and no
    wrong object. `terminated` on success or failure: a wrong object (another object held,
    lifted, moved more than 0.02 m at the Franka's scale, or the top block stacked on another
    block), or either named block off the table. `truncated` after 300 steps.

    ## Starting State
    The arm's home pose with +-0.02 rad joint noise, gripper open. 3-4 blocks (5 cm on the
    Franka, 3 cm on the SO-100) and up to two of a cup, a bowl and a plate, in random colours
    and yaws, at least a finger's width apart; both named blocks within the arm's reach
    (Franka: x 0.38-0.58 m, y +-0.2 m; SO-100: x 0.12-0.22 m, y +-0.1 m), the others on a
    wider patch.

    ## Arguments
    `reward_type` ("dense", "sparse"); `instruction_set` ("train", default: six phrasings;
    "heldout": four paraphrases no default episode uses); and the common env arguments.

    ## Version History
    - v0: first release.
    """

    name = "stack_blocks"
    summary = "stack the block the instruction names on the block it names, among others"
    pool = POOL
    instructions = INSTRUCTIONS
    max_episode_steps = 300

    def __init__(self, robot, reward_type: str = "dense", instruction_set: str = "train"):
        super().__init__(robot, reward_type, instruction_set)
        self.target, self.base = "block_a", "block_b"
        self.mode = "colour"
        self.reference: Reference | None = None
        self.base_reference: Reference | None = None
        self.steady = Steady()

    # --- an episode ------------------------------------------------------------------------
    def reset(self, rng: np.random.Generator):
        self.steady.reset()
        return super().reset(rng)

    def draw(self, rng: np.random.Generator) -> str | None:
        mode = MODES[int(rng.random() < 1 / 3)]
        count = int(rng.integers(3, 5))
        colours = [list(COLOURS)[i] for i in rng.permutation(len(COLOURS))[:count]]
        top, base = BLOCKS[0], BLOCKS[1]
        chosen = dict(zip(BLOCKS[:count], colours, strict=True))
        landmarks = int(rng.integers(0, 2))
        twinned = None
        if mode == "relation":
            twinned = (top, base)[int(rng.integers(2))]
            chosen[BLOCKS[2]] = chosen[twinned]  # its look-alike
            landmarks += 1
        for i in rng.permutation(len(LANDMARKS))[:landmarks]:
            chosen[LANDMARKS[i]] = list(COLOURS)[int(rng.integers(len(COLOURS)))]
        if self.arrange(rng, chosen, reach={top, base}) is None:
            return None
        things = self.things()
        references = []
        for name in (top, base):
            me = next(t for t in things if t.name == name)
            ref = coloured_relation(me, things, self.layout.clearance) if name == twinned \
                else shortest_reference(me, things)
            if ref is None or not ref.picks_out(name, things):
                return None
            references.append(ref)
        self.target, self.base, self.mode = top, base, mode
        self.reference, self.base_reference = references
        return self.instructions.say(rng, self.instruction_set, target=references[0].text(),
                                     base=references[1].text())

    # --- judging the world -----------------------------------------------------------------
    def stacked_on(self, state: WorldState, top: str, bottom: str) -> bool:
        """Whether block `top` rests on block `bottom`: its centre over the bottom's top face,
        one block's height above the bottom's centre."""
        scale = self.scale
        rise = float(state.object_pos[top][2] - state.object_pos[bottom][2])
        if abs(rise - 2 * HALF * scale) > ON_TOLERANCE * scale:
            return False
        dx, dy = local_offset(state, top, bottom)
        return abs(dx) <= HALF * scale and abs(dy) <= HALF * scale

    def _clear(self, state: WorldState) -> bool:
        return clear_of(state, self.target, HALF * self.scale, self.footprint(self.target),
                        self.layout.hover_height / 2)

    def evaluate(self, state: WorldState) -> tuple[bool, bool, float, dict[str, float]]:
        top, base, scale = self.target, self.base, self.scale
        on_table = self.lift(state, base) < ON_TOLERANCE * scale
        stacked = self.stacked_on(state, top, base) and on_table
        clear = self._clear(state)
        moved = {n: math.dist(state.object_pos[n].tolist(), placed.pos.tolist())
                 for n, placed in self.active.items() if n != top}
        bottom_moved = moved.pop(base)
        wrong = self.wrong_objects(state, {top})
        wrong += [n for n, m in moved.items() if m > MOVED_TOLERANCE * scale]
        if clear:
            wrong += [n for n in moved if self.kinds[n] == "block"
                      and self.stacked_on(state, top, n)]
        steady = self.steady.held(state.time, stacked and clear and not wrong)
        success = steady >= STEADY_TIME - 1e-9
        held = bool(state.grasped[top])
        pos = state.object_pos[top]
        distance = math.dist(state.ee_pos.tolist(), pos.tolist())
        metrics = {
            "lift_height": self.lift(state, top), "tcp_to_target": distance,
            "grasped": float(held),
            "top_to_bottom": float(np.hypot(*(pos[:2] - state.object_pos[base][:2]))),
            "stacked": float(stacked), "released": float(clear),
            "wrong_object": float(bool(wrong)), "bottom_moved": bottom_moved,
            "distractors_moved": max(moved.values(), default=0.0),
        }
        failure = bool(wrong) or self.off_table(state, top) or self.off_table(state, base)
        reward = self._reward(state, distance, held, stacked, clear, wrong, success)
        return success, failure, reward, metrics

    def success(self, state: WorldState) -> bool:
        return self.evaluate(state)[0]

    def failure(self, state: WorldState) -> bool:
        return self.evaluate(state)[1]

    def reward(self, state: WorldState, success: bool) -> float:
        return self.evaluate(state)[2]

    def metrics(self, state: WorldState) -> dict[str, float]:
        return self.evaluate(state)[3]

    def _reward(self, state: WorldState, distance: float, held: bool, stacked: bool,
                clear: bool, wrong: list[str], success: bool) -> float:
        if success:
            return 1.0
        if self.reward_type == "sparse" or wrong:
            return 0.0
        scale = self.reach_scale
        reach = 1.0 if stacked else reach_reward(distance, scale)
        carrying = held or stacked
        goal = state.object_pos[self.base] + np.array([0.0, 0.0, 2 * HALF * self.scale])
        progress = reach_reward(math.dist(state.object_pos[self.target].tolist(),
                                          goal.tolist()), scale) if carrying else 0.0
        return 0.2 * reach + 0.15 * float(carrying) + 0.35 * progress + \
            0.2 * float(stacked and clear)

    def spot(self, state: WorldState) -> PlaceGoal:
        """Where the expert puts the top block: its bottom on the bottom block's top face
        centre, turned square to it, carried over everything on the table."""
        base = self.base
        point = state.object_pos[base] + np.array([0.0, 0.0, HALF * self.scale])
        return PlaceGoal(point, quat_yaw(state.object_quat[base]), math.pi / 2, "object",
                         tallest(self, state, self.target, point))

    def object_observation(self, state: WorldState) -> dict[str, np.ndarray]:
        """The top block's pose and the bottom block's place; zeros where the world reports
        neither (a robot cell before its first reset)."""
        pos = state.object_pos.get(self.target, np.zeros(3))
        quat = state.object_quat.get(self.target, np.array([1.0, 0.0, 0.0, 0.0]))
        place = state.object_pos.get(self.base, np.zeros(3))
        return {"target_pos": pos, "target_quat": quat, "target_to_tcp": state.ee_pos - pos,
                "place_pos": place, "target_to_place": place - pos}

    def make_expert(self) -> PickPlaceExpert:
        return PickPlaceExpert(self, self.spot,
                               lambda state: self.stacked_on(state, self.target, self.base))
