"""External shoves in simulation: a task's `Push`es (`TaskReset.pushes`) applied as a
constant force at a body's centre of mass (`xfrc_applied`) over whole control steps, the
way a push stick or a perturbation cart shoves a humanoid on a test stand."""

from __future__ import annotations

import mujoco
import numpy as np

from librobot_gym.envs.tasks.base import Push
from librobot_gym.errors import ConfigError


class Pushes:
    """The episode's schedule; `apply(time, dt)` before each control step's physics sets the
    forces of the pushes active during [time, time + dt) and clears the rest."""

    def __init__(self, model: mujoco.MjModel, data: mujoco.MjData):
        self.model, self.data = model, data
        self._schedule: list[tuple[float, float, int, np.ndarray]] = []
        self._bodies: set[int] = set()

    def reset(self, pushes: tuple[Push, ...]) -> None:
        self._clear()
        schedule = []
        for push in pushes:
            try:
                body = self.model.body(push.body).id
            except KeyError:
                raise ConfigError(f"a push names body {push.body!r}, which the model has "
                                  f"not; push one of the robot's bodies") from None
            schedule.append((push.start, push.start + push.duration, body,
                             np.asarray(push.force, dtype=np.float64)))
        self._schedule = schedule

    @property
    def active(self) -> bool:
        return bool(self._schedule)

    def apply(self, time: float, dt: float) -> None:
        """Forces for the control step starting at `time`: a push acts on the steps whose
        middle lies inside its window (so a 0.1 s push at 50 Hz acts on 5 steps)."""
        self._clear()
        middle = time + dt / 2
        for start, end, body, force in self._schedule:
            if start <= middle < end:
                self.data.xfrc_applied[body, :3] += force
                self._bodies.add(body)

    def _clear(self) -> None:
        for body in self._bodies:
            self.data.xfrc_applied[body] = 0.0
        self._bodies.clear()
