"""The humanoids' walking controller (the `base_velocity` mode's law): per-robot parameters
(`layout.py`), leg kinematics and inverse kinematics (`kinematics.py`), and the capture-point
footstep law (`gait.py`). Pure numpy: robots may not import backends."""

from librobot_gym.robots.humanoids.walking.gait import WalkingController, WalkState
from librobot_gym.robots.humanoids.walking.kinematics import LegChain
from librobot_gym.robots.humanoids.walking.layout import (
    WalkLayout,
    base_velocity_mode,
    register_walk_layout,
    walk_layout_for,
)

__all__ = ["LegChain", "WalkLayout", "WalkState", "WalkingController", "base_velocity_mode",
           "register_walk_layout",
           "walk_layout_for"]
