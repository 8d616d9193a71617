"""The RTDE wire format (Universal Robots' Real-Time Data Exchange, protocol version 2), for the
controller emulator: packages, their payloads, and the named fields with their types.

Every package is `uint16 size` (big-endian, the header included), `uint8 type`, then the payload.
Types (ASCII letters): 'V' request protocol version, 'v' get controller version, 'M' text
message, 'U' data package, 'O' set up outputs, 'I' set up inputs, 'S' start, 'P' pause. A data
package is `uint8 recipe id` followed by the recipe's fields packed big-endian in order. An
output setup (v2) is `double frequency` then the comma-separated field names; the controller
answers `uint8 recipe id` then the comma-separated types, "NOT_FOUND" for an unknown name. An
input setup is the names alone; "IN_USE" marks a register another client owns, and either
marker makes the recipe invalid (id 0).

The field table holds what the UR5e's controller publishes and accepts that the driver and
ur_rtde use (the RTDE guide's names and types); `output_*_register_N` and
`input_*_register_N` are parsed from their names.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass

HEADER = struct.Struct(">HB")
PROTOCOL_VERSION = 2
REQUEST_PROTOCOL_VERSION = ord("V")
GET_URCONTROL_VERSION = ord("v")
TEXT_MESSAGE = ord("M")
DATA_PACKAGE = ord("U")
SETUP_OUTPUTS = ord("O")
SETUP_INPUTS = ord("I")
START = ord("S")
PAUSE = ord("P")
MAX_FREQUENCY = 500.0  # Hz, an e-Series controller
NOT_FOUND, IN_USE = "NOT_FOUND", "IN_USE"

# Type name -> struct format (big-endian).
FORMATS = {
    "BOOL": "?", "UINT8": "B", "UINT32": "I", "UINT64": "Q", "INT32": "i", "DOUBLE": "d",
    "VECTOR3D": "3d", "VECTOR6D": "6d", "VECTOR6INT32": "6i", "VECTOR6UINT32": "6I",
}

_V6 = ("target_q target_qd target_qdd target_current target_moment actual_q actual_qd "
       "actual_current joint_control_output actual_TCP_pose actual_TCP_speed actual_TCP_force "
       "target_TCP_pose target_TCP_speed joint_temperatures actual_joint_voltage ft_raw_wrench "
       "payload_inertia").split()
_DOUBLES = ("timestamp actual_execution_time speed_scaling target_speed_fraction "
            "actual_momentum actual_main_voltage actual_robot_voltage actual_robot_current "
            "standard_analog_input0 standard_analog_input1 standard_analog_output0 "
            "standard_analog_output1 io_current tool_analog_input0 tool_analog_input1 "
            "tool_output_current tool_temperature tcp_force_scalar payload").split()
OUTPUTS: dict[str, str] = {
    **dict.fromkeys(_V6, "VECTOR6D"),
    **dict.fromkeys(_DOUBLES, "DOUBLE"),
    "actual_tool_accelerometer": "VECTOR3D", "payload_cog": "VECTOR3D",
    "elbow_position": "VECTOR3D", "elbow_velocity": "VECTOR3D",
    "actual_digital_input_bits": "UINT64", "actual_digital_output_bits": "UINT64",
    "robot_mode": "INT32", "joint_mode": "VECTOR6INT32", "safety_mode": "INT32",
    "safety_status": "INT32", "tool_mode": "UINT32", "tool_output_voltage": "INT32",
    "runtime_state": "UINT32", "robot_status_bits": "UINT32", "safety_status_bits": "UINT32",
    "analog_io_types": "UINT32", "tool_analog_input_types": "UINT32",
    "output_bit_registers0_to_31": "UINT32", "output_bit_registers32_to_63": "UINT32",
    "input_bit_registers0_to_31": "UINT32", "input_bit_registers32_to_63": "UINT32",
}
INPUTS: dict[str, str] = {
    "speed_slider_mask": "UINT32", "speed_slider_fraction": "DOUBLE",
    "standard_digital_output_mask": "UINT8", "standard_digital_output": "UINT8",
    "configurable_digital_output_mask": "UINT8", "configurable_digital_output": "UINT8",
    "tool_digital_output_mask": "UINT8", "tool_digital_output": "UINT8",
    "standard_analog_output_mask": "UINT8", "standard_analog_output_type": "UINT8",
    "standard_analog_output_0": "DOUBLE", "standard_analog_output_1": "DOUBLE",
    "external_force_torque": "VECTOR6D",
    "input_bit_registers0_to_31": "UINT32", "input_bit_registers32_to_63": "UINT32",
}
_REGISTER = re.compile(r"^(input|output)_(int|double|bit)_register_(\d+)$")
_REGISTER_TYPES = {"int": "INT32", "double": "DOUBLE", "bit": "BOOL"}
_REGISTER_RANGE = {"int": range(48), "double": range(48), "bit": range(64, 128)}


class ProtocolError(ValueError):
    """Bytes that are not an RTDE package (a size below the header, a truncated payload)."""


def register(name: str) -> tuple[str, str, int] | None:
    """("input"|"output", "int"|"double"|"bit", index) of a general purpose register, else
    None (also for an index the controller does not have)."""
    match = _REGISTER.match(name)
    if not match or int(match[3]) not in _REGISTER_RANGE[match[2]]:
        return None
    return match[1], match[2], int(match[3])


def output_type(name: str) -> str | None:
    """The type of an output field (registers, inputs and outputs are all readable)."""
    if name in OUTPUTS:
        return OUTPUTS[name]
    reg = register(name)
    return _REGISTER_TYPES[reg[1]] if reg else INPUTS.get(name)


def input_type(name: str) -> str | None:
    """The type of a field a client may write: input registers and the INPUTS table."""
    reg = register(name)
    if reg:
        return _REGISTER_TYPES[reg[1]] if reg[0] == "input" else None
    return INPUTS.get(name)


@dataclass(frozen=True)
class Recipe:
    """An ordered list of (name, type); packs and unpacks a data package's fields."""

    names: tuple[str, ...]
    types: tuple[str, ...]

    @property
    def struct(self) -> struct.Struct:
        return struct.Struct(">" + "".join(FORMATS[t] for t in self.types))

    def pack(self, recipe_id: int, values: dict) -> bytes:
        flat = []
        for name, kind in zip(self.names, self.types, strict=True):
            value = values[name]
            flat.extend(value if kind.startswith("VECTOR") else (value,))
        return bytes((recipe_id,)) + self.struct.pack(*flat)

    def unpack(self, body: bytes) -> dict:
        """The fields of a data package's body (after its recipe id byte)."""
        fmt = self.struct
        if len(body) != fmt.size:
            raise ProtocolError(f"a data package of {len(body)} bytes for a recipe of "
                                f"{fmt.size}")
        flat = list(fmt.unpack(body))
        values = {}
        for name, kind in zip(self.names, self.types, strict=True):
            count = int(FORMATS[kind][0]) if kind.startswith("VECTOR") else 1
            chunk, flat = flat[:count], flat[count:]
            values[name] = list(chunk) if kind.startswith("VECTOR") else chunk[0]
        return values


def package(kind: int, payload: bytes = b"") -> bytes:
    """A whole package: header and payload."""
    return HEADER.pack(HEADER.size + len(payload), kind) + payload


def split_packages(buffer: bytearray) -> list[tuple[int, bytes]]:
    """Take every complete package off the front of `buffer`: [(type, payload)]."""
    out = []
    while len(buffer) >= HEADER.size:
        size, kind = HEADER.unpack_from(buffer)
        if size < HEADER.size:
            raise ProtocolError(f"an RTDE package declares {size} bytes, less than its header")
        if len(buffer) < size:
            break
        out.append((kind, bytes(buffer[HEADER.size:size])))
        del buffer[:size]
    return out


def text_message(message: str, source: str = "RTDE", level: int = 3) -> bytes:
    """A v2 text message package: level 0 exception, 1 error, 2 warning, 3 info."""
    text, src = message.encode()[:255], source.encode()[:255]
    return package(TEXT_MESSAGE, bytes((len(text),)) + text + bytes((len(src),)) + src
                   + bytes((level,)))


def setup_reply(recipe_id: int, types: list[str]) -> bytes:
    return bytes((recipe_id,)) + ",".join(types).encode()


def parse_output_setup(payload: bytes) -> tuple[float, list[str]]:
    """(frequency Hz, field names) of a v2 output setup."""
    if len(payload) < 8:
        raise ProtocolError("an output setup without its frequency")
    (frequency,) = struct.unpack_from(">d", payload)
    return frequency, _names(payload[8:])


def parse_input_setup(payload: bytes) -> list[str]:
    return _names(payload)


def _names(raw: bytes) -> list[str]:
    return [n for n in raw.decode("ascii", "replace").strip().split(",") if n]
