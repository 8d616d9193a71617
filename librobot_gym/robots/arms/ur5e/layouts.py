"""The UR5e's numbers for each task it does (the tasks own the schemas): PickCup's cup, reset
patch, table, lift and the scripted expert's grasp (`envs/tasks/pick_cup_layouts.PickCupLayout`),
and the tabletop suite's (`envs/tasks/tabletop_layouts.TabletopLayout`). Plain data, so the
robot's folder holds them without importing a task; a new task's layout is one more dict here
and one more entry in the spec's `task_layouts`."""

from librobot_gym.robots.arms.common import TOOL_DOWN

# The 2F-85's pads open 0.085 m: a 66 mm cup leaves 9.5 mm to spare on each side. The arm
# reaches 0.85 m; the patch is where the tool reaches pointing straight down with the elbow
# up, from the table to the lift, well inside that reach (the Franka's patch, 0.05 m further).
PICK_CUP = dict(
    cup_radius=0.033,
    cup_half_height=0.05,
    cup_mass=0.15,
    handle_size=(0.008, 0.005, 0.025),
    handle_z=0.005,
    lift_success=0.10,
    cup_x_range=(0.40, 0.60),
    cup_y_range=(-0.20, 0.20),
    cup_start=(0.5, 0.0),
    table_centre_x=0.45,
    table_half_size=(0.65, 0.65),
    leg_offset=(0.6, 0.6),
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


# The tabletop suite (`envs/tasks/tabletop_layouts.TabletopLayout`): the Franka's reference
# numbers (the same reach, a parallel gripper of nearly the same stroke), the wrist camera
# moved to the 2F-85's longer fingers (the pads' middle 0.150 m from the gripper's base, the
# Franka's 0.103 m from its hand's).
TABLETOP = dict(
    object_scale=1.0,
    table_centre_x=0.45,
    table_half_size=(0.6, 0.7),
    leg_offset=(0.55, 0.65),
    place_x_range=(0.36, 0.6),
    place_y_range=(-0.22, 0.22),
    reach_x_range=(0.38, 0.58),
    reach_y_range=(-0.2, 0.2),
    clearance=0.04,  # a 2F-85 finger (22 mm) and its margin between any two objects
    room_half_size=(1.3, 1.2),
    room_centre=(0.35, 0.0),
    wall_height=2.2,
    cameras={
        # In front of the table, above it, looking down at the middle of the objects' patch.
        "front": dict(pos=(1.05, 0.0, 0.55), lookat=(0.42, 0.0, 0.04), fovy=42.0),
        # Behind the gripper (towards the base), looking forwards and down past the pads.
        "wrist": dict(pos=(-0.07, 0.0, 0.08), lookat=(0.02, 0.0, 0.25), fovy=65.0,
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
    # Pushing and pressing: the closed pads' bottom, 1.8 cm below the tool centre point (the
    # pads 3.6 cm long, centred on it), 2.2 x 2.4 cm across; 2.9 cm above them the finger
    # roots, 6.9 cm above them the gripper's 10 cm wide top plate.
    pusher_gripper=-1.0,
    pusher_offset=0.0,
    pusher_depth=0.018,
    pusher_half=0.012,
    # Letting go inside a bowl: the pads reach 1.8 cm below the tool centre point and open to
    # 10.9 cm across their outsides, where a bowl's slanted wall is 10.8 cm across at a held
    # block's pads: open 2 cm wider than the thing held (a cup's 6.6 cm opens fully).
    release_margin=0.02,
)
