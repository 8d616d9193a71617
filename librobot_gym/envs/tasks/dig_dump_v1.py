"""DigDump v1: the excavator loads the articulated hauler, parked, instead of v0's truck bed.

The hauler is the hauler robot's model standing still: its visible parts (dump body, frames,
cab, six wheels) as one fixed scene object at the MJCF's rest pose, measured off
`robots/heavy/hauler/hauler.xml` (a test compiles the MJCF and checks the body's floor,
walls and wheels against these parts). Its body is the dump zone, its payload sensing the
mass delivered there, and the heap is drawn as it grows. Everything else is DigDump v0's: the
pile, the targets, the rewards, the metrics and the scripted operator, which swings back to
the pile with the bucket 0.6 m higher (v0 stays frozen).
"""

from __future__ import annotations

import math

import numpy as np

from librobot_gym.envs.tasks.base import DumpZone, ObjectPart, SceneObject
from librobot_gym.envs.tasks.dig_dump import PILE, DigDump
from librobot_gym.envs.tasks.registry import register_task
from librobot_gym.scene import OUTDOOR_SKY

# The hauler at rest, in a frame at the dump body's inner centre on the ground, +x towards
# the tractor unit (the MJCF's hinge is 3.25 m ahead of that centre, its wheels 0.8 m up).
HINGE_X = 3.25
BODY_HALF = (2.75, 1.37)  # m, inside the walls
BODY_FLOOR_Z = 1.65  # m above the ground
BODY_WALL_Z = 2.8  # m, the side walls' top
# m, the delivered heap's box: its top at the floor when empty, hidden in the body's
# underside (it rises at most 0.5 m: 7.4 m^3, 12.6 t)
HEAP_HALF = (2.7, 1.35, 0.25)
WHEELS_X = (HINGE_X + 1.9, HINGE_X - 3.9, HINGE_X - 5.6)  # front, bogie front, bogie rear
TREAD_HALF = 1.15
YELLOW, DARK = (0.96, 0.72, 0.08, 1.0), (0.18, 0.18, 0.18, 1.0)
GLASS, TYRE = (0.35, 0.55, 0.7, 1.0), (0.1, 0.1, 0.1, 1.0)


def parked_hauler() -> SceneObject:
    """The hauler's visible geoms at rest, fixed; the body's plates and the cab collide."""
    body = dict(collide=True, name="hauler_body", rgba=(0.93, 0.68, 0.08, 1.0))
    hx = HINGE_X
    parts = (
        ObjectPart("box", (2.8, 1.45, 0.05), (0.0, 0.0, 1.6), **body),
        ObjectPart("box", (2.8, 0.05, 0.6), (0.0, 1.42, 2.2), **body),
        ObjectPart("box", (2.8, 0.05, 0.6), (0.0, -1.42, 2.2), **body),
        ObjectPart("box", (0.05, 1.47, 0.75), (2.77, 0.0, 2.35), **body),
        ObjectPart("box", HEAP_HALF, (0.0, 0.0, BODY_FLOOR_Z - HEAP_HALF[2]),
                   rgba=PILE.rgba),
        ObjectPart("box", (2.8, 1.45, 0.25), (0.0, 0.0, 1.35), rgba=body["rgba"]),  # underside
        ObjectPart("box", (2.8, 0.45, 0.2), (hx - 3.5, 0.0, 1.1), rgba=YELLOW),  # trailer
        ObjectPart("box", (0.45, 0.3, 0.25), (hx - 0.45, 0.0, 1.0), rgba=DARK),  # hitch
        ObjectPart("box", (1.5, 0.55, 0.3), (hx + 1.2, 0.0, 1.0), rgba=YELLOW),  # chassis
        ObjectPart("box", (0.75, 0.7, 0.35), (hx + 2.5, 0.0, 1.6), rgba=YELLOW),  # hood
        ObjectPart("box", (0.6, 0.75, 0.8), (hx + 1.05, 0.0, 2.4), rgba=YELLOW,
                   collide=True, name="hauler_cab"),
        ObjectPart("box", (0.02, 0.68, 0.5), (hx + 1.66, 0.0, 2.6), rgba=GLASS),
    ) + tuple(
        ObjectPart("cylinder", (0.8, 0.3), (x, y, 0.8), quat=(0.7071068, 0.7071068, 0.0, 0.0),
                   rgba=TYRE)
        for x in WHEELS_X for y in (-TREAD_HALF, TREAD_HALF)
    )
    # The object's own geom: a hidden marker on the ground at the body's centre.
    return SceneObject("hauler", "box", (0.1, 0.1, 0.01), (0.0, 12.0, 0.0), DARK, parts=parts,
                       collide=False, visible=False)


HEAP_GEOM = "hauler_part4"


@register_task("dig_dump_v1")
class DigDumpV1(DigDump):
    """
    ## Description
    `librobot/Excavator-DigDump-v1`: DigDump with the articulated hauler as the truck. The
    20-tonne excavator digs loose earth from the pile in front of it and loads a parked
    28-tonne articulated hauler (the `hauler` robot's model at rest: dump body 5.5 x 2.75 m
    inside, floor 1.65 m up, walls to 2.8 m) until the instructed tonnage is in its body
    ("load the truck with 3 tonnes from the pile"). What lands in the body is its payload
    (the heap is drawn as it grows).

    ## Action Space, Observation Space, Rewards, Metrics
    As `librobot/Excavator-DigDump-v0` (`librobot envs --doc librobot/Excavator-DigDump-v0`):
    `hydraulic` pilots for boom, stick, bucket, swing and the tracks; `truck_pose` in the
    state is the hauler body's centre and yaw; the same dense and sparse rewards and
    metrics. `info["safety"]`: tip_over_risk, cab_contact (on the hauler's cab),
    truck_contact (on its body), joint_limit.

    ## Success and Episode End
    Success when the hauler's body holds >= target. `terminated` on success or when the
    excavator tips (margin < 0); `truncated` after 1,200 steps (120 s at 10 Hz).

    ## Starting State
    The pile as v0's; the hauler's body centre 6.0-6.8 m away at a bearing of 77-103 deg to
    the left, side-on (its tractor unit ahead, counter-clockwise); the target 2-4 t.

    ## Version History
    - v1: the parked articulated hauler replaces v0's truck (v0 stays as released).
    """

    name = "dig_dump_v1"
    summary = "dig from the pile and load the parked articulated hauler with N tonnes"

    def scene(self) -> list:
        return [OUTDOOR_SKY, PILE, parked_hauler(),
                DumpZone("hauler_body", "hauler", BODY_HALF, BODY_FLOOR_Z,
                         load_geom=HEAP_GEOM)]

    def reset(self, rng: np.random.Generator):
        drawn = super().reset(rng)
        # v0 places its truck's origin from its bed's offset; the hauler's origin is its
        # body's centre.
        yaw = self.truck_yaw
        bed = self.truck_distance * np.array([math.cos(self.truck_bearing),
                                              math.sin(self.truck_bearing)])
        drawn.poses = {"hauler": (np.array([bed[0], bed[1], 0.0]),
                                  np.array([math.cos(yaw / 2), 0.0, 0.0, math.sin(yaw / 2)]))}
        return drawn

    def make_expert(self):
        from librobot_gym.envs.tasks.dig_dump_expert import DigDumpExpert

        class OverTheHauler(DigDumpExpert):
            """v0's operator, swinging back higher: the hauler's walls stand 0.4 m taller
            than the truck bed's, and the bucket's lip grazed them at v0's 3.8 m."""

            return_pin = (6.0, 4.4)

        return OverTheHauler(self)

    def safety(self, state) -> dict[str, bool]:
        contacts = state.robot_contacts
        return {
            "tip_over_risk": super().safety(state)["tip_over_risk"],
            "cab_contact": "hauler_cab" in contacts,
            "truck_contact": bool(contacts & {"hauler", "hauler_body"}),
            "joint_limit": state.near_joint_limit,
        }
