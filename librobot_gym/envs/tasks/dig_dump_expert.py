"""A scripted excavator operator for DigDump, acting on privileged state.

It plans each pass from the material heights (the swing angle with the most material in reach,
a cut depth that fills the bucket over the drag), then drives the bucket along the pass with
planar inverse kinematics of boom + stick + bucket and proportional pilot commands, the way an
operator feathers the levers: dig, curl, lift, swing over the bed, dump, swing back.
"""

from __future__ import annotations

import math

import numpy as np

from librobot_gym.envs.tasks.base import WorldState

# Machine geometry (must match robots/heavy/excavator/excavator.xml): house 1.0 m up, boom foot at
# (0.45, 1.9) in the swing plane, boom chord 5.70 m at +0.2305 rad, stick 2.9 m, teeth 1.45 m.
FOOT = np.array([0.45, 1.9])
BOOM_CHORD = math.hypot(5.55, 1.3)
BOOM_OFFSET = math.atan2(1.3, 5.55)
STICK = 2.9
TEETH = 1.45
LIMITS = {"boom": (-0.9, 1.0), "stick": (0.5, 2.75), "bucket": (-0.8, 2.4)}

SWING_RANGE = np.linspace(-0.4, 0.4, 17)  # rad, candidate dig bearings
REACH = (4.4, 8.0)  # m, radii the bucket teeth can drag between at ground level
DRAG_SPEED = 0.7  # m/s of the cutting edge
GAIN = 3.0  # pilot per rad of joint error
DEADBAND = 0.05


def planar_ik(pin: np.ndarray, teeth_pitch: float) -> np.ndarray | None:
    """Boom, stick, bucket joint angles that put the bucket pin at `pin` (radius, height from
    the swing axis and the ground) with the pin->teeth line at `teeth_pitch` rad; None when out
    of reach."""
    rel = pin - FOOT
    dist = float(np.hypot(*rel))
    cos_a = (BOOM_CHORD**2 + dist**2 - STICK**2) / (2 * BOOM_CHORD * dist)
    if not -1.0 <= cos_a <= 1.0:
        return None
    chord = math.atan2(rel[1], rel[0]) + math.acos(cos_a)  # elbow up
    boom = chord - BOOM_OFFSET
    elbow = FOOT + BOOM_CHORD * np.array([math.cos(chord), math.sin(chord)])
    stick_pitch = math.atan2(pin[1] - elbow[1], pin[0] - elbow[0])
    stick = boom - stick_pitch
    bucket = stick_pitch - teeth_pitch
    return np.array([boom, stick, bucket])


# Outline of the bucket shell in its frame (x along pin->teeth, z away from the mouth).
SHELL = np.array([[0.0, 0.0], [0.3, 0.8], [1.1, 0.75], [1.45, 0.0]])
CLEARANCE = 0.05  # m above the ground for the lowest point of the bucket


def teeth_to_pin(teeth: np.ndarray, teeth_pitch: float) -> np.ndarray:
    """The pin for these teeth, raised where needed so the shell stays above the ground."""
    pin = teeth - TEETH * np.array([math.cos(teeth_pitch), math.sin(teeth_pitch)])
    return clear_of_ground(pin, teeth_pitch)


def clear_of_ground(pin: np.ndarray, teeth_pitch: float) -> np.ndarray:
    heights = SHELL[:, 0] * math.sin(teeth_pitch) + SHELL[:, 1] * math.cos(teeth_pitch)
    return np.array([pin[0], max(pin[1], CLEARANCE - float(heights.min()))])


def pilot(error: np.ndarray, gain: float = GAIN) -> np.ndarray:
    """Proportional lever command that steps over the valve deadband."""
    magnitude = np.clip(gain * np.abs(error), 0.0, 1.0)
    command = np.sign(error) * (DEADBAND + (1 - DEADBAND) * magnitude)
    return np.where(np.abs(error) < 0.004, 0.0, command)


class DigDumpExpert:
    """Phases: plan, approach, penetrate, drag, curl, lift, swing to the truck, dump, return."""

    # The bucket pin (radius, height; m) while swinging back from the truck to the pile.
    return_pin = (6.0, 3.8)

    def __init__(self, task):
        self.task = task
        self.reset()

    def reset(self) -> None:
        self.phase = "plan"
        self.plan: dict[str, float] = {}
        self.timer = 0
        self.r = 0.0

    # --- planning ------------------------------------------------------------------------------
    def _plan_pass(self, state: WorldState) -> dict[str, float]:
        terrain = state.terrain
        rated = self.task.robot.bucket.rated_capacity
        width = self.task.robot.bucket.width
        radii = np.arange(REACH[0], REACH[1], 0.1)
        best = None
        for bearing in SWING_RANGE:
            heights = np.array([terrain.height_at(r * math.cos(bearing), r * math.sin(bearing))
                                for r in radii])
            volume = float(np.minimum(heights, 1.0).sum() * 0.1 * width)
            if best is None or volume > best[0]:
                best = (volume, bearing, heights)
        _, bearing, heights = best
        present = np.nonzero(heights > 0.1)[0]
        start = radii[present[-1]] if len(present) else REACH[1] - 0.5
        end = radii[present[0]] if len(present) else REACH[0]
        # Depth that sweeps 1.3 x the rated volume over the drag (bisection).
        low, high = 0.05, 1.2
        for _ in range(20):
            depth = 0.5 * (low + high)
            swept = float(np.minimum(heights, depth).sum() * 0.1 * width)
            low, high = (depth, high) if swept < 1.3 * rated else (low, depth)
        return {"bearing": float(bearing), "start": float(start), "end": float(max(end, 4.6)),
                "depth": float(depth)}

    # --- acting --------------------------------------------------------------------------------
    def act(self, state: WorldState) -> np.ndarray:
        q = state.joint_pos  # swing, boom, stick, bucket
        payload = state.extras["payload_kg"] / self.task.rated_kg
        if state.extras["delivered_kg"] >= self.task.target_kg:
            return np.zeros(6, dtype=np.float32)
        if self.phase == "plan":
            self.plan = self._plan_pass(state)
            self.phase, self.r = "approach", self.plan["start"]
        plan = self.plan
        terrain = state.terrain
        bearing = plan.get("bearing", 0.0)
        swing_target = bearing
        teeth_pitch, teeth = -1.3, None

        def ground(r: float) -> float:
            return terrain.height_at(r * math.cos(bearing), r * math.sin(bearing))

        if self.phase == "approach":
            teeth = np.array([self.r, ground(self.r) + 0.6])
            if self._near(q, swing_target, teeth, teeth_pitch, 0.08):
                self.phase = "penetrate"
        elif self.phase == "penetrate":
            teeth = np.array([self.r, max(ground(self.r) - plan["depth"], 0.05)])
            if self._near(q, swing_target, teeth, teeth_pitch, 0.06):
                self.phase = "drag"
        elif self.phase == "drag":
            self.r -= DRAG_SPEED * 0.1
            progress = (plan["start"] - self.r) / max(plan["start"] - plan["end"], 0.5)
            teeth_pitch = -1.3 - 1.2 * min(progress, 1.0)
            teeth = np.array([self.r, max(ground(self.r) - plan["depth"], 0.05)])
            if payload >= 1.05 or self.r <= plan["end"]:
                self.phase = "curl"
        if self.phase == "curl":
            # Close the bucket while its edge is still in the material, so nothing pours out.
            self.timer += 1
            if q[3] >= 2.0 or self.timer > 30:
                self.timer, self.phase = 0, "lift"
            pin = clear_of_ground(np.array([max(self.r, 4.8), 0.0]), -3.4)
            return self._command(q, swing_target, pin=pin, pitch=-3.4)
        if self.phase == "lift":
            teeth_pitch = -3.4
            pin = np.array([min(max(self.r, 5.0), 6.5), 3.6])
            return self._command(q, swing_target, pin=pin, pitch=teeth_pitch,
                                 done=lambda near: self._advance("swing", near))
        if self.phase == "swing":
            pin = np.array([self.task.truck_distance + 0.1, 4.3])
            swing_target = self.task.truck_bearing
            if abs(q[0] - swing_target) < 0.03:
                self.phase = "dump"
            return self._command(q, swing_target, pin=pin, pitch=-3.4)
        if self.phase == "dump":
            pin = np.array([self.task.truck_distance + 0.1, 4.3])
            self.timer += 1
            if payload < 0.01 or self.timer > 40:
                self.timer, self.phase = 0, "return"
            return self._command(q, self.task.truck_bearing, pin=pin, pitch=-0.6)
        if self.phase == "return":
            pin = np.array(self.return_pin)
            if abs(q[0] - bearing) < 0.5:
                self.phase = "plan"
            return self._command(q, bearing, pin=pin, pitch=-1.3)
        return self._command(q, swing_target, pin=teeth_to_pin(teeth, teeth_pitch),
                             pitch=teeth_pitch)

    def _advance(self, phase: str, near: bool) -> None:
        if near:
            self.phase = phase

    def _near(self, q, swing, teeth, pitch, tolerance) -> bool:
        target = planar_ik(teeth_to_pin(teeth, pitch), pitch)
        return target is not None and abs(q[0] - swing) < 0.03 and \
            float(np.abs(q[1:] - target).max()) < tolerance

    def _command(self, q, swing, pin, pitch, done=None) -> np.ndarray:
        joints = planar_ik(pin, pitch)
        if joints is None:  # out of reach: fold towards a safe carry pose
            joints = np.array([0.5, 1.6, 1.8])
        joints = np.array([np.clip(v, *LIMITS[name]) for v, name in
                           zip(joints, ("boom", "stick", "bucket"), strict=True)])
        error = joints - q[1:]
        if done is not None:
            done(float(np.abs(error).max()) < 0.08)
        action = np.zeros(6, dtype=np.float32)
        action[:3] = pilot(error)
        action[3] = pilot(np.array([swing - q[0]]), gain=1.2)[0]
        return action
