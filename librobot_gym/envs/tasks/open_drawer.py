"""OpenDrawer: pull open the drawer of the cabinet the instruction names, among two or three
cabinets in a row (`drawers.DrawerTask`)."""

from __future__ import annotations

import numpy as np

from librobot_gym.envs.tasks.drawers import DrawerTask
from librobot_gym.envs.tasks.language import Instructions
from librobot_gym.envs.tasks.registry import register_task

INSTRUCTIONS = Instructions(
    train=(
        "open the drawer of the {target}",
        "pull open the drawer of the {target}",
        "slide out the drawer of the {target}",
        "pull the drawer of the {target} open",
        "open the {target}",
        "pull out the drawer in the {target}",
    ),
    heldout=(
        "could you open the drawer of the {target}",
        "get the drawer of the {target} open",
        "the drawer of the {target} needs opening",
        "draw out the drawer of the {target}",
    ),
)
OTHER_OPEN = 0.35  # the chance each other cabinet's drawer starts open


@register_task("open_drawer")
class OpenDrawer(DrawerTask):
    """
    ## Description
    `librobot/Franka-OpenDrawer-v0`, `librobot/SO100-OpenDrawer-v0`: in the lab cell, two or
    three small one-drawer cabinets stand in a row facing the arm, and the arm pulls open the
    drawer of the one the instruction names. The instruction is the only way to know which:
    by colour ("the red cabinet", the others in other colours), by place in the row as the
    front camera sees it ("the left cabinet", "the cabinet in the middle": another cabinet
    shares the target's colour), or by relation ("the cabinet left of the cup": two cabinets
    of one colour, a cup, mug or block between them). The target's drawer starts shut; each
    other drawer starts shut or (one time in three) open. Moving another cabinet's drawer a
    quarter of its travel, or picking up the free object, is a failure (`wrong_object`).
    `librobot/UR5e-OpenDrawer-v0` is the same task on the UR5e, at the Franka's numbers: every
    figure below given for the Franka holds for it.

    ## Action Space
    `control_mode="ee_delta_pose"` (default), `Box(-1, 1, (7,))`: tool translation (dx, dy,
    dz), rotation (droll, dpitch, dyaw) and the gripper (-1 closed, +1 open), scaled to the
    arm's step limits (Franka: 0.03 m, 0.2 rad per step; SO-100: 0.015 m, 0.15 rad).
    `control_mode="joint_pos"`: absolute joint targets scaled to the joint limits, then the
    gripper.

    ## Observation Space
    `rgb` (default): `front` and `wrist` camera images framed for the table (the front camera
    looks at the cabinets' backs and tops, which show their colours, and at an open drawer's
    off-white inside), proprioception (joint_pos, joint_vel, gripper_opening, ee_pos, ee_quat)
    and the instruction. `state` adds target_pos (3: the middle of the target drawer's pull
    bar), target_quat (4: the cabinet's turn), target_to_tcp (3) and drawer_opening (1: the
    target drawer's opening, fraction of its travel): privileged, it names the target.

    ## Rewards
    Dense (default): 0.25 reach + 0.2 grip + 0.5 progress, 1.0 on success; reach = 0.5 (1 -
    tanh(d / s)) + 0.5 (1 - tanh(5 d / s)), d the tool-to-handle distance and s the distance
    from the base to the middle of the reach patch; grip 1 while the closed fingers are at
    the handle; progress the drawer's way from shut to the success opening (0 to 1). The step
    that moves a wrong drawer or object earns 0. Sparse: 1.0 on success, else 0.

    ## Metrics (`info["task_metrics"]`)
    drawer_opening (the target drawer, fraction of its travel), progress (0-1), tcp_to_handle
    (m), gripping (0/1), wrong_object (0/1: another drawer moved a quarter of its travel, or
    the free object was held or lifted), other_drawers_moved (the most any other drawer moved,
    fraction of its travel). Safety: arena_contact, joint_limit.

    ## Success and Episode End
    Success: the named drawer out at least 0.6 of its travel (Franka 0.1 m travel, SO-100
    0.06 m), and no wrong object. `terminated` on success or on a wrong object. `truncated`
    after 200 steps (10 s at 20 Hz).

    ## Starting State
    The arm's home pose with +-0.02 rad joint noise, gripper open. Two or three cabinets (12
    x 18 x 9 cm on the Franka, 0.6 of that on the SO-100, in eight colours) in the slots of
    a straight row facing the base, their pulls within the arm's reach shut and open; a slot
    no cabinet took holds a cup, mug or block seven times in ten. The way the target is named
    (colour, place, relation) is drawn uniformly.

    ## Arguments
    `reward_type` ("dense", "sparse"); `instruction_set` ("train", default: six phrasings;
    "heldout": four paraphrases no default episode uses); and the common env arguments.

    ## Version History
    - v0: first release.
    """

    name = "open_drawer"
    summary = "open the drawer of the cabinet the instruction names (colour, place, relation)"
    instructions = INSTRUCTIONS
    goal = "open"

    def start_openings(self, rng: np.random.Generator, target: str,
                       others: list[str]) -> dict[str, float]:
        """The target shut; each other drawer shut or, now and then, open."""
        openings = {target: 0.0}
        for name in others:
            openings[name] = float(rng.uniform(0.5, 1.0)) if rng.random() < OTHER_OPEN else 0.0
        return openings


__all__ = ["INSTRUCTIONS", "OpenDrawer"]
