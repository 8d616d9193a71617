"""Robot descriptions: joints, actuators, control modes, proprioception, cameras, MJCF, per-task
layouts and the hardware binding, one folder per robot (`arms/franka_panda/`, `arms/so100/`,
`heavy/excavator/`), each registered with `register_robot`.

Robots know nothing of tasks' code, backends or drivers (they name driver specs as strings);
everything above may import from here.
"""

from librobot_gym.robots.registry import ROBOTS, get_robot, list_robots, register_robot
from librobot_gym.robots.spec import (
    ActionDim,
    BucketSpec,
    CameraSpec,
    ControlModeSpec,
    DiffDriveSpec,
    DrivetrainSpec,
    GripperSpec,
    HydraulicSpec,
    JointSpec,
    ProprioField,
    RobotSpec,
    TrackSpec,
    UpperBodySpec,
)

__all__ = [
    "ROBOTS", "get_robot", "list_robots", "register_robot", "ActionDim", "BucketSpec",
    "CameraSpec", "ControlModeSpec", "DiffDriveSpec", "DrivetrainSpec", "GripperSpec",
    "HydraulicSpec", "JointSpec", "ProprioField", "RobotSpec", "TrackSpec", "UpperBodySpec",
]
