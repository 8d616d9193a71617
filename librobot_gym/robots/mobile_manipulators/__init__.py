"""Mobile manipulators (Fetch; TIAGo to come): a differential-drive base, a torso lift, a
head camera and an arm with a gripper, one folder each, registered with `register_robot`."""
