"""What a mobile robot's driver offers (`MobileDriver`): a base told twists, and, on a mobile
manipulator, an arm, a torso and a gripper told positions. Like `MachineDriver` for hydraulic
machines, it sits beside the arms' joint-space `Driver`; the env side
(`envs/real/mobile_backend.py`) drives it through `MobileSafetyLayer` (`mobile_safety.py`).

`read_state()` returns the arm's joints in `robot.joints` order (a base without an arm: its
wheels' angles), their rates, the gripper opening, and `extras`: `odom` [x m, y m, yaw rad] in
the robot's odometry frame, `twist` [forward m/s, yaw rate rad/s] measured, `wheel_vel` rad/s in
the `DiffDriveSpec`'s wheel order, `lidar` m per beam of the robot's scanner (its
`lidar_beams` over `lidar_fov`), `torso` m and `head` [pan, tilt] rad where it has them.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np

from librobot_gym.hardware.driver import RobotState, SceneReport, StandIn


class MobileDriver(ABC):
    """One mobile robot behind its protocol. Every method may raise `DriverError`; `stop`
    never does."""

    name: str = "mobile"
    stand_in: StandIn | None = None
    has_arm: bool = False  # True: `command` takes arm, torso and gripper targets

    @abstractmethod
    def connect(self) -> None:
        """Open the link (idempotent; after a drop it reconnects) or raise
        `DriverDisconnected`."""

    @abstractmethod
    def read_state(self) -> RobotState:
        """The latest state (module doc); never blocks for longer than a control period."""

    @abstractmethod
    def command(self, twist: np.ndarray, arm: np.ndarray | None = None,
                torso: float | None = None, gripper: float | None = None) -> None:
        """Drive at `twist` [m/s, rad/s] and move the arm (rad, `robot.joints` order), the
        torso (m) and the gripper (opening m) to these targets within a control period.
        Already checked by the safety layer; None leaves a part alone."""

    @abstractmethod
    def move_to(self, arm: np.ndarray | None, torso: float | None, gripper: float | None,
                timeout: float) -> None:
        """Blocking move of the upper body to a posture (homing between episodes), slowly; the
        base stands still."""

    @abstractmethod
    def stop(self) -> None:
        """A zero twist now and every trajectory cancelled. Safe from any thread, any time."""

    @abstractmethod
    def close(self) -> None:
        """Stop, then release the link."""

    def start_episode(self, seed: int | None) -> None:
        """A new episode (as `Driver.start_episode`): a lockstep stand-in restarts its robot."""
        return None

    def reset_scene(self, poses: dict[str, tuple[np.ndarray, np.ndarray]],
                    colours: dict[str, tuple[float, ...]],
                    base_pose: tuple[float, float, float] | None = None) -> bool:
        """Place the task's objects and the robot at `base_pose` (x, y, yaw, world); False
        (the default) means a person has to do it."""
        return False

    def scene(self) -> SceneReport | None:
        """Object poses if something measures them, else None."""
        return None

    def camera_frames(self, size: tuple[int, int]) -> dict[str, np.ndarray] | None:
        return None
