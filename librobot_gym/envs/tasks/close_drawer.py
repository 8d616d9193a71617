"""CloseDrawer: push shut the drawer of the cabinet the instruction names, among two or three
cabinets in a row whose drawers stand open (`drawers.DrawerTask`)."""

from __future__ import annotations

import numpy as np

from librobot_gym.envs.tasks.drawers import DrawerTask
from librobot_gym.envs.tasks.language import Instructions
from librobot_gym.envs.tasks.registry import register_task

INSTRUCTIONS = Instructions(
    train=(
        "close the drawer of the {target}",
        "shut the drawer of the {target}",
        "push the drawer of the {target} closed",
        "slide the drawer of the {target} shut",
        "close the {target}",
        "push in the drawer of the {target}",
    ),
    heldout=(
        "could you close the drawer of the {target}",
        "push the drawer of the {target} back in",
        "the drawer of the {target} should be shut",
        "make sure the drawer of the {target} is closed",
    ),
)
OTHER_OPEN = 0.6  # the chance each other cabinet's drawer starts open (one always does)


@register_task("close_drawer")
class CloseDrawer(DrawerTask):
    """
    ## Description
    `librobot/Franka-CloseDrawer-v0`, `librobot/SO100-CloseDrawer-v0`: in the lab cell, two
    or three small one-drawer cabinets stand in a row facing the arm, at least two of their
    drawers open, and the arm pushes shut the drawer of the one the instruction names. The
    instruction is the only way to know which: by colour ("the red cabinet", the others in
    other colours), by place in the row as the front camera sees it ("the right cabinet", "the
    cabinet in the middle": another cabinet shares the target's colour), or by relation ("the
    cabinet left of the mug": two cabinets of one colour, a cup, mug or block between them).
    Moving another cabinet's drawer a quarter of its travel, or picking up the free object, is
    a failure (`wrong_object`).
    `librobot/UR5e-CloseDrawer-v0` is the same task on the UR5e, at the Franka's numbers: every
    figure below given for the Franka holds for it.

    ## Action Space
    `control_mode="ee_delta_pose"` (default), `Box(-1, 1, (7,))`: tool translation (dx, dy,
    dz), rotation (droll, dpitch, dyaw) and the gripper (-1 closed, +1 open), scaled to the
    arm's step limits (Franka: 0.03 m, 0.2 rad per step; SO-100: 0.015 m, 0.15 rad).
    `control_mode="joint_pos"`: absolute joint targets scaled to the joint limits, then the
    gripper.

    ## Observation Space
    `rgb` (default): `front` and `wrist` camera images framed for the table (the front camera
    looks at the cabinets' backs and tops, which show their colours, and at the open drawers'
    off-white insides), proprioception (joint_pos, joint_vel, gripper_opening, ee_pos,
    ee_quat) and the instruction. `state` adds target_pos (3: the middle of the target
    drawer's pull bar), target_quat (4: the cabinet's turn), target_to_tcp (3) and
    drawer_opening (1: the target drawer's opening, fraction of its travel): privileged, it
    names the target.

    ## Rewards
    Dense (default): 0.25 reach + 0.2 grip + 0.5 progress, 1.0 on success; reach = 0.5 (1 -
    tanh(d / s)) + 0.5 (1 - tanh(5 d / s)), d the tool-to-handle distance and s the distance
    from the base to the middle of the reach patch; grip 1 while the closed fingers are at
    the handle; progress the drawer's way from its start to shut (0 to 1). The step that
    moves a wrong drawer or object earns 0. Sparse: 1.0 on success, else 0.

    ## Metrics (`info["task_metrics"]`)
    drawer_opening (the target drawer, fraction of its travel), progress (0-1), tcp_to_handle
    (m), gripping (0/1), wrong_object (0/1: another drawer moved a quarter of its travel, or
    the free object was held or lifted), other_drawers_moved (the most any other drawer moved,
    fraction of its travel). Safety: arena_contact, joint_limit.

    ## Success and Episode End
    Success: the named drawer within 0.1 of its travel of shut (Franka 1 cm, SO-100 6 mm),
    and no wrong object. `terminated` on success or on a wrong object. `truncated` after 200
    steps (10 s at 20 Hz).

    ## Starting State
    The arm's home pose with +-0.02 rad joint noise, gripper open. Two or three cabinets (12
    x 18 x 9 cm on the Franka, 0.6 of that on the SO-100, in eight colours) in the slots of
    a straight row facing the base, their pulls within the arm's reach shut and open; a slot
    no cabinet took holds a cup, mug or block seven times in ten. The target's drawer starts
    0.7-1.0 of its travel out, at least one other 0.5-1.0 out, the rest shut. The way the
    target is named (colour, place, relation) is drawn uniformly.

    ## Arguments
    `reward_type` ("dense", "sparse"); `instruction_set` ("train", default: six phrasings;
    "heldout": four paraphrases no default episode uses); and the common env arguments.

    ## Version History
    - v0: first release.
    """

    name = "close_drawer"
    summary = "close the drawer of the cabinet the instruction names (colour, place, relation)"
    instructions = INSTRUCTIONS
    goal = "close"

    def start_openings(self, rng: np.random.Generator, target: str,
                       others: list[str]) -> dict[str, float]:
        """The target open; at least one other open too, so the open one is not the answer."""
        openings = {target: float(rng.uniform(0.7, 1.0))}
        first = int(rng.integers(len(others)))
        for i, name in enumerate(others):
            is_open = i == first or rng.random() < OTHER_OPEN
            openings[name] = float(rng.uniform(0.5, 1.0)) if is_open else 0.0
        return openings


__all__ = ["CloseDrawer", "INSTRUCTIONS"]
