"""Closed-form kinematics of the ToyArm (`toy_arm.xml`): yaw about +z, then a two-link arm
in the vertical plane (shoulder and elbow about +y). Base frame = world frame, m and rad."""

from __future__ import annotations

import math

import numpy as np

SHOULDER_HEIGHT = 0.08  # m, shoulder axis above the base
UPPER_ARM = 0.20  # m, shoulder -> elbow
FOREARM = 0.20  # m, elbow -> tcp


def forward(q) -> np.ndarray:
    """Tool centre point (x, y, z) at joint positions q = (yaw, shoulder, elbow)."""
    yaw, shoulder, elbow = (float(v) for v in q)
    reach = UPPER_ARM * math.sin(shoulder) + FOREARM * math.cos(shoulder + elbow)
    height = SHOULDER_HEIGHT + UPPER_ARM * math.cos(shoulder) - FOREARM * math.sin(
        shoulder + elbow)
    return np.array([reach * math.cos(yaw), reach * math.sin(yaw), height])


def inverse(target, lower, upper) -> np.ndarray:
    """Joint positions (elbow up) that put the tool at `target`, within [lower, upper]; a
    target out of reach gives the posture pointing at it, stretched as far as it goes."""
    x, y, z = (float(v) for v in target)
    yaw = math.atan2(y, x)
    reach, rise = math.hypot(x, y), z - SHOULDER_HEIGHT
    cos_bend = (reach**2 + rise**2 - UPPER_ARM**2 - FOREARM**2) / (2 * UPPER_ARM * FOREARM)
    bend = -math.acos(min(max(cos_bend, -1.0), 1.0))  # forearm below the upper arm's line
    lift = math.atan2(rise, reach) - math.atan2(FOREARM * math.sin(bend),
                                                UPPER_ARM + FOREARM * math.cos(bend))
    q = np.array([yaw, math.pi / 2 - lift, -math.pi / 2 - bend])
    return np.clip(q, lower, upper)
