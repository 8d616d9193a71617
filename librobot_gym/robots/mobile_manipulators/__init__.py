"""Mobile manipulators (Fetch, TIAGo): a differential-drive base, a torso lift, a head camera
and an arm with a gripper, one folder each, registered with `register_robot`; `common.py`
builds their shared control modes and proprioception from each robot's figures."""
