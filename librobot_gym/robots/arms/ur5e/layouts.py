"""The UR5e's numbers for each task it does (the tasks own the schemas): PickCup's cup, reset
patch, table, lift and the scripted expert's grasp (`envs/tasks/pick_cup_layouts.PickCupLayout`).
Plain data, so the robot's folder holds them without importing a task; a new task's layout is
one more dict here and one more entry in the spec's `task_layouts`."""

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
