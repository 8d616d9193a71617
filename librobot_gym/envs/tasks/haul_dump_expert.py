"""A scripted hauler driver for HaulDump, acting on privileged state.

It drives as an operator does: follow the route (start, the ramp's crest, the stop point
beyond the bay) with the tractor unit pointed at a carrot ahead on it (an articulated machine
follows its front frame as a trailer follows its tractor), at a speed that lets it stop with
a comfortable deceleration where the body's lip stands over the bay's centre; brake, raise
the body until it is empty, lower it, hold the brake.
"""

from __future__ import annotations

import math

import numpy as np

from librobot_gym.envs.tasks.base import WorldState
from librobot_gym.envs.tasks.load_hauler_expert import LoadHaulerExpert, wrap

HINGE_TO_FRONT_AXLE = 1.9  # m (the MJCF's)
CARROT = 9.0  # m ahead on the route
CRUISE = 8.0  # m/s (29 km/h) on the road
DECELERATION = 1.0  # m/s^2 planned for the stop
CREEP = 0.6  # m/s over the last metre
EMPTY = 0.01  # of the load left in the body: tipping is done


class HaulDumpExpert:
    """Phases: drive, stop, raise, lower, done."""

    def __init__(self, task):
        self.task = task
        self.reset()

    def reset(self) -> None:
        self.phase = "drive"
        self.timer = 0

    def _steer(self, x: dict, articulation: float) -> float:
        """Articulation that points the tractor unit from its front axle at the carrot."""
        route = self.task.route
        hinge = (x["base_x"], x["base_y"])
        along, _ = route.project(hinge)
        carrot = route.at(along + CARROT)
        yaw = x["base_yaw"]
        axle = (hinge[0] + HINGE_TO_FRONT_AXLE * math.cos(yaw),
                hinge[1] + HINGE_TO_FRONT_AXLE * math.sin(yaw))
        bearing = math.atan2(carrot[1] - axle[1], carrot[0] - axle[0])
        trailer_yaw = yaw - articulation
        limit = self.task.robot.drivetrain.max_articulation
        return float(np.clip(wrap(bearing - trailer_yaw), -limit, limit))

    def _lip_to_go(self, lip: np.ndarray) -> float:
        """m the lip still has to travel along the bay's axis to reach the bay's centre."""
        yaw = self.task.bay_yaw
        return float((self.task.bay_centre - lip[:2]) @ np.array([math.cos(yaw),
                                                                  math.sin(yaw)]))

    def act(self, state: WorldState) -> np.ndarray:
        x = state.extras
        q = state.joint_pos  # articulation, hoist
        speed = x["ground_speed"]
        self.timer += 1
        hold = (0.0, 1.0, 0.0)
        if self.phase == "drive":
            to_go = self._lip_to_go(state.ee_pos)
            target = min(CRUISE, math.sqrt(2.0 * DECELERATION * max(to_go - 1.0, 0.0)) + CREEP)
            if to_go <= 0.15:
                self.phase, self.timer = "stop", 0
                return self._action(hold, q[0], 0.0)
            return self._action(LoadHaulerExpert._drive(speed, target), self._steer(x, q[0]),
                                0.0)
        if self.phase == "stop":
            if abs(speed) < 0.05 or self.timer > 40:
                self.phase, self.timer = "raise", 0
            return self._action(hold, q[0], 0.0)
        if self.phase == "raise":
            empty = x["payload_kg"] <= EMPTY * self.task.loaded_kg
            if empty or self.timer > 400:
                self.phase, self.timer = "lower", 0
            return self._action(hold, q[0], 1.0)
        if self.phase == "lower":
            if q[1] < 0.02:
                self.phase, self.timer = "done", 0
            return self._action(hold, q[0], -1.0)
        return self._action(hold, q[0], 0.0)

    def _action(self, drive, articulation: float, body: float) -> np.ndarray:
        """Physical drive command and a body valve fraction -> the normalised action of
        `drive+dump`."""
        throttle, brake, direction = drive
        spec = self.task.robot.control_modes["drive+dump"]
        physical = np.array([throttle, brake, articulation, direction,
                             body * spec.dims[4].high])
        return np.clip(spec.to_normalised(physical), -1.0, 1.0).astype(np.float32)
