"""Robot descriptions: joints, actuators, control modes, proprioception, cameras and MJCF assets.

Robots know nothing of tasks or backends; everything above may import from here.
"""

from librobot_gym.robots.arms.franka_panda import FRANKA_PANDA
from librobot_gym.robots.arms.so100 import SO100
from librobot_gym.robots.heavy.excavator import EXCAVATOR
from librobot_gym.robots.spec import (
    ActionDim,
    BucketSpec,
    CameraSpec,
    ControlModeSpec,
    GripperSpec,
    HydraulicSpec,
    JointSpec,
    ProprioField,
    RobotSpec,
    TrackSpec,
)

ROBOTS: dict[str, RobotSpec] = {spec.name: spec for spec in (FRANKA_PANDA, SO100, EXCAVATOR)}


def get_robot(name: str) -> RobotSpec:
    """The robot description registered under `name`."""
    from librobot_gym.errors import ConfigError

    try:
        return ROBOTS[name]
    except KeyError:
        raise ConfigError(
            f"unknown robot {name!r}; known robots: {', '.join(sorted(ROBOTS))}"
        ) from None


__all__ = [
    "ROBOTS", "get_robot", "ActionDim", "BucketSpec", "CameraSpec", "ControlModeSpec",
    "GripperSpec", "HydraulicSpec", "JointSpec", "ProprioField", "RobotSpec", "TrackSpec",
    "FRANKA_PANDA", "SO100", "EXCAVATOR",
]
