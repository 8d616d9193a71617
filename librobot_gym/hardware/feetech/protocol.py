"""The Feetech SCS/STS serial bus protocol (v1, as `feetech-servo-sdk` speaks it), byte-exact:
frames, checksums, status error bits, the STS3215 control table and its value encodings.

Frames (half-duplex TTL bus, 8N1, 1 Mbps by default):

    instruction  0xFF 0xFF ID LEN INSTR PARAM... CHECKSUM
    status       0xFF 0xFF ID LEN ERROR PARAM... CHECKSUM

LEN counts the bytes after itself (instruction or error byte, parameters, checksum), so a frame
is LEN + 4 bytes; CHECKSUM = ~(ID + LEN + INSTR/ERROR + sum(PARAM)) & 0xFF. ID 0xFE broadcasts
(no servo answers). Multi-byte values are little-endian on the STS series (the SDK's
`PacketHandler(0)`), and signed registers use sign-magnitude with the sign in a fixed bit
(bit 15 for speeds, bit 10 for the load, bit 11 for the homing offset), which is what the SDK's
`SCS_TOSCS` / `SCS_TOHOST` do. Read from scservo_sdk 1.0 (`protocol_packet_handler.py`,
`scservo_def.py`) and Feetech's STS3215 memory table.

This module is pure (bytes in, bytes out): the emulator, the driver and the tests share it.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from librobot_gym.errors import LibrobotError

HEADER = b"\xff\xff"
BROADCAST_ID = 0xFE
MAX_ID = 0xFC  # 0xFD is reserved, 0xFE broadcast
MAX_FRAME = 250  # the SDK's TXPACKET_MAX_LEN / RXPACKET_MAX_LEN
TICKS_PER_TURN = 4096  # STS3215: 12-bit magnetic encoder, 0..4095 per turn
STS3215_MODEL = 777  # model number at address 3


class FrameError(LibrobotError, ValueError):
    """A byte string that is not a valid Feetech frame (the message says what is wrong)."""


class TruncatedFrame(FrameError):
    """Fewer bytes than the frame's LEN announces (or than any frame has)."""


class ChecksumError(FrameError):
    """The checksum byte does not match the frame's contents (line noise, a collision)."""


class Instruction(enum.IntEnum):
    PING = 0x01
    READ = 0x02
    WRITE = 0x03
    REG_WRITE = 0x04
    ACTION = 0x05
    SYNC_READ = 0x82
    SYNC_WRITE = 0x83


class StatusError(enum.IntFlag):
    """The error byte of a status packet (also the `Status` register, address 65)."""

    VOLTAGE = 0x01  # input voltage outside [min, max] voltage limit
    ANGLE = 0x02  # magnetic angle sensor fault
    OVERHEAT = 0x04  # temperature above the max temperature limit
    OVERCURRENT = 0x08  # the SDK calls it "OverEle"
    OVERLOAD = 0x20  # load above the overload torque for longer than the protection time


@dataclass(frozen=True)
class Register:
    """One entry of the control table: address, size in bytes, sign bit (None: unsigned)."""

    name: str
    address: int
    size: int
    sign_bit: int | None = None
    writable: bool = True

    @property
    def eeprom(self) -> bool:
        """Below address 40 the table lives in EEPROM (kept over power cycles when unlocked)."""
        return self.address < 40


class STS3215:
    """The STS3215 control table (the registers this project uses, and their neighbours)."""

    MODEL_NUMBER = Register("model_number", 3, 2, writable=False)
    ID = Register("id", 5, 1)
    BAUD_RATE = Register("baud_rate", 6, 1)  # 0: 1 Mbps, 1: 500 k, ... 7: 9600
    RETURN_DELAY = Register("return_delay", 7, 1)  # x2 us before answering
    STATUS_RETURN_LEVEL = Register("status_return_level", 8, 1)  # 0: answer PING/READ only
    MIN_ANGLE_LIMIT = Register("min_angle_limit", 9, 2)
    MAX_ANGLE_LIMIT = Register("max_angle_limit", 11, 2)
    MAX_TEMPERATURE = Register("max_temperature", 13, 1)  # deg C
    MAX_VOLTAGE = Register("max_voltage", 14, 1)  # 0.1 V
    MIN_VOLTAGE = Register("min_voltage", 15, 1)  # 0.1 V
    MAX_TORQUE = Register("max_torque", 16, 2)  # 0.1 %
    HOMING_OFFSET = Register("homing_offset", 31, 2, sign_bit=11)
    OPERATING_MODE = Register("operating_mode", 33, 1)  # 0: position
    TORQUE_ENABLE = Register("torque_enable", 40, 1)  # 0 off, 1 on, 128: present := 2048
    ACCELERATION = Register("acceleration", 41, 1)  # 100 ticks/s^2, 0: maximum
    GOAL_POSITION = Register("goal_position", 42, 2)
    GOAL_TIME = Register("goal_time", 44, 2)  # ms
    GOAL_SPEED = Register("goal_speed", 46, 2, sign_bit=15)  # ticks/s, 0: maximum
    TORQUE_LIMIT = Register("torque_limit", 48, 2)  # 0.1 %
    LOCK = Register("lock", 55, 1)  # 1: EEPROM writes are not kept
    PRESENT_POSITION = Register("present_position", 56, 2, writable=False)
    PRESENT_SPEED = Register("present_speed", 58, 2, sign_bit=15, writable=False)
    PRESENT_LOAD = Register("present_load", 60, 2, sign_bit=10, writable=False)  # 0.1 %
    PRESENT_VOLTAGE = Register("present_voltage", 62, 1, writable=False)  # 0.1 V
    PRESENT_TEMPERATURE = Register("present_temperature", 63, 1, writable=False)  # deg C
    STATUS = Register("status", 65, 1, writable=False)  # StatusError bits
    MOVING = Register("moving", 66, 1, writable=False)
    PRESENT_CURRENT = Register("present_current", 69, 2, sign_bit=15, writable=False)  # 6.5 mA

    SIZE = 86  # bytes of table the emulator keeps (addresses 0..85)

    @classmethod
    def registers(cls) -> tuple[Register, ...]:
        return tuple(v for v in vars(cls).values() if isinstance(v, Register))


# The block the driver syncs every control period: position, speed, load, voltage, temperature.
STATE_BLOCK = (STS3215.PRESENT_POSITION.address, 8)  # addresses 56..63


# --- values --------------------------------------------------------------------------------------
def checksum(body: Iterable[int]) -> int:
    """~(sum of ID, LEN, INSTR/ERROR and the parameters) & 0xFF."""
    return ~sum(body) & 0xFF


def to_sign_magnitude(value: int, sign_bit: int) -> int:
    """The SDK's `SCS_TOSCS`: a negative value becomes its magnitude with `sign_bit` set."""
    if abs(value) >= 1 << sign_bit:
        raise ValueError(f"{value} does not fit {sign_bit} magnitude bits")
    return (-value | (1 << sign_bit)) if value < 0 else value


def from_sign_magnitude(raw: int, sign_bit: int) -> int:
    """The SDK's `SCS_TOHOST`: bit `sign_bit` set means negative."""
    return -(raw & ~(1 << sign_bit)) if raw & (1 << sign_bit) else raw


def encode_value(register: Register, value: int) -> bytes:
    """A register value as the bytes on the wire (little-endian, sign-magnitude if signed)."""
    raw = to_sign_magnitude(value, register.sign_bit) if register.sign_bit is not None else value
    if not 0 <= raw < 1 << (8 * register.size):
        raise ValueError(f"{register.name}: {value} does not fit {register.size} byte(s)")
    return raw.to_bytes(register.size, "little")


def decode_value(register: Register, data: bytes) -> int:
    """Bytes read from `register` as the value they encode."""
    if len(data) != register.size:
        raise FrameError(f"{register.name} is {register.size} byte(s), got {len(data)}")
    raw = int.from_bytes(data, "little")
    return from_sign_magnitude(raw, register.sign_bit) if register.sign_bit is not None else raw


# --- frames --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Frame:
    """A decoded frame: `code` is the instruction (to a servo) or the error byte (from one)."""

    servo_id: int
    code: int
    params: bytes = b""

    @property
    def error(self) -> StatusError:
        return StatusError(self.code)


def encode_frame(servo_id: int, code: int, params: bytes | Iterable[int] = b"") -> bytes:
    """0xFF 0xFF ID LEN CODE PARAMS CHECKSUM."""
    params = bytes(params)
    if not 0 <= servo_id <= BROADCAST_ID:
        raise ValueError(f"servo id {servo_id} is outside 0..{BROADCAST_ID}")
    body = bytes((servo_id, len(params) + 2, code)) + params
    if len(body) + 3 > MAX_FRAME:
        raise ValueError(f"a frame of {len(body) + 3} bytes exceeds the bus limit {MAX_FRAME}")
    return HEADER + body + bytes((checksum(body),))


def encode_status(servo_id: int, error: int = 0, params: bytes | Iterable[int] = b"") -> bytes:
    """What a servo answers: its id, its error bits, the data read (if any)."""
    if not 0 <= error <= 0x7F:  # the SDK drops frames whose error byte is above 0x7F
        raise ValueError(f"error byte {error:#x} is outside 0..0x7f")
    return encode_frame(servo_id, error, params)


def parse_frame(data: bytes) -> Frame:
    """One complete frame, exactly; raises a `FrameError` saying what is wrong."""
    data = bytes(data)
    if len(data) < 6:
        raise TruncatedFrame(f"{len(data)} bytes is shorter than any frame (6): {data.hex(' ')}")
    if data[:2] != HEADER:
        raise FrameError(f"a frame starts with ff ff, got {data[:2].hex(' ')}")
    length = data[3]
    if length < 2:
        raise FrameError(f"LEN {length} is below the minimum 2 (code + checksum)")
    if len(data) < length + 4:
        raise TruncatedFrame(f"LEN {length} announces {length + 4} bytes, got {len(data)}")
    if len(data) > length + 4:
        raise FrameError(f"{len(data) - length - 4} trailing byte(s) after the frame")
    expected = checksum(data[2:-1])
    if data[-1] != expected:
        raise ChecksumError(f"checksum {data[-1]:#04x}, expected {expected:#04x} for frame "
                            f"{data.hex(' ')}")
    return Frame(data[2], data[4], data[5:-1])


class FrameReader:
    """Splits a byte stream into frames, as a servo's UART (and the SDK's `rxPacket`) does:
    bytes before a header are skipped, and a frame whose checksum fails is dropped and counted
    (a servo ignores it; the host sees a corrupt reply)."""

    def __init__(self):
        self._buffer = bytearray()
        self.dropped = 0  # frames with a bad checksum or an impossible LEN

    def feed(self, data: bytes) -> list[Frame]:
        self._buffer += data
        frames = []
        while True:
            start = self._buffer.find(HEADER)
            if start < 0:
                del self._buffer[: max(len(self._buffer) - 1, 0)]  # keep a trailing 0xFF
                return frames
            del self._buffer[:start]
            if len(self._buffer) < 4:
                return frames
            if self._buffer[2] == 0xFF:  # 0xFF 0xFF 0xFF: the header may start one later
                del self._buffer[0]
                continue
            end = self._buffer[3] + 4
            if self._buffer[3] < 2:
                self.dropped += 1
                del self._buffer[:2]
                continue
            if len(self._buffer) < end:
                return frames
            try:
                frames.append(parse_frame(bytes(self._buffer[:end])))
            except FrameError:
                self.dropped += 1
                del self._buffer[:2]  # resynchronise on the next header
                continue
            del self._buffer[:end]


# --- instruction builders ------------------------------------------------------------------------
def ping(servo_id: int) -> bytes:
    return encode_frame(servo_id, Instruction.PING)


def read(servo_id: int, address: int, length: int) -> bytes:
    return encode_frame(servo_id, Instruction.READ, (address, length))


def write(servo_id: int, address: int, data: bytes) -> bytes:
    return encode_frame(servo_id, Instruction.WRITE, bytes((address,)) + bytes(data))


def reg_write(servo_id: int, address: int, data: bytes) -> bytes:
    """Stage a write that takes effect at the next ACTION (several servos start together)."""
    return encode_frame(servo_id, Instruction.REG_WRITE, bytes((address,)) + bytes(data))


def action(servo_id: int = BROADCAST_ID) -> bytes:
    return encode_frame(servo_id, Instruction.ACTION)


def sync_read(address: int, length: int, servo_ids: Iterable[int]) -> bytes:
    """One request; each listed servo answers a status frame in the listed order."""
    return encode_frame(BROADCAST_ID, Instruction.SYNC_READ,
                        bytes((address, length)) + bytes(servo_ids))


def sync_write(address: int, length: int, data: Mapping[int, bytes]) -> bytes:
    """One broadcast frame writing `length` bytes at `address` of each servo; nobody answers."""
    params = bytearray((address, length))
    for servo_id, values in data.items():
        if len(values) != length:
            raise ValueError(f"servo {servo_id}: {len(values)} bytes, expected {length}")
        params += bytes((servo_id,)) + bytes(values)
    return encode_frame(BROADCAST_ID, Instruction.SYNC_WRITE, params)


def split_sync_write(frame: Frame) -> tuple[int, dict[int, bytes]]:
    """(address, {servo id: bytes}) from a SYNC_WRITE frame's parameters."""
    if len(frame.params) < 2:
        raise TruncatedFrame("SYNC_WRITE needs address and length")
    address, length = frame.params[0], frame.params[1]
    body = frame.params[2:]
    if length == 0 or len(body) % (length + 1):
        raise FrameError(f"SYNC_WRITE body of {len(body)} bytes is not whole ({length}+1)-byte "
                         "records")
    return address, {body[i]: bytes(body[i + 1: i + 1 + length])
                     for i in range(0, len(body), length + 1)}


def describe_error(error: int) -> str:
    """Names of the set error bits, e.g. "overload, overheat" ("" when none)."""
    return ", ".join(flag.name.lower() for flag in StatusError if error & flag)
