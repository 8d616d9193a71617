"""What libfranka speaks with a Franka (or franky-sim), as far as the fault relay (`faults.py`)
follows it: TCP framing, the commands it acts on, and where a state datagram keeps its mode and
error flags. Standard library only.

Read from franky-sim 1.0.4 (`franka_server.py` and friends): per device a TCP command
connection, the arm on port 1337 and the hand on 1338, both fixed in libfranka
(`research_interface` kCommandPort) and in franky-sim; no option moves them. Each TCP message is
a header (command: uint32 for the arm, uint16 for the hand; command id: uint32; size incl. the
header: uint32) and a payload. The first command, Connect, carries the UDP port the client
listens on; the server then streams its state there once per 1 ms tick (an 8-byte arm / 4-byte
hand message id, then the state) from an ephemeral UDP port, and libfranka sends its 1 kHz arm
commands back to whatever address the state came from. So the UDP ports are negotiated inside
the TCP stream, which a proxy can follow by rewriting the port in Connect (`with_udp_port`).
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

# franka::Errors in libfranka's order (the state's 41 error flags); checked against franky 2.0.
ERROR_NAMES = (
    "joint_position_limits_violation", "cartesian_position_limits_violation",
    "self_collision_avoidance_violation", "joint_velocity_violation",
    "cartesian_velocity_violation", "force_control_safety_violation", "joint_reflex",
    "cartesian_reflex", "max_goal_pose_deviation_violation",
    "max_path_pose_deviation_violation", "cartesian_velocity_profile_safety_violation",
    "joint_position_motion_generator_start_pose_invalid",
    "joint_motion_generator_position_limits_violation",
    "joint_motion_generator_velocity_limits_violation",
    "joint_motion_generator_velocity_discontinuity",
    "joint_motion_generator_acceleration_discontinuity",
    "cartesian_position_motion_generator_start_pose_invalid",
    "cartesian_motion_generator_elbow_limit_violation",
    "cartesian_motion_generator_velocity_limits_violation",
    "cartesian_motion_generator_velocity_discontinuity",
    "cartesian_motion_generator_acceleration_discontinuity",
    "cartesian_motion_generator_elbow_sign_inconsistent",
    "cartesian_motion_generator_start_elbow_invalid",
    "force_controller_desired_force_tolerance_violation", "start_elbow_sign_inconsistent",
    "communication_constraints_violation", "power_limit_violation",
    "cartesian_motion_generator_joint_position_limits_violation",
    "cartesian_motion_generator_joint_velocity_limits_violation",
    "cartesian_motion_generator_joint_velocity_discontinuity",
    "cartesian_motion_generator_joint_acceleration_discontinuity",
    "cartesian_position_motion_generator_invalid_frame", "controller_torque_discontinuity",
    "joint_p2p_insufficient_torque_for_planning", "tau_j_range_violation",
    "instability_detected", "joint_move_in_wrong_direction",
    "cartesian_spline_motion_generator_violation",
    "joint_via_motion_generator_planning_joint_limit_violation",
    "base_acceleration_initialization_timeout", "base_acceleration_invalid_reading",
)

# Arm protocol (research_interface::robot): commands and Move statuses the relay acts on.
CONNECT, MOVE, STOP_MOVE, ERROR_RECOVERY = 0, 1, 2, 10
MOTION_STARTED, REFLEX_ABORTED, NOT_POSSIBLE = 1, 8, 5
REFLEX_MODE = 4
# The arm state ends with: motion generator mode, controller mode (1 byte each), errors and
# reflex_reason (41 flags each), robot mode (1 byte), control_command_success_rate (float32).
MODE_AT, REASON_AT, ERRORS_AT = -5, -46, -87


def header(kind: str) -> struct.Struct:
    """The TCP message header of the arm ("robot") or the hand (any other kind)."""
    return struct.Struct("<III" if kind == "robot" else "<HII")


def split_frames(head: struct.Struct,
                 buffer: bytearray) -> Iterator[tuple[int | None, int | None, bytes]]:
    """Complete (command, command id, frame bytes) messages taken from `buffer`."""
    size = head.size
    while len(buffer) >= size:
        command, command_id, length = head.unpack_from(buffer)
        if length < size:  # not libfranka's framing: pass the bytes through as they are
            yield None, None, bytes(buffer)
            buffer.clear()
            return
        if len(buffer) < length:
            return
        frame = bytes(buffer[:length])
        del buffer[:length]
        yield command, command_id, frame


def connect_udp_port(head: struct.Struct, frame: bytes) -> int | None:
    """The UDP port a Connect frame says the client listens on (None: too short to say)."""
    if len(frame) < head.size + 4:
        return None
    return struct.unpack_from("<HH", frame, head.size)[1]


def with_udp_port(head: struct.Struct, frame: bytes, port: int) -> bytes:
    """The Connect `frame` with its client UDP port replaced by `port`."""
    version, _ = struct.unpack_from("<HH", frame, head.size)
    return frame[:head.size] + struct.pack("<HH", version, port) + frame[head.size + 4:]


def move_status(head: struct.Struct, frame: bytes) -> int:
    """The status byte of a Move response."""
    return frame[head.size]


def move_response(command_id: int, status: int) -> bytes:
    """The arm's response to Move `command_id` with `status` (e.g. REFLEX_ABORTED)."""
    return struct.pack("<IIIB", MOVE, command_id, 13, status)


def stop_move(command_id: int) -> bytes:
    """A StopMove command with id `command_id`."""
    return struct.pack("<III", STOP_MOVE, command_id, 12)


def in_reflex(state: bytes, error_index: int) -> bytes:
    """An arm state datagram as a robot in Reflex sends it: robot mode Reflex, error
    `error_index` (into ERROR_NAMES) set in current_errors and reflex_reason. A datagram too
    short to hold them is returned as it is."""
    if len(state) <= -ERRORS_AT:
        return state
    marked = bytearray(state)
    marked[MODE_AT] = REFLEX_MODE
    marked[ERRORS_AT + error_index] = 1
    marked[REASON_AT + error_index] = 1
    return bytes(marked)
