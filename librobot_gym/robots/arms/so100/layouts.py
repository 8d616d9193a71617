"""The SO-100's numbers for each task it does (the tasks own the schemas): PickCup at the arm's
scale (`envs/tasks/pick_cup_layouts.PickCupLayout`); its env's documentation is `pick_cup.md`.
Plain data, so the robot's folder holds them without importing a task."""

from librobot_gym.robots.arms.common import TOOL_DOWN

PICK_CUP = dict(
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
)

# The tabletop suite (`envs/tasks/tabletop_layouts.TabletopLayout`) at the SO-100's scale: the
# object set at 0.6 (a cup 36 mm across, as PickCup's), the patch its tool reaches pointing down.
TABLETOP = dict(
    object_scale=0.6,
    table_centre_x=0.2,
    table_half_size=(0.35, 0.45),
    leg_offset=(0.3, 0.4),
    place_x_range=(0.1, 0.27),
    place_y_range=(-0.16, 0.16),
    reach_x_range=(0.12, 0.22),
    reach_y_range=(-0.1, 0.1),
    clearance=0.025,
    room_half_size=(0.8, 0.8),
    room_centre=(0.15, 0.0),
    wall_height=1.6,
    cameras={
        "front": dict(pos=(0.55, 0.0, 0.3), lookat=(0.17, 0.0, 0.01), fovy=45.0),
        # In gripper_body's frame (x down the jaw, y towards the moving jaw, z forwards when
        # the tool points down): behind the jaw, looking down past its tips.
        "wrist": dict(pos=(-0.01, 0.03, -0.06), lookat=(0.12, 0.02, 0.01), fovy=60.0,
                      up=(0.0, 0.0, 1.0)),
    },
    tool_rot=TOOL_DOWN,
    hover_height=0.04,
    lift_success=0.05,
    lift_to=0.08,
    close_steps=8,
    approach_tolerance=0.006,
    grasp_tolerance=0.005,
    descend_abort=0.008,
    jaw_offset_open=-0.005,
    jaw_offset_close=0.002,
    settle_step=0.002,
    # Pushing and pressing with the jaw closed: the jaws' tips, 3.4 cm below the tool centre
    # point (the moving jaw's; the fixed one's 2.2 cm), 2.3 cm along the tool's y; the rest
    # of the hand stays within 3 cm of them or 4.5 cm above.
    pusher_gripper=-1.0,
    pusher_offset=0.023,
    pusher_depth=0.034,
    pusher_half=0.011,
)
