"""PickCup at each arm's scale: the cup, its reset patch, the table, the lift and the grasp.

The task is one (lift the named cup off the table and hold it); what changes with the arm is
its size. A `PickCupLayout` holds every number that scales: chosen from the robot's name, with
the Franka's layout (the task's original numbers) for any other arm. Each layout carries the
Markdown documentation of its env (`librobot envs --doc <id>`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Tool pointing straight down, its y axis along world -y: the Franka's fingers close along
# world y; the SO-100's moving jaw closes towards world -y onto the fixed jaw.
TOOL_DOWN = np.diag([1.0, -1.0, -1.0])


@dataclass(frozen=True)
class PickCupLayout:
    """Every number of PickCup that scales with the arm (m, kg, base frame)."""

    cup_radius: float
    cup_half_height: float
    cup_mass: float
    handle_size: tuple[float, float, float]  # half extents of the (visual) handle box
    handle_z: float  # its height above the cup centre
    lift_success: float  # m above the rest height, while held
    cup_x_range: tuple[float, float]  # reset patch of the cup centre
    cup_y_range: tuple[float, float]
    cup_start: tuple[float, float]  # where the scene puts the cup before any reset
    table_centre_x: float  # the table top is z = 0, 0.025 m thick, on a floor 0.75 m below
    table_half_size: tuple[float, float]
    leg_offset: tuple[float, float]  # legs at (centre x +- dx, +- dy)
    # The scripted expert: tool orientation, hover, grasp and closing points (world offsets
    # from the cup centre), how long it closes the gripper, how high it lifts (above the rest
    # height), how close (m) it must be to move on, how far off (m) a descent is aborted, and
    # how little (m) the tool may have moved in the last step to start one (0: no check).
    tool_rot: np.ndarray
    hover_offset: tuple[float, float, float]
    grasp_offset: tuple[float, float, float]
    close_offset: tuple[float, float, float]
    close_steps: int
    lift_to: float
    approach_tolerance: float
    grasp_tolerance: float
    descend_abort: float
    settle_step: float = 0.0
    doc: str | None = None  # the env's documentation; None: the PickCup class docstring


FRANKA = PickCupLayout(
    cup_radius=0.03,  # fits the Franka Hand's 0.08 m stroke with 1 cm to spare per side
    cup_half_height=0.05,
    cup_mass=0.15,
    handle_size=(0.008, 0.005, 0.025),
    handle_z=0.005,
    lift_success=0.10,
    cup_x_range=(0.42, 0.62),
    cup_y_range=(-0.18, 0.18),
    cup_start=(0.5, 0.0),
    table_centre_x=0.45,
    table_half_size=(0.6, 0.6),
    leg_offset=(0.55, 0.55),
    tool_rot=TOOL_DOWN,
    hover_offset=(0.0, 0.0, 0.12),
    grasp_offset=(0.0, 0.0, 0.01),  # pads a little above the cup centre
    close_offset=(0.0, 0.0, 0.01),
    close_steps=6,  # 0.3 s at 20 Hz for the fingers to close
    lift_to=0.25,
    approach_tolerance=0.008,
    grasp_tolerance=0.006,
    descend_abort=0.02,
)

SO100_DOC = """
    ## Description
    `librobot/SO100-PickCup-v0`: an SO-100 (SO-ARM100) desktop arm picks up the cup the
    instruction names (by its colour) and holds it 5 cm above the table: PickCup at the
    SO-100's scale (a 36 mm cup, a 0.08 x 0.16 m reset patch, half the Franka's lift).

    ## Action Space
    `control_mode="ee_delta_pose"` (default), `Box(-1, 1, (7,))`:

    | index | name                    | unit | -1 / +1                                   |
    |-------|-------------------------|------|-------------------------------------------|
    | 0-2   | dx dy dz                | m    | -0.015 / +0.015 tool translation per step |
    | 3-5   | droll_x dpitch_y dyaw_z | rad  | -0.15 / +0.15 tool rotation per step      |
    | 6     | gripper                 | -    | -1 closed, +1 open (0.06 m)               |

    Five joints cannot meet every 6-D delta: the IK step weights orientation 0.15 m/rad
    against position, so the tool goes where it is sent and turns as far as it can.
    `control_mode="joint_pos"`: 5 absolute joint targets (shoulder_pan, shoulder_lift,
    elbow_flex, wrist_flex, wrist_roll) scaled to the joint limits, then the gripper.

    ## Observation Space
    `rgb` (default): `front` and `wrist` cameras, proprioception, instruction. Proprioception
    (18): joint_pos (5, rad), joint_vel (5, rad/s), gripper_opening (1, m, between the jaw
    pads), ee_pos (3, m), ee_quat (4, wxyz). `state` adds cup_pos (3), cup_quat (4),
    cup_to_tcp (3).

    ## Rewards
    Dense (default): 0.25 reach + 0.25 held + 0.45 lift progress, 1.0 on success.
    Sparse: 1.0 on success, else 0.

    ## Metrics (`info["task_metrics"]`)
    lift_height (m), tcp_to_cup (m), grasped (0/1). `info["safety"]`: arena_contact (a robot
    link other than the jaw pads touches the table or floor), joint_limit.

    ## Success and Episode End
    Success when the cup is held between both jaw pads at least 0.05 m above its rest height.
    `terminated` on success or failure (cup off the table, or knocked over and not held);
    `truncated` after 200 steps (10 s at 20 Hz).

    ## Starting State
    The arm's home pose (tool pointing down 0.10 m above the table) with +-0.02 rad joint
    noise, jaw open; a 36 mm x 60 mm, 50 g cup uniformly on a 0.08 x 0.16 m patch in front of
    the base (x 0.12-0.20 m, y -0.08-0.08 m), with a random yaw and one of six colours.

    ## Arguments
    `reward_type`, and the common env arguments.

    ## Version History
    - v0: first release (MuJoCo 3.11, 20 Hz control, 2.5 ms physics step; STS3215 servo model).
    """

SO100 = PickCupLayout(
    # 36 mm: held where the jaw's pads are (nearly) parallel, 0.036 of its 0.06 m opening.
    cup_radius=0.018,
    cup_half_height=0.03,
    cup_mass=0.05,
    handle_size=(0.005, 0.004, 0.015),
    handle_z=0.003,
    lift_success=0.05,
    # The Franka's patch scaled by the reach (0.4 / 0.855 m): where the tool reaches pointing
    # straight down, from the table up to the lift.
    cup_x_range=(0.12, 0.20),
    cup_y_range=(-0.08, 0.08),
    cup_start=(0.16, 0.0),
    table_centre_x=0.2,
    table_half_size=(0.35, 0.45),
    leg_offset=(0.3, 0.4),
    tool_rot=TOOL_DOWN,
    # Going down, 5 mm towards the fixed jaw (world -y), so both pads clear the cup by 7 mm;
    # closing, the fixed pad on the cup's side while the moving jaw pushes the cup onto it.
    hover_offset=(0.0, -0.005, 0.07),
    grasp_offset=(0.0, -0.005, 0.004),
    close_offset=(0.0, 0.002, 0.004),
    close_steps=8,
    lift_to=0.08,
    approach_tolerance=0.006,
    grasp_tolerance=0.005,
    # The pads clear the cup by 7 mm: descend only once the arm has settled over it.
    descend_abort=0.008,
    settle_step=0.002,
    doc=SO100_DOC,
)

LAYOUTS: dict[str, PickCupLayout] = {"franka_panda": FRANKA, "so100": SO100}


def layout_for(robot_name: str) -> PickCupLayout:
    """The layout made for this arm, or the Franka's (the task's original scale)."""
    return LAYOUTS.get(robot_name, FRANKA)
