"""TIAGo's numbers for working from a stand in the indoor flat (MobilePickCup, the mobile
OpenDrawer: `envs/tasks/mobile_pick_cup_stand.mobile_layout` owns the schema and Fetch's
defaults). Plain data, so the robot's folder holds them without importing a task.

Why they differ from Fetch's (found by running the expert and looking at its episodes):
- The PAL gripper's frame: the fingers hang along -z of `gripper_link` and close along its
  x, so a level hand pointing along the base's heading (world x at yaw 0) closing across it
  (world y) has tool x = world y, tool y = world -z, tool z = world -x.
- The arm is long and its hand longer (the pads' centre 0.23 m past the wrist): a level
  hand half a metre ahead bends the elbow (arm_4) to its 135 deg stop and the wrist
  (arm_6) to its 90 deg stop, where the damped IK step stalls (at 0.5 m out, 3 of 100
  lifts from the nearest cups still stalled on the elbow stop). The base therefore stands
  0.55 m from a table edge (a cup 0.63-0.72 m ahead) and 0.75 m to pull a drawer (the pull
  0.69 m ahead shut, 0.57 m at the expert's 80 %), and the hand waits 0.65 m ahead.
- From its tuck the arm unfolds with the elbow out to the base's right (0.3 m beside the
  base's centre), so the stand keeps room on that side; no sidestep is needed (the shoulder
  is near the base's midline).
- The pads reach 0.055 m past the tool centre and the pull bar stands 0.053 m off the
  drawer front: the hand holds the bar 0.015 m back, so the pads' tips stay off the front.
"""

MOBILE = {
    "tool_rot": ((0.0, 0.0, -1.0), (1.0, 0.0, 0.0), (0.0, -1.0, 0.0)),
    "elbow_side": -1.0,
    "sidestep": 0.0,
    "standoff": 0.55,
    "drawer_standoff": 0.75,
    "ready_ahead": 0.65,
    "pull_back": 0.015,
}
