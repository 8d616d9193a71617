"""A scripted wheel-loader operator for LoadHauler, acting on privileged state.

It works the V-cycle an operator does: plan the pass from the material heights (the lane into
the pile with the most material), drive in with the bucket flat on the ground, crowd (lift so
the cutting edge keeps a set depth under the surface while pushing), rack back, reverse out
turning towards the hauler, drive to it raising the arms, dump over the side, reverse out
turning back to the pile. Steering: forward, the front frame is pointed at a carrot on the
lane (an articulated machine follows its front frame as a trailer follows its tractor);
reversing, the articulation turns the machine to the heading the next leg starts on.
"""

from __future__ import annotations

import math

import numpy as np

from librobot_gym.envs.tasks.base import WorldState

# Machine geometry (must match robots/heavy/wheel_loader/wheel_loader.xml).
HINGE_TO_FRONT_AXLE = 1.675  # m
MAX_ARTICULATION = 0.7  # rad
# Dumping at full lift the cutting edge is ~2.24 m ahead of the front axle: the axle stops
# STOP_OFFSET from the body's centre line, the edge lands ~0.6 m short of it.
STOP_OFFSET = 2.85  # m
FULL_LIFT, CARRY_LIFT = 1.08, 0.25  # rad
CARRY_PITCH, DUMP_PITCH = 0.65, -0.95  # rad, bucket attitude against the frame
CUT_DEPTH = 0.45  # m of the cutting edge under the surface while crowding
LANES = np.arange(-2.0, 2.01, 0.5)  # m, lateral offsets of the candidate lanes into the pile
RUN_UP = 4.0  # m between the cutting edge and the face when the approach starts
CARROT = 4.0  # m ahead on the lane
DEADBAND = 0.05


def wrap(angle: float) -> float:
    return (angle + math.pi) % (2.0 * math.pi) - math.pi


def valve(error: float, gain: float, limit: float) -> float:
    """A proportional valve command (physical units) that steps over the 5% deadband."""
    magnitude = min(abs(gain * error) / limit, 1.0)
    if abs(error) < 0.01:
        return 0.0
    return math.copysign((DEADBAND + (1.0 - DEADBAND) * magnitude) * limit, error)


class LoadHaulerExpert:
    """Phases: approach, fill, rack, reverse_out, to_hauler, dump, reverse_away."""

    def __init__(self, task):
        self.task = task
        self.reset()

    def reset(self) -> None:
        self.phase = "plan"
        self.lane, self.face = 0.0, 9.0
        self.timer = 0
        self.stalled = 0

    # --- planning ------------------------------------------------------------------------------
    def _plan(self, state: WorldState) -> None:
        """The lane with the most material within 3 m of its face (ties: the middle one)."""
        terrain, width = state.terrain, self.task.robot.bucket.width
        xs = np.arange(4.0, 22.0, 0.25)
        best = None
        for lane in LANES:
            strip = [np.array([terrain.height_at(x, lane + dy) for x in xs])
                     for dy in (-width / 3, 0.0, width / 3)]
            middle = strip[1]
            present = np.nonzero(middle > 0.3)[0]
            if not len(present):
                continue
            face = xs[present[0]]
            ahead = (xs >= face) & (xs < face + 3.0)
            volume = float(sum(np.minimum(h[ahead], 1.5).sum() for h in strip))
            score = volume - 0.05 * abs(lane)
            if best is None or score > best[0]:
                best = (score, lane, face)
        if best is not None:
            _, self.lane, self.face = best

    # --- geometry ------------------------------------------------------------------------------
    def _body_frame(self) -> tuple[np.ndarray, np.ndarray]:
        """The body's centre and the unit normal of its side that faces the V's vertex."""
        centre = self.task.body_centre
        yaw = self.task.body_yaw
        normal = np.array([-math.sin(yaw), math.cos(yaw)])
        if normal @ (np.array(self.task.vertex) - centre) < 0:
            normal = -normal
        return centre, normal

    # --- low-level helpers ---------------------------------------------------------------------
    @staticmethod
    def _drive(speed: float, target: float) -> tuple[float, float, float]:
        """(throttle, brake, direction) towards a signed target speed (0: stop and hold)."""
        if target == 0.0:
            return 0.0, 1.0, 0.0
        sign = 1.0 if target > 0 else -1.0
        along = speed * sign
        if along < -0.2:  # still rolling the other way: brake first
            return 0.0, 1.0, 0.0
        error = abs(target) - along
        throttle = min(max(0.3 + 0.5 * error, 0.0), 1.0) if error > -0.2 else 0.0
        brake = min(max(-0.5 * (error + 0.3), 0.0), 1.0)
        return throttle, brake, sign

    @staticmethod
    def _linkage(q: np.ndarray, lift: float, pitch: float) -> tuple[float, float]:
        """Lift and tilt valve commands towards an arm angle and a bucket attitude."""
        return (valve(lift - q[1], 1.5, 0.2), valve(pitch - (q[1] + q[2]), 3.0, 1.0))

    @staticmethod
    def _aim_front(pose: tuple[float, float, float], q: np.ndarray, target) -> float:
        """Articulation that points the front frame from its axle at `target`."""
        x, y, yaw = pose
        heading = yaw + q[0]
        axle = (x + HINGE_TO_FRONT_AXLE * math.cos(heading),
                y + HINGE_TO_FRONT_AXLE * math.sin(heading))
        bearing = math.atan2(target[1] - axle[1], target[0] - axle[0])
        return float(np.clip(wrap(bearing - yaw), -MAX_ARTICULATION, MAX_ARTICULATION))

    @staticmethod
    def _turn_reversing(yaw: float, heading: float) -> float:
        """Articulation that turns a reversing machine towards `heading`: reversing with the
        front frame turned right (-) swings the machine's heading left (+)."""
        return float(np.clip(-1.5 * wrap(heading - yaw), -MAX_ARTICULATION, MAX_ARTICULATION))

    # --- acting --------------------------------------------------------------------------------
    def act(self, state: WorldState) -> np.ndarray:
        x = state.extras
        if x["delivered_kg"] >= self.task.target_kg:
            return self._action((0.0, 1.0, 0.0), 0.0, (0.0, 0.0))
        q = state.joint_pos  # articulation, lift, tilt
        pose = (x["base_x"], x["base_y"], x["base_yaw"])
        speed = x["ground_speed"]
        fill = x["payload_kg"] / self.task.rated_kg
        tip = state.ee_pos
        terrain = state.terrain
        self.timer += 1
        if self.phase == "plan":
            self._plan(state)
            self.phase, self.timer = "approach", 0
        centre, normal = self._body_frame()
        front = np.array(pose[:2]) + HINGE_TO_FRONT_AXLE * np.array(
            [math.cos(pose[2] + q[0]), math.sin(pose[2] + q[0])])
        lane_carrot = (front[0] + CARROT, self.lane)

        if self.phase == "approach":
            near = tip[0] > self.face - 2.5
            drive = self._drive(speed, 1.0 if near else 2.5)
            depth = terrain.height_at(tip[0], tip[1]) - tip[2]
            if depth > 0.15:
                self.phase, self.timer, self.stalled = "fill", 0, 0
            return self._action(drive, self._aim_front(pose, q, lane_carrot),
                                self._linkage(q, 0.0, 0.02))
        if self.phase == "fill":
            surface = terrain.height_at(tip[0] + 0.4, tip[1])
            height = max(surface - CUT_DEPTH, 0.02)
            lift = valve((height - tip[2]) / 3.0, 1.5, 0.2)
            tilt = valve(0.05 + 0.3 * fill - (q[1] + q[2]), 3.0, 1.0)
            self.stalled = self.stalled + 1 if speed < 0.15 else 0
            if fill >= 1.02 or self.timer > 150 or (self.stalled > 15 and fill > 0.5) \
                    or tip[0] > self.face + 5.0:
                self.phase, self.timer = "rack", 0
            return self._action(self._drive(speed, 0.8), self._aim_front(pose, q, lane_carrot),
                                (lift, tilt))
        if self.phase == "rack":
            if q[1] + q[2] >= CARRY_PITCH - 0.08 or self.timer > 30:
                self.phase, self.timer = "reverse_out", 0
            return self._action((0.0, 1.0, 0.0), q[0],
                                self._linkage(q, q[1] + 0.1, CARRY_PITCH + 0.1))
        if self.phase == "reverse_out":
            heading = math.atan2(-normal[1], -normal[0])  # facing the body
            hinge = np.array(pose[:2])
            room = (hinge - centre) @ normal - (STOP_OFFSET + HINGE_TO_FRONT_AXLE)
            clear = tip[0] < self.face - 0.5
            if clear and room > 4.0 and abs(wrap(heading - pose[2])) < 0.15 \
                    or self.timer > 250:
                self.phase, self.timer = "to_hauler", 0
            return self._action(self._drive(speed, -2.0), self._turn_reversing(pose[2], heading),
                                self._linkage(q, CARRY_LIFT, CARRY_PITCH))
        if self.phase == "to_hauler":
            s = float((front - centre) @ normal)
            carrot = centre + normal * max(s - CARROT, 0.0)
            go = min(max(0.8 * (s - STOP_OFFSET), 0.6), 2.5)
            if q[1] < FULL_LIFT - 0.05 and s - STOP_OFFSET < 2.5:
                go = 0.3 if s - STOP_OFFSET > 0.5 else 0.0  # wait for the arms to be up
            if s <= STOP_OFFSET + 0.05 and q[1] >= FULL_LIFT - 0.05:
                self.phase, self.timer = "dump", 0
            drive = self._drive(speed, go) if go > 0 else (0.0, 1.0, 0.0)
            return self._action(drive, self._aim_front(pose, q, carrot),
                                self._linkage(q, FULL_LIFT, CARRY_PITCH))
        if self.phase == "dump":
            if fill < 0.02 or self.timer > 60:
                self.phase, self.timer = "reverse_away", 0
                self._plan(state)
            return self._action((0.0, 1.0, 0.0), q[0],
                                self._linkage(q, FULL_LIFT, DUMP_PITCH))
        # reverse_away: back off the body, turn to the lane, lower the bucket to dig.
        s = float((front - centre) @ normal)
        near_body = s < STOP_OFFSET + 1.5
        linkage = self._linkage(q, FULL_LIFT, 0.3) if near_body else self._linkage(q, 0.0, 0.02)
        start = self.face - RUN_UP - 5.4  # hinge x where the approach starts
        aligned = abs(wrap(-pose[2])) < 0.15
        if (aligned and pose[0] <= start + 1.0) or self.timer > 250:
            self.phase, self.timer = "approach", 0
        return self._action(self._drive(speed, -2.0), self._turn_reversing(pose[2], 0.0),
                            linkage)

    def _action(self, drive, articulation: float, valves) -> np.ndarray:
        """Physical command -> the normalised action of `drive+hydraulic`."""
        throttle, brake, direction = drive
        physical = np.array([throttle, brake, articulation, direction, *valves])
        spec = self.task.robot.control_modes["drive+hydraulic"]
        return np.clip(spec.to_normalised(physical), -1.0, 1.0).astype(np.float32)
