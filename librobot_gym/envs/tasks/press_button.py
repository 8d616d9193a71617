"""PressButton-v0: press the button the instruction names, among 2-4 buttons of different
colours (and a cup or block that may share the target's colour), in the lab cell. Built on
`TabletopTask`; the expert is `PressSkill`.

A button (`objects.button`) is fixed to the table; its cap (link "cap") slides down
`PRESS_TRAVEL` against a spring. Pressed means the cap down past half its travel, the
object set's own definition, read from `WorldState.object_joints["<button>/cap"]`.
"""

from __future__ import annotations

import math

import numpy as np

from librobot_gym.envs.tasks.base import EeCommand, TaskReset, WorldState, reach_reward
from librobot_gym.envs.tasks.language import Instructions, Reference, relational_reference
from librobot_gym.envs.tasks.objects import COLOURS, PRESS_TRAVEL, make_object
from librobot_gym.envs.tasks.registry import register_task
from librobot_gym.envs.tasks.skills_push import PressSkill, pusher_point
from librobot_gym.envs.tasks.tabletop import TabletopTask

BUTTONS = ("button_a", "button_b", "button_c", "button_d")
OTHERS = ("cup_a", "block_a")
POOL = tuple((name, "button") for name in BUTTONS) + (("cup_a", "cup"), ("block_a", "block"))
# How the button is told apart: by colour (every button another colour; a cup or block may
# share the target's), or by relation (two buttons of one colour, a cup or block between:
# "the button left of the cup").
MODES = ("colour", "relation")
RELATION_SHARE = 0.25  # of the episodes
WRONG_PUSH = 0.03  # m at scale 1: a cup or block moved this far was pushed: wrong_object
GRAVITY = 9.81  # m/s^2

INSTRUCTIONS = Instructions(
    train=(
        "press the {target}",
        "push the {target}",
        "push down the {target}",
        "press down on the {target}",
        "hit the {target}",
        "tap the {target}",
    ),
    heldout=(
        "could you press the {target}",
        "the {target}: press it",
        "give the {target} a press",
        "activate the {target}",
    ),
)

__all__ = ["INSTRUCTIONS", "MODES", "POOL", "PressButton", "PressButtonExpert"]


def cap_geometry(scale: float) -> tuple[float, float, float]:
    """(the cap's top above the button's origin, the cap's radius, how far its weight sags it
    on its spring), m, at `scale`: read from the object set's own button, so the task follows
    it."""
    cap = make_object("button", "probe", scale).links[0]
    part = cap.parts[0]
    return (cap.pos[2] + part.pos[2] + part.size[1], part.size[0],
            cap.mass * GRAVITY / cap.stiffness)


@register_task("press_button")
class PressButton(TabletopTask):
    """
    ## Description
    `librobot/Franka-PressButton-v0`, `librobot/SO100-PressButton-v0`: in the lab cell, the
    arm presses the button the instruction names ("press the blue button"). 2-4 push buttons
    (a coloured cap on a dark housing, sprung) stand on the table, each in another colour,
    with up to two other objects (a cup, a block) that may share the target's colour, so
    neither "blue" nor "button" alone would do. In a quarter of the episodes two buttons
    share a colour and a relation tells them apart ("the button left of the cup"; left and
    right as the front camera sees the table). Pressing another button, or pushing the cup or
    block aside, is a failure (`wrong_object`).
    `librobot/UR5e-PressButton-v0` is the same task on the UR5e, at the Franka's numbers: every
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
    adds button_pos (3: the middle of the named button's cap top, at rest), button_press
    (1: how far its cap is down, m), button_to_tcp (3): privileged, it names the button.

    ## Rewards
    Dense (default): 0.4 reach + 0.5 press, 1.0 on success. reach = 0.5 (1 - tanh(d / s)) +
    0.5 (1 - tanh(5 d / s)), d the distance from the pusher's bottom (the closed fingers' or
    jaws' tips) to the middle of the cap's top, s the distance from the base to the middle of
    the reach patch; press = how far the cap is down from where it rests (its weight sags it
    a little) over the success threshold, clipped to [0, 1]. A step with a wrong object
    earns 0. Sparse: 1.0 on success, else 0.

    ## Metrics (`info["task_metrics"]`)
    press_depth (m, how far the named cap is down), tcp_to_button (m, tool to the cap's top),
    wrong_object (0/1: another button pressed past half its travel, or the cup or block
    moved more than 3 cm at the Franka's scale, or lifted), others_pressed (m, the deepest
    any other cap is down), distractors_moved (m, the furthest the cup or block moved).
    Safety: arena_contact (a robot link other than the pads touches the table or floor),
    joint_limit.

    ## Success and Episode End
    Success: the named button's cap down past half its travel (Franka: 5 mm of 10; SO-100:
    3 mm of 6), and no wrong object. `terminated` on success or failure (a wrong object).
    `truncated` after 200 steps (10 s at 20 Hz).

    ## Starting State
    The arm's home pose with +-0.02 rad joint noise, gripper open. The named button within
    the arm's reach (Franka: x 0.38-0.58 m, y +-0.2 m; SO-100: x 0.12-0.22 m, y +-0.1 m), the
    others anywhere on a wider patch, at least a finger's width apart; random colours. The
    way the button is named is drawn (colour three in four, relation one in four).

    ## Arguments
    `reward_type` ("dense", "sparse"); `instruction_set` ("train", default: six phrasings;
    "heldout": four paraphrases no default episode uses); and the common env arguments.

    ## Version History
    - v0: first release.
    """

    name = "press_button"
    summary = "press the button the instruction names among 2-4 of different colours"
    pool = POOL
    instructions = INSTRUCTIONS

    def __init__(self, robot, reward_type: str = "dense", instruction_set: str = "train"):
        super().__init__(robot, reward_type, instruction_set)
        self.target = "button_a"
        self.mode = self._naming = "colour"
        self.reference: Reference | None = None
        self.cap_top, self.cap_radius, self.sag = cap_geometry(self.scale)
        self.threshold = PRESS_TRAVEL * self.scale / 2  # m down: pressed

    # --- an episode ------------------------------------------------------------------------
    def draw(self, rng: np.random.Generator) -> str | None:
        names = list(COLOURS)
        mode = self._naming
        order = rng.permutation(len(names))
        colour = names[order[0]]
        if mode == "colour":
            buttons = int(rng.integers(2, 5))
            chosen = {b: names[i] for b, i in zip(BUTTONS[:buttons], order, strict=False)}
            extra = int(rng.integers(0, 3))
            for k, name in enumerate(rng.permutation(len(OTHERS))[:extra]):
                # The first other object shares the target's colour half the time.
                same = k == 0 and rng.random() < 0.5
                chosen[OTHERS[name]] = colour if same else names[int(rng.integers(len(names)))]
        else:
            chosen = {"button_a": colour, "button_b": colour,
                      OTHERS[int(rng.integers(2))]: names[order[1]]}
        if self.arrange(rng, chosen, reach={"button_a"}) is None:
            return None
        things = self.things()
        me = next(t for t in things if t.name == "button_a")
        if mode == "relation":
            reference = relational_reference(me, things, self.layout.clearance)
        else:
            reference = Reference("button", colour)
        if reference is None or not reference.picks_out("button_a", things):
            return None
        self.target, self.mode, self.reference = "button_a", mode, reference
        return self.instructions.say(rng, self.instruction_set, target=reference.text())

    def reset(self, rng: np.random.Generator) -> TaskReset:
        """The drawn episode, every cap starting where it rests on its spring (else each
        would ring from its unloaded height for a while: a press no one made). The way the
        button is named is drawn once, before the draws of the scene (a relation fits fewer
        scenes: drawn per scene, it would come up less often)."""
        self._naming = "relation" if rng.random() < RELATION_SHARE else "colour"
        task_reset = super().reset(rng)
        task_reset.joints.update({f"{name}/cap": -self.sag for name in BUTTONS})
        return task_reset

    # --- judging the world -----------------------------------------------------------------
    def depth(self, state: WorldState, name: str) -> float:
        """How far (m) button `name`'s cap is down (0 at rest)."""
        return max(0.0, -state.object_joints.get(f"{name}/cap", 0.0))

    def cap_position(self, name: str) -> np.ndarray:
        """The middle of button `name`'s cap top at rest (world)."""
        return self.active[name].pos + np.array([0.0, 0.0, self.cap_top])

    def approach_distance(self, state: WorldState) -> float:
        """How far (m) the pusher's bottom is from the middle of the named cap's top."""
        pusher = pusher_point(self.layout, state.ee_pos, state.ee_rot)
        return float(np.linalg.norm(pusher - self.cap_position(self.target)))

    def _measure(self, state: WorldState) -> tuple[float, float, list[str]]:
        pressed = self.depth(state, self.target)
        distance = self.approach_distance(state)
        # Another button pressed, or the cup or block moved or lifted (touched is no fault:
        # closed fingers touch with both pads at once).
        bar = self.layout.lift_success / 2
        wrong = [n for n in self.active if n != self.target and (
            self.depth(state, n) >= self.threshold if n in BUTTONS
            else self.moved(state, n) > WRONG_PUSH * self.scale or self.lift(state, n) > bar)]
        return pressed, distance, wrong

    def evaluate(self, state: WorldState) -> tuple[bool, bool, float, dict[str, float]]:
        pressed, distance, wrong = self._measure(state)
        success = pressed >= self.threshold and not wrong
        buttons = [n for n in self.active if n in BUTTONS and n != self.target]
        others = [n for n in self.active if n in OTHERS]
        metrics = {"press_depth": pressed,
                   "tcp_to_button": math.dist(state.ee_pos.tolist(),
                                              self.cap_position(self.target).tolist()),
                   "wrong_object": float(bool(wrong)),
                   "others_pressed": max((self.depth(state, n) for n in buttons), default=0.0),
                   "distractors_moved": max((self.moved(state, n) for n in others),
                                            default=0.0)}
        return success, bool(wrong), self._reward(pressed, distance, wrong, success), metrics

    def success(self, state: WorldState) -> bool:
        return self.evaluate(state)[0]

    def failure(self, state: WorldState) -> bool:
        return bool(self._measure(state)[2])

    def reward(self, state: WorldState, success: bool) -> float:
        return self._reward(*self._measure(state), success)

    def _reward(self, pressed: float, distance: float, wrong: list[str],
                success: bool) -> float:
        if success:
            return 1.0
        if self.reward_type == "sparse" or wrong:
            return 0.0
        # From where the cap rests (its weight sags it a little) to the threshold.
        press = min(max((pressed - self.sag) / (self.threshold - self.sag), 0.0), 1.0)
        return 0.4 * reach_reward(distance, self.reach_scale) + 0.5 * press

    def metrics(self, state: WorldState) -> dict[str, float]:
        return self.evaluate(state)[3]

    def object_observation(self, state: WorldState) -> dict[str, np.ndarray]:
        """The named cap's top at rest and how far it is down; zeros before the first reset
        (a robot cell)."""
        cap = self.cap_position(self.target) if self.target in self.active else np.zeros(3)
        return {"button_pos": cap, "button_press": np.array([self.depth(state, self.target)]),
                "button_to_tcp": state.ee_pos - cap}

    def make_expert(self) -> PressButtonExpert:
        return PressButtonExpert(self)


class PressButtonExpert:
    """Presses the episode's button (`PressSkill`), knowing which it is from privileged
    state: the upper reference for language-conditioned policies."""

    def __init__(self, task: PressButton):
        self.task = task
        self.skill: PressSkill | None = None
        self._cap: tuple | None = None

    def reset(self) -> None:
        self.skill = None

    def act(self, state: WorldState) -> EeCommand:
        task = self.task
        cap = task.cap_position(task.target)
        if self.skill is None or self._cap != tuple(cap):
            self.skill = PressSkill(task.layout, cap, 2 * PRESS_TRAVEL * task.scale)
            self._cap = tuple(cap)
        return self.skill.act(state)
