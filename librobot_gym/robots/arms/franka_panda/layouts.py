"""The Franka's numbers for each task it does (the tasks own the schemas): PickCup's cup, reset
patch, table, lift and the scripted expert's grasp (`envs/tasks/pick_cup_layouts.PickCupLayout`).
Plain data, so the robot's folder holds them without importing a task."""

from librobot_gym.robots.arms.common import TOOL_DOWN

PICK_CUP = dict(
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

# The tabletop suite (`envs/tasks/tabletop_layouts.TabletopLayout`): the lab cell, the object
# set at full scale, where objects stand, the tabletop camera set and the grasping expert.
TABLETOP = dict(
    object_scale=1.0,
    table_centre_x=0.45,
    table_half_size=(0.6, 0.7),
    leg_offset=(0.55, 0.65),
    place_x_range=(0.36, 0.6),
    place_y_range=(-0.22, 0.22),
    reach_x_range=(0.38, 0.58),
    reach_y_range=(-0.2, 0.2),
    clearance=0.04,  # a Franka finger (2 cm) and its margin between any two objects
    room_half_size=(1.3, 1.2),
    room_centre=(0.35, 0.0),
    wall_height=2.2,
    cameras={
        # In front of the table, above it, looking down at the middle of the objects' patch:
        # the patch fills the lower two thirds, the arm the upper third.
        "front": dict(pos=(1.05, 0.0, 0.55), lookat=(0.42, 0.0, 0.04), fovy=42.0),
        # Behind the hand (towards the base), looking forwards and down past the fingertips:
        # both fingers low in the image, what is between them in the middle, the table ahead.
        "wrist": dict(pos=(-0.06, 0.0, 0.04), lookat=(0.02, 0.0, 0.2), fovy=65.0,
                      up=(1.0, 0.0, 0.0)),
    },
    tool_rot=TOOL_DOWN,
    hover_height=0.07,
    lift_success=0.10,
    lift_to=0.25,
    close_steps=6,
    approach_tolerance=0.008,
    grasp_tolerance=0.006,
    descend_abort=0.02,
    # Pushing and pressing: the closed fingers' tips, 1.1 cm below the tool centre point;
    # 2.8 cm above them the finger roots, 5.6 cm above them the hand, 20 cm across.
    pusher_gripper=-1.0,
    pusher_offset=0.0,
    pusher_depth=0.011,
    pusher_half=0.009,
)
