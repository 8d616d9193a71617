"""The controller's state words as RTDE publishes them and the dashboard server names them
(Universal Robots' RTDE guide and dashboard server documentation, e-Series): robot mode, safety
mode, the safety and robot status bits, the program's runtime state, and the two values of
ur_rtde's control script handshake register (output_int_register_0)."""

from __future__ import annotations

from enum import IntEnum, IntFlag


class RobotMode(IntEnum):
    NO_CONTROLLER = -1
    DISCONNECTED = 0
    CONFIRM_SAFETY = 1
    BOOTING = 2
    POWER_OFF = 3
    POWER_ON = 4
    IDLE = 5
    BACKDRIVE = 6
    RUNNING = 7
    UPDATING_FIRMWARE = 8


class SafetyMode(IntEnum):
    NORMAL = 1
    REDUCED = 2
    PROTECTIVE_STOP = 3
    RECOVERY = 4
    SAFEGUARD_STOP = 5
    SYSTEM_EMERGENCY_STOP = 6
    ROBOT_EMERGENCY_STOP = 7
    VIOLATION = 8
    FAULT = 9
    VALIDATE_JOINT_ID = 10
    UNDEFINED_SAFETY_MODE = 11
    AUTOMATIC_MODE_SAFEGUARD_STOP = 12
    SYSTEM_THREE_POSITION_ENABLING_STOP = 13


class SafetyStatus(IntFlag):
    """`safety_status_bits`."""

    NORMAL = 1 << 0
    REDUCED = 1 << 1
    PROTECTIVE_STOPPED = 1 << 2
    RECOVERY = 1 << 3
    SAFEGUARD_STOPPED = 1 << 4
    SYSTEM_EMERGENCY_STOPPED = 1 << 5
    ROBOT_EMERGENCY_STOPPED = 1 << 6
    EMERGENCY_STOPPED = 1 << 7
    VIOLATION = 1 << 8
    FAULT = 1 << 9
    STOPPED_DUE_TO_SAFETY = 1 << 10


class RobotStatus(IntFlag):
    """`robot_status_bits`."""

    POWER_ON = 1 << 0
    PROGRAM_RUNNING = 1 << 1
    TEACH_BUTTON_PRESSED = 1 << 2
    POWER_BUTTON_PRESSED = 1 << 3


class RuntimeState(IntEnum):
    STOPPING = 0
    STOPPED = 1
    PLAYING = 2
    PAUSING = 3
    PAUSED = 4
    RESUMING = 5


# ur_rtde's control script writes these to output_int_register_0 (+ its register offset).
SCRIPT_READY = 1  # signal_ready(): waiting for a command
SCRIPT_DONE = 2  # signal_done_with_cmd(): the command finished; the client then clears it

SAFETY_BITS = {
    SafetyMode.NORMAL: SafetyStatus.NORMAL,
    SafetyMode.REDUCED: SafetyStatus.REDUCED,
    SafetyMode.PROTECTIVE_STOP: SafetyStatus.PROTECTIVE_STOPPED
    | SafetyStatus.STOPPED_DUE_TO_SAFETY,
    SafetyMode.RECOVERY: SafetyStatus.RECOVERY,
    SafetyMode.SAFEGUARD_STOP: SafetyStatus.SAFEGUARD_STOPPED
    | SafetyStatus.STOPPED_DUE_TO_SAFETY,
    SafetyMode.SYSTEM_EMERGENCY_STOP: SafetyStatus.SYSTEM_EMERGENCY_STOPPED
    | SafetyStatus.EMERGENCY_STOPPED | SafetyStatus.STOPPED_DUE_TO_SAFETY,
    SafetyMode.ROBOT_EMERGENCY_STOP: SafetyStatus.ROBOT_EMERGENCY_STOPPED
    | SafetyStatus.EMERGENCY_STOPPED | SafetyStatus.STOPPED_DUE_TO_SAFETY,
    SafetyMode.VIOLATION: SafetyStatus.VIOLATION | SafetyStatus.STOPPED_DUE_TO_SAFETY,
    SafetyMode.FAULT: SafetyStatus.FAULT | SafetyStatus.STOPPED_DUE_TO_SAFETY,
}


def safety_status_bits(mode: SafetyMode) -> int:
    """The `safety_status_bits` word of a safety mode."""
    return int(SAFETY_BITS.get(mode, SafetyStatus(0)))
