"""A standing balance law for humanoids with pitch-only ankles: capture-point feedback on top
of a PD posture. Pure numpy, so the simulator's `upper_body` mode, the real backend and the
Stand task's expert (from privileged state) all run the same law.

Model: the linear inverted pendulum. The centre of mass (CoM) at height h over the support
moves as x'' = w^2 (x - p), w = sqrt(g / h), p the centre of pressure (CoP); the capture
point xi = x + x' / w is where the CoP must go to bring the CoM to rest. The law measures
xi's offset e from the middle of the support polygon (the midpoint of the two soles' centres,
in the robot's heading frame) and shifts the leg servos' targets off the nominal posture:

- sagittal (x), ankle strategy: both ankles' targets move by K_ANKLE * e_x, which presses
  the toes (e_x > 0) or heels down and walks the CoP towards xi; the 40 N m ankles saturate
  at a CoP ~0.14 m ahead of the ankle (80 N m / 580 N), so
- sagittal (x), hip strategy: the hips' pitch targets move by K_HIP * e_x (negative: the
  trunk swings back against a forward fall), the trunk's counter-rotation pushing the CoM
  back through the legs where the ankles cannot;
- lateral (y): no ankle roll on the H1, so the hips' roll targets move by K_ROLL * e_y,
  tilting both legs against the drift over the 0.4 m stance.

Offsets are clipped to MAX_OFFSET rad, so a hard push saturates the law, not the joints.
Gains were tuned on seeded episodes of three pushes at the torso, 2.5 s apart, in random
directions: with them the H1 rides out all 120 pushes of 40 episodes at 20 N s (a 0.34 m/s
kick to the CoM), where PD alone holding the same posture survives 2 of 20 episodes at
15 N s; at 25 N s it falls in 21 of 30 episodes, most of them forward (a step is the next
strategy: the walking controller's).

Other humanoids: the law acts where the robot's `BalanceLayout` (`common.py`) says its hip
roll, hip pitch and ankle joints are, with the layout's gains where they differ (the GR1's,
for its 16 N m ankles: ankle 5.0, hip -2.5); an ankle roll term (K_ANKLE_ROLL, 0 by default)
is there for robots that have the joint.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from librobot_gym.robots.humanoids.common import BalanceLayout

G = 9.81  # m/s^2
K_ANKLE = 2.5  # rad per m of capture-point offset (x), ankle pitch
K_HIP = -3.0  # rad per m of capture-point offset (x), hip pitch
K_ROLL = 1.0  # rad per m of capture-point offset (y), hip roll
K_ANKLE_ROLL = 0.0  # rad per m of capture-point offset (y), ankle roll (robots that have one)
MAX_OFFSET = 0.35  # rad


def capture_point_offset(s: Mapping[str, float]) -> tuple[float, float, float, float]:
    """(e_x, e_y, v_x, v_y): the capture point's offset from the support centre (m) and the
    CoM's speed (m/s), in the heading frame (x ahead, y left), from the privileged quantities
    `com_x/y/z`, `com_vx/vy`, `support_x/y`, `support_z`, `base_yaw`."""
    c, s_ = math.cos(s["base_yaw"]), math.sin(s["base_yaw"])
    dx, dy = s["com_x"] - s["support_x"], s["com_y"] - s["support_y"]
    vx, vy = s["com_vx"], s["com_vy"]
    hx, hy = c * dx + s_ * dy, -s_ * dx + c * dy
    hvx, hvy = c * vx + s_ * vy, -s_ * vx + c * vy
    w = math.sqrt(G / max(s["com_z"] - s["support_z"], 0.3))
    return hx + hvx / w, hy + hvy / w, hvx, hvy


# The H1's layout (5 joints per leg: hip yaw, roll, pitch, knee, ankle; then the torso): the
# default, so `BalanceLaw(legs, torso)` keeps meaning what it meant for the first humanoid.
LEG5_LAYOUT = BalanceLayout(n_held=11, hip_roll=(1, 6), hip_pitch=(2, 7), ankle_pitch=(4, 9))
GAIN_NAMES = ("ankle", "hip", "roll", "ankle_roll")


class BalanceLaw:
    """Leg and torso targets that keep a humanoid standing: `targets(state)` returns the
    nominal held targets (the legs', then the torso's or waist's: `layout.n_held` of them)
    shifted by the capture-point feedback at the layout's hip roll, hip pitch and ankle
    joints. Gains: the module's, then the layout's, then `gains`."""

    def __init__(self, nominal_legs: np.ndarray, nominal_torso=0.0,
                 gains: Mapping[str, float] | None = None,
                 layout: BalanceLayout = LEG5_LAYOUT):
        self.nominal = np.append(np.asarray(nominal_legs, dtype=np.float64),
                                 np.asarray(nominal_torso, dtype=np.float64))
        if self.nominal.size != layout.n_held:
            from librobot_gym.errors import ConfigError

            raise ConfigError(f"the balance law holds {layout.n_held} joints on this robot; "
                              f"the nominal legs and torso give {self.nominal.size}")
        g = {"ankle": K_ANKLE, "hip": K_HIP, "roll": K_ROLL, "ankle_roll": K_ANKLE_ROLL,
             **layout.gains, **(gains or {})}
        unknown = set(g) - set(GAIN_NAMES)
        if unknown:
            from librobot_gym.errors import ConfigError

            raise ConfigError(f"balance gains {sorted(unknown)} are unknown; the law takes "
                              f"'ankle', 'hip' and 'roll' (rad per m), and 'ankle_roll' on "
                              f"robots that have one")
        self.k_ankle, self.k_hip, self.k_roll = g["ankle"], g["hip"], g["roll"]
        self.k_ankle_roll = g["ankle_roll"]
        self.layout = layout
        self._out = self.nominal.copy()

    def targets(self, state: Mapping[str, float]) -> np.ndarray:
        """`layout.n_held` targets (rad): the legs' and the torso's, for this control step."""
        ex, ey, _, _ = capture_point_offset(state)
        ankle = _clip(self.k_ankle * ex)
        hip = _clip(self.k_hip * ex)
        roll = _clip(self.k_roll * ey)
        ankle_roll = _clip(self.k_ankle_roll * ey)
        out, lay = self._out, self.layout
        out[:] = self.nominal
        out[list(lay.hip_roll)] += roll
        out[list(lay.hip_pitch)] += hip
        out[list(lay.ankle_pitch)] += ankle
        if lay.ankle_roll:
            out[list(lay.ankle_roll)] += ankle_roll
        return out.copy()


def _clip(value: float) -> float:
    return min(max(value, -MAX_OFFSET), MAX_OFFSET)
