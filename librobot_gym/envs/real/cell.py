"""What every real backend shares, whatever it commands (joint targets, valves): the control
period's clock, the cell's cameras, the operator's label and an orderly close (the safety layer
first, so the robot is stopped, then the link and the cameras)."""

from __future__ import annotations

import time

import numpy as np

from librobot_gym.errors import ConfigError
from librobot_gym.hardware.console import EpisodeLabel
from librobot_gym.hardware.driver import lockstep_advance
from librobot_gym.hardware.drivers import make_driver
from librobot_gym.scene import Cell


def connect_driver(driver, robot, task):
    """`driver` itself, or the driver its spec names (a stand-in that simulates the world gets
    the task's cell); ConfigError naming the robot's own driver specs when there is none."""
    if driver is None:
        stand_in = f", or its stand-in {robot.stand_in!r}" if robot.stand_in else ""
        raise ConfigError(f"a real env of {robot.name!r} needs driver=...: one of "
                          f"{', '.join(repr(d) for d in robot.drivers)}{stand_in}")
    if isinstance(driver, str):
        return make_driver(driver, robot, scene=Cell.of(task))
    return driver


class CellBackend:
    """Base of `RealBackend` (arms) and `MachineBackend` (hydraulic machines). Subclasses set
    `driver`, `safety`, `cameras`, `operator` and `control_dt`."""

    material = None  # no simulated terrain
    missed_deadlines = 0
    _deadline = 0.0

    def check_cameras(self, robot) -> None:
        """ConfigError unless every camera the robot's observation has gets frames from the
        cell (`cameras=`) or from the driver (a twin renders its own)."""
        own = self.driver.camera_frames((8, 8)) or {}
        missing = [c.name for c in robot.cameras if c.name not in self.cameras
                   and c.name not in own]
        if missing:
            raise ConfigError(f"cameras {missing} have no source: pass cameras={{name: device "
                              f"index, stream URL or FrameSource}} for each of "
                              f"{[c.name for c in robot.cameras]} (CLI: --camera NAME=SOURCE)")

    def _next_period(self) -> None:
        """Let a lockstep stand-in (a twin, an emulator) run one control period, else wait the
        period out on the clock."""
        if not lockstep_advance(self.driver, self.control_dt):
            self._wait_for_period()

    def _wait_for_period(self) -> None:
        now = time.monotonic()
        if now < self._deadline:
            time.sleep(self._deadline - now)
            self._deadline += self.control_dt
        else:  # late: count it and restart the schedule from now
            self.missed_deadlines += 1
            self._deadline = now + self.control_dt

    def images(self, size: tuple[int, int]) -> dict[str, np.ndarray]:
        """The driver's own frames (a twin renders them), then the cell's cameras."""
        frames = dict(self.driver.camera_frames(size) or {})
        for name, camera in self.cameras.items():
            frames[name] = camera.read(size)
        return frames

    def label(self, instruction: str) -> EpisodeLabel:
        """The operator's verdict at the end of an episode the cell cannot judge."""
        self.safety.end_episode()
        return self.operator.label(instruction)

    def close(self) -> None:
        try:
            self.safety.close()
        finally:
            self.driver.close()
            for camera in self.cameras.values():
                camera.close()
