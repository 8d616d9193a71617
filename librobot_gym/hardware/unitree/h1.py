"""The H1's low-level interface as Unitree documents it: which LowCmd/LowState motor slot drives
which joint, each motor's mode, the "no target" sentinels, and the gains the driver sends.

Motor slots (unitree_sdk2's H1 low-level example, `JointIndex`): right leg hip roll 0, hip
pitch 1, knee 2; left leg hip roll 3, hip pitch 4, knee 5; waist (torso) yaw 6; left hip yaw
7, right hip yaw 8; slot 9 is not used (no motor); left ankle 10, right ankle 11; right arm
shoulder pitch, roll, yaw, elbow 12-15; left arm 16-19. The unitree_go LowCmd/LowState carry
20 slots. Modes: the "weak" motors (ankles and arms) run in mode 0x01, the others in 0x0A
(the example's `IsWeakMotor`); 0x00 switches a motor off (no torque). A position or velocity
target equal to `POS_STOP` / `VEL_STOP` means "none": that term of the PD law is off.

Gains: the driver sends each joint the kp/kd of the robot's MJCF servos (the same PD the
simulator runs per joint group), so a policy meets the same joints on the robot as in sim.
The safe stop is Unitree's damping mode: every motor on, kp = 0, kd = `DAMPING_KD` of its
group, no position target: the joints yield slowly, the robot sinks into its harness.
"""

from __future__ import annotations

import numpy as np

from librobot_gym.errors import ConfigError
from librobot_gym.hardware.humanoid_sim import servo_gains  # noqa: F401 - h1.servo_gains

N_SLOTS = 20
UNUSED_SLOT = 9
SLOTS = {
    "right_hip_roll_joint": 0, "right_hip_pitch_joint": 1, "right_knee_joint": 2,
    "left_hip_roll_joint": 3, "left_hip_pitch_joint": 4, "left_knee_joint": 5,
    "torso_joint": 6, "left_hip_yaw_joint": 7, "right_hip_yaw_joint": 8,
    "left_ankle_joint": 10, "right_ankle_joint": 11,
    "right_shoulder_pitch_joint": 12, "right_shoulder_roll_joint": 13,
    "right_shoulder_yaw_joint": 14, "right_elbow_joint": 15,
    "left_shoulder_pitch_joint": 16, "left_shoulder_roll_joint": 17,
    "left_shoulder_yaw_joint": 18, "left_elbow_joint": 19,
}
WEAK_SLOTS = frozenset({10, 11, *range(12, 20)})
MODE_WEAK, MODE_STRONG, MODE_OFF = 0x01, 0x0A, 0x00
POS_STOP = 2.146e9  # "no position target" (unitree_sdk2's PosStopF)
VEL_STOP = 16000.0  # "no velocity target" (VelStopF)
LEVEL_LOW = 0xFF  # LowCmd.level_flag for low-level control
HEAD = (0xFE, 0xEF)  # LowCmd.head
DAMPING_KD = {"strong": 8.0, "weak": 2.0}  # N m s/rad per motor in damping mode


def mode_of(slot: int) -> int:
    """The motor mode Unitree's example uses for `slot` (weak motors 0x01, others 0x0A)."""
    return MODE_WEAK if slot in WEAK_SLOTS else MODE_STRONG


def slots_for(joint_names) -> np.ndarray:
    """The motor slot of each joint in `joint_names` (the H1's 19 body joints; joints others
    append later, such as grippers, have no motor slot and are refused here)."""
    missing = [n for n in joint_names if n not in SLOTS]
    if missing:
        raise ConfigError(f"the H1's LowCmd has no motor slot for {missing}; it drives the 19 "
                          f"body joints {sorted(SLOTS)}")
    return np.array([SLOTS[n] for n in joint_names], dtype=np.int64)


def damping_kd(slots: np.ndarray) -> np.ndarray:
    return np.array([DAMPING_KD["weak" if s in WEAK_SLOTS else "strong"] for s in slots])
