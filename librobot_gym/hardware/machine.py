"""What a hydraulic machine's driver offers (`MachineDriver`) and what an instrumented site
reports (`SiteReport`). A machine is told valve (pilot) commands, not joint targets, so it has a
driver interface of its own beside the arms' joint-space `Driver`; the env side of a machine
(`envs/real/machine_backend.py`) drives it through the valve safety layer.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np

from librobot_gym.hardware.driver import RobotState, SceneReport, StandIn


@dataclass
class SiteReport(SceneReport):
    """What an instrumented site measures besides the machine, in the machine's frame at the
    start of the episode: the truck's pose (`object_pos` / `object_quat`), the material
    delivered into it (a weighbridge), spilled, and left in the piles (a survey), in kg."""

    delivered_kg: float = 0.0
    spilled_kg: float = 0.0
    pile_kg: float = 0.0


class MachineDriver(ABC):
    """One hydraulic machine behind its protocol. Every method may raise `DriverError`
    (`DriverDisconnected`, `RobotFault`, a typed signal error); `stop` never does.

    `read_state()` returns joint angles and rates in `robot.joints` order and `extras` with
    `pressure_pa` (net load pressure per joint, NaN where the machine has none, each such joint
    named in `not_available`), `machine_mode`, `engine_speed_rpm`, `hydraulic_oil_temp_c` and
    `faults` (active trouble codes, as text)."""

    name: str = "machine"
    stand_in: StandIn | None = None  # a real machine; an emulator says what it simulates

    @abstractmethod
    def connect(self) -> None:
        """Open the link (idempotent; after a disconnect it reconnects) or raise
        `DriverDisconnected` when the machine does not answer."""

    @abstractmethod
    def read_state(self) -> RobotState:
        """The latest measurement; never blocks for longer than a control period."""

    @abstractmethod
    def command(self, valves: np.ndarray) -> None:
        """Hold this command from now on (already checked by the safety layer): an excavator's
        six normalised pilot commands [boom, stick, bucket, swing, left track, right track]; a
        wheeled machine's [throttle, brake, articulation rad, gear, valve 1, valve 2]."""

    @abstractmethod
    def stop(self) -> None:
        """Centre every valve now (the load holds); a wheeled machine also brakes to a stop,
        in neutral, its steering held. Safe from any thread, more than once."""

    @abstractmethod
    def close(self) -> None:
        """Stop, then release the link."""

    def camera_frames(self, size: tuple[int, int]) -> dict[str, np.ndarray] | None:
        """Frames per camera where the driver has its own cameras."""
        return None

    def start_episode(self, seed: int | None) -> None:
        """A new episode begins (as `Driver.start_episode`): a lockstep stand-in restarts its
        simulated machine so the same seed replays the same episode; a machine does nothing."""
        return None

    # --- optional: instrumented sites --------------------------------------------------------
    def reset_scene(self, poses: dict[str, tuple[np.ndarray, np.ndarray]],
                    piles_kg: dict[str, float], base_pose=None, payload_kg: float = 0.0) -> bool:
        """Place the truck (`poses`: object -> (position, quaternion wxyz)) and the piles of
        these masses, and a wheeled machine at `base_pose` (x, y, yaw) with `payload_kg`
        aboard; False (the default) means a person sets the site up."""
        return False

    def scene(self) -> SiteReport | None:
        """What the site measures (truck pose, material), or None where nothing does."""
        return None
