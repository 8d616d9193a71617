"""The mobile OpenDrawer: a mobile manipulator drives to the cabinet the instruction names,
one of two standing on the flat's two tables, takes its drawer's pull and slides the drawer
open. The cabinets, their drawers' joints and the pulling skill are the tabletop suite's
(`objects.cabinet`, `drawers.py`, `skills_drawer.PullSkill`); the flat, the stands and the
driving are MobilePickCup's (`indoor.py`, `mobile_pick_cup_stand.py`,
`mobile_pick_cup_expert.MobileArmExpert`).
"""

from __future__ import annotations

import math

import numpy as np

from librobot_gym.envs.tasks.base import WorldState
from librobot_gym.envs.tasks.drawers import MOVED_FRACTION, OPEN_FRACTION, joint_key
from librobot_gym.envs.tasks.indoor import (
    LANDMARKS,
    OBJECT_COLOURS,
    TABLE_HEIGHT,
    Layout,
    indoor_scene,
)
from librobot_gym.envs.tasks.language import Instructions
from librobot_gym.envs.tasks.mobile_pick_cup_expert import MobileArmExpert, grasp_layout
from librobot_gym.envs.tasks.mobile_pick_cup_stand import (
    Floor,
    approach_reward,
    edge_frame,
    stand_for,
)
from librobot_gym.envs.tasks.mobile_task import TABLE_WORDS, TABLES, Item, MobileTask
from librobot_gym.envs.tasks.objects import CABINET_TRAVEL, KINDS, make_object
from librobot_gym.envs.tasks.placement import yaw_quat
from librobot_gym.envs.tasks.registry import register_task
from librobot_gym.envs.tasks.skills_drawer import Pull, PullSkill

CABINETS = ("cabinet_a", "cabinet_b")
SCALE = 1.5  # the tabletop cabinet at 1.5: 27 x 18 x 13.5 cm, its drawer sliding 15 cm
TRAVEL = CABINET_TRAVEL * SCALE
FRONT = 0.096 * SCALE + 0.01  # m from the cabinet's origin to the table edge (its drawer front
# 1 cm in from the edge, the pull bar beyond it)
HALF_WIDTH = 0.06 * SCALE
# How far from the edge the base stands (Fetch: 0.55 m, the pull half a metre ahead of the
# base, out to 0.35 m open) is the robot's mobile layout's `drawer_standoff`.
PULL_TO = 0.8  # the expert pulls to this fraction of the travel (success: OPEN_FRACTION)
MODES = ("colour", "table")
INSTRUCTIONS = Instructions(
    train=("open the drawer of the {target}", "pull open the drawer of the {target}",
           "slide out the drawer of the {target}", "go to the {target} and open its drawer",
           "open the {target}", "pull out the drawer in the {target}"),
    heldout=("could you open the drawer of the {target}?",
             "get the drawer of the {target} open", "the drawer of the {target} needs opening",
             "find the {target} and draw out its drawer"),
)


def cabinet_pull(cabinet: Item, name: str) -> Pull:
    """The pull of cabinet `name` (its pose, scale and drawer joint)."""
    return Pull(cabinet.pos, cabinet.yaw, SCALE, joint_key(name))


@register_task("mobile_open_drawer")
class MobileOpenDrawer(MobileTask):
    """
    ## Description
    A mobile manipulator (Fetch, TIAGo) drives to the cabinet the instruction names and pulls its
    drawer open: "open the drawer of the red cabinet", "pull open the drawer of the cabinet
    on the coffee table". NavigateTo's two-room flat, drawn anew from the seed, with a small
    one-drawer cabinet (27 x 18 x 13.5 cm, the tabletop suite's at 1.5 scale, its drawer
    sliding 15 cm) on each table, its front at a table edge the base can stand at. Half the
    episodes the cabinets differ in colour and the instruction names the colour; the others
    they share it and the instruction names the table. Moving the other cabinet's drawer a
    quarter of its travel is a failure (`wrong_object`). Cameras: `head` and `overhead`.

    ## Action Space
    `base_twist+ee_delta_pose` (`Box(-1, 1, (10,))`): forward speed (m/s, +-1) and yaw rate
    (rad/s, +-1.5), slewed at 1 m/s^2 and 2 rad/s^2; the gripper's translation (m, +-0.03 a
    step) and rotation (rad, +-0.15) in the base's frame; the torso's speed (m/s, +-0.1);
    the gripper opening (-1 closed, +1 open).

    ## Observation Space
    The robot's proprioception (arm joints, gripper, tool pose, torso and head, base pose and
    twist, wheel speeds, 24 laser ranges). State modes add `target_pos` (3, the middle of the
    named drawer's pull bar, world), `target_quat` (4, the cabinet's turn), `target_to_tcp`
    (3), `drawer_opening` (1, fraction of its travel), `target_vector` (2, the pull in the
    base's frame) and `geodesic_distance` (1, m to drive to the stand, around walls).

    ## Rewards
    `dense`: 0.4 approach + 0.15 while gripping the pull + 0.45 opening progress (shut to
    the success opening), minus 0.05 a step in contact with a wall, door or furniture other
    than the cabinets; 1 on success, 0 once the other drawer moved. approach =
    0.6 max(0, 1 - d / 16 m) + 0.4 (1 - tanh(5 d / 1 m)), d the metres still to go: the
    base's to its stand (around walls) plus the tool's to the pull. `sparse`: 1 on success.

    ## Success Criteria
    The named drawer out at least 0.6 of its travel (9 cm, the tabletop OpenDrawer's
    fraction), the other drawer not moved a quarter of its travel. `terminated` on success or
    on the wrong drawer moved; `truncated` after 500 steps (50 s at 10 Hz).

    ## Metrics
    `path_length` (m), `collisions` (contacts begun with walls, doors or furniture, the
    cabinets excepted: the hand works on them), `in_collision`, `distance_to_stand` (m),
    `tcp_to_handle` (m), `drawer_opening` (fraction of the travel), `progress` (0-1),
    `gripping` (0/1), `wrong_object` (0/1), `other_drawers_moved` (fraction of the travel).

    ## Starting State
    The base at rest with room to turn, at least 1 m (around walls) from its stand, facing
    any way; arm tucked, torso down, gripper open; both drawers shut.

    ## Arguments
    `reward_type` ("dense", "sparse"); `instruction_set` ("train": six phrasings;
    "heldout": four paraphrases no default episode uses); and the common env arguments.

    ## Version History
    - v0: first release.
    """

    name = "mobile_open_drawer"
    summary = "drive to the cabinet the instruction names and pull its drawer open"
    instructions = INSTRUCTIONS
    item_names = CABINETS

    def scene(self) -> list:
        return indoor_scene() + [make_object("cabinet", n, SCALE, "white") for n in CABINETS]

    # --- an episode ----------------------------------------------------------------------------
    def _reset_extras(self) -> dict:
        return {"joints": {joint_key(n): 0.0 for n in CABINETS}}

    def _place(self, rng, layout: Layout, ground: Floor, tries: int = 60
               ) -> dict[str, Item] | None:
        """A cabinet on each table, its front at an edge whose stand the base fits, clear
        of the landmark standing on that table."""
        order = list(TABLES) if rng.random() < 0.5 else list(TABLES)[::-1]
        cabinets: dict[str, Item] = {}
        for name, table in zip(CABINETS, order, strict=True):
            fp = layout.footprints[table]
            mark = layout.footprints[next(k for k, on, _ in LANDMARKS if on == table)]
            for _ in range(tries):
                side = int(rng.integers(4))
                normal, _, depth, half = edge_frame(fp, side)
                if half < HALF_WIDTH + 0.05 or 2 * depth < FRONT + 0.1 * SCALE:
                    continue
                offset = float(rng.uniform(-half + HALF_WIDTH + 0.04, half - HALF_WIDTH - 0.04))
                stand = stand_for(fp, side, offset, self.layout["drawer_standoff"])
                xy = np.asarray(stand.aim) - FRONT * normal
                if not ground.works(stand, self.layout["elbow_side"]) or \
                        math.dist(xy, mark.centre) < mark.radius + 0.2:
                    continue
                pos = np.array([*xy, TABLE_HEIGHT[table] + KINDS["cabinet"].rest_z * SCALE])
                cabinets[name] = Item(table, "", pos, stand.yaw, stand)
                break
            else:
                return None
        return cabinets

    def _describe(self, rng, cabinets: dict[str, Item], target: str) -> str:
        """Colour the cabinets and say which is meant: by colour (they differ) or by table
        (they match)."""
        mode = MODES[int(rng.integers(len(MODES)))]
        picks = rng.choice(len(OBJECT_COLOURS), 2, replace=False)
        me = cabinets[target]
        for i, cabinet in enumerate(cabinets.values()):
            cabinet.colour = OBJECT_COLOURS[picks[0 if mode == "table" else i]]
        if mode == "colour":
            return f"{me.colour} cabinet"
        words = TABLE_WORDS[me.table]
        return f"cabinet on {words[int(rng.integers(len(words)))]}"

    # --- judging the world -----------------------------------------------------------------------
    def opening(self, state: WorldState, name: str) -> float:
        return float(state.object_joints.get(joint_key(name), 0.0))

    def handle(self, state: WorldState) -> np.ndarray:
        ep = self.episode
        return cabinet_pull(ep.items[ep.target], ep.target).handle(self.opening(state, ep.target))

    def touching(self, state: WorldState) -> bool:
        """A robot part touches something other than the cabinets (the hand works on them)."""
        return any(not label.startswith("cabinet") for label in state.robot_contacts)

    def _measure(self, state: WorldState) -> dict[str, float]:
        ep = self.episode
        opening = self.opening(state, ep.target)
        distance = float(np.linalg.norm(state.ee_pos - self.handle(state)))
        gripping = distance < 0.02 * SCALE and \
            state.gripper_opening < 0.5 * self.robot.gripper.max_opening
        others = max(abs(self.opening(state, n)) / TRAVEL for n in CABINETS if n != ep.target)
        return {**self.driving_metrics(state), "tcp_to_handle": distance,
                "drawer_opening": opening / TRAVEL,
                "progress": min(max(opening / (OPEN_FRACTION * TRAVEL), 0.0), 1.0),
                "gripping": float(gripping), "wrong_object": float(others > MOVED_FRACTION),
                "other_drawers_moved": others}

    def _success(self, m: dict[str, float]) -> bool:
        return m["drawer_opening"] >= OPEN_FRACTION and not m["wrong_object"]

    def _reward(self, state: WorldState, m: dict[str, float], success: bool) -> float:
        if success:
            return 1.0
        if self.reward_type == "sparse" or m["wrong_object"]:
            return 0.0
        to_go = m["distance_to_stand"] + m["tcp_to_handle"]
        return 0.4 * approach_reward(to_go) + 0.15 * m["gripping"] + 0.45 * m["progress"] - \
            self.collision_penalty(m)

    # --- what the state observation gets ---------------------------------------------------------
    def target_point(self, state: WorldState) -> tuple[np.ndarray, np.ndarray]:
        ep = self.episode
        return self.handle(state), yaw_quat(ep.items[ep.target].yaw)

    def target_extras(self, state: WorldState | None) -> dict[str, np.ndarray]:
        """`drawer_opening`: the named drawer's opening, fraction of its travel."""
        if state is None:
            return {"drawer_opening": np.zeros(1)}
        return {"drawer_opening": np.array([self.opening(state, self.episode.target) / TRAVEL])}

    def make_expert(self) -> MobileOpenDrawerExpert:
        return MobileOpenDrawerExpert(self)


class MobileOpenDrawerExpert(MobileArmExpert):
    """Drives to the named cabinet's stand, then takes its pull with a level hand and slides
    the drawer out (`PullSkill`)."""

    def skill(self, state: WorldState) -> PullSkill:
        ep = self.task.episode
        pull = cabinet_pull(ep.items[ep.target], ep.target)
        # A hand whose pads reach far past its tool centre holds the bar that far back
        # (`pull_back`, m towards the base), so the pads' tips stay off the drawer front.
        pull = Pull(pull.pos + self._layout["pull_back"] * pull.axis, pull.yaw, pull.scale,
                    pull.joint)
        # PullSkill turns the hand by the cabinet's yaw + 90 deg (fingers across a bar seen
        # from above); a level hand keeps facing the cabinet: undo that turn in its layout.
        turn = (pull.yaw + math.pi / 2) % math.pi - math.pi / 2
        heading = state.extras["base_yaw"]
        layout = grasp_layout(self.task.robot, heading - turn, SCALE, 0.1)
        return PullSkill(layout, pull, PULL_TO * TRAVEL)


__all__ = ["CABINETS", "INSTRUCTIONS", "MobileOpenDrawer", "MobileOpenDrawerExpert"]
