"""Frames of the machines' J1939 protocol (`machines.dbc`) to typed values and back: the
excavator's valve frames, and the wheeled machines' (wheel loader, articulated hauler) drive
command, standard engine, transmission, brake and speed groups (EEC1, ETC2, EBC1, CCVS) and
proprietary steering, implement and site-pose groups.

cantools does the bit layout from the DBC; this module adds what J1939 means on top of it:
29-bit identifiers (priority, PGN, destination, source), the J1939-71 ranges of raw values
(8-bit 0-250 valid, 0xFE error, 0xFF not available; 16-bit 0-0xFAFF, 0xFExx, 0xFFxx; 4-bit
0-10, 14, 15; 2-bit 0-1, 2, 3), the command frames' rolling counter and checksum, and DM1's
diagnostic trouble codes (SPN split over three fields, any number of DTCs).

Decoding never passes a number it cannot vouch for: a missing value (not available / error
indicator) is listed in `Decoded.missing` instead of being given a value, a value outside the
DBC's declared range or in a reserved raw range raises `SignalOutOfRange`, and a frame of the
wrong length, with a bad checksum or of an unknown group raises `MalformedFrame`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import cantools
import numpy as np

from librobot_gym.hardware.driver import DriverError

DBC_PATH = Path(__file__).with_name("machines.dbc")
MACHINE_ADDRESS = 0x80  # the machine's controller, one machine per bus (self-configurable)
CONTROLLER_ADDRESS = 0x81  # the autonomy controller: this driver
GLOBAL = 0xFF

PGN_VALVE_COMMAND = 0xEF00  # proprietary A, PDU1: destination-specific
PGN_JOINT_ANGLES = 0xFF10
PGN_JOINT_RATES = 0xFF11
PGN_CYLINDER_PRESSURES = 0xFF12
PGN_MACHINE_STATUS = 0xFF13
PGN_DM1 = 0xFECA  # 65226, active diagnostic trouble codes (J1939-73)
PGN_ADDRESS_CLAIMED = 0xEE00
# Wheeled machines (wheel loader, articulated hauler).
PGN_DRIVE_COMMAND = 0x1EF00  # proprietary A2, PDU1: destination-specific
PGN_EEC1 = 0xF004  # 61444, electronic engine controller 1
PGN_ETC2 = 0xF005  # 61445, electronic transmission controller 2
PGN_EBC1 = 0xF001  # 61441, electronic brake controller 1
PGN_CCVS = 0xFEF1  # 65265, cruise control / vehicle speed
PGN_ARTICULATION = 0xFF20
PGN_IMPLEMENT_STATE = 0xFF21
PGN_IMPLEMENT_PRESSURES = 0xFF22
PGN_SITE_POSE = 0xFF23

VALVES = ("BoomValve", "StickValve", "BucketValve", "SwingValve", "LeftTrackValve",
          "RightTrackValve")
DRIVE = ("Throttle", "ServiceBrake", "ArticulationTarget", "RequestedGear", "Implement1Valve",
         "Implement2Valve")  # DRIVE_COMMAND's values, in the `drive+...` action's order
ANGLES = ("SwingAngle", "BoomAngle", "StickAngle", "BucketAngle")  # robot.joints order
RATES = ("SwingRate", "BoomRate", "StickRate", "BucketRate")
PRESSURES = ("SwingPressure", "BoomPressure", "StickPressure", "BucketPressure")
LAMPS = ("ProtectLamp", "AmberWarningLamp", "RedStopLamp", "MalfunctionIndicatorLamp")
# Counters, checksums and DTC fields use every raw value: no J1939-71 "not available" there.
UNRANGED = frozenset({"CommandCounter", "Checksum", "Reserved", "StatusCounter",
                      "CommandCounterEcho", "StatusReserved", "SpnLow", "SpnHigh", "Fmi",
                      "OccurrenceCount", "SpnConversionMethod", "Dm1Reserved"})
HOLD, ACTIVE = 0, 1  # VALVE_COMMAND ControlMode
# Drivetrain trouble codes (J1939-71 SPNs; FMI 1: valid data below the normal range, most
# severe): a service brake accumulator low, a transmission without oil pressure.
SPN_BRAKE_PRESSURE = 117  # brake primary pressure
SPN_TRANSMISSION_OIL_PRESSURE = 127
FMI_LOW_MOST_SEVERE = 1
MACHINE_MODES = {0: "manual", 1: "remote_ready", 2: "remote_active", 3: "command_timeout",
                 4: "fault"}


class SignalError(DriverError):
    """A frame from the machine cannot be used as it is."""


class MalformedFrame(SignalError):
    """Wrong length, bad checksum, unknown group: the frame is dropped, never half-read."""


class SignalOutOfRange(SignalError):
    """A value the machine cannot physically report: a sensor or wiring fault."""


class SignalNotAvailable(SignalError):
    """The machine reports 'not available' (or 'error') for a value control depends on."""


@dataclass(frozen=True)
class Decoded:
    """One decoded frame: physical values, and what the machine said it does not have."""

    values: dict[str, float]
    missing: dict[str, str] = field(default_factory=dict)  # signal -> "not available"/"error"


@dataclass(frozen=True)
class Command:
    """A command frame as the machine reads it: its values in the frame's order (VALVES:
    normalised pilots; DRIVE: throttle, brake, articulation rad, gear, two valves)."""

    values: np.ndarray
    counter: int
    mode: int  # HOLD or ACTIVE

    @property
    def valves(self) -> np.ndarray:
        return self.values


ValveCommand = Command


@dataclass(frozen=True)
class TroubleCode:
    """A diagnostic trouble code: suspect parameter number, failure mode identifier."""

    spn: int
    fmi: int
    occurrences: int = 1

    def __str__(self) -> str:
        return f"SPN {self.spn} FMI {self.fmi} (x{self.occurrences})"


@dataclass(frozen=True)
class Dm1:
    """Active diagnostic trouble codes and the lamps (0 off, 1 on, 2 error, 3 not available)."""

    lamps: dict[str, int]
    codes: tuple[TroubleCode, ...] = ()

    @property
    def red_stop(self) -> bool:
        return self.lamps.get("RedStopLamp") == 1

    @property
    def amber_warning(self) -> bool:
        return self.lamps.get("AmberWarningLamp") == 1


@cache
def database() -> cantools.database.can.Database:
    return cantools.database.load_file(str(DBC_PATH))


@cache
def message_for(pgn: int) -> cantools.database.can.Message:
    """The DBC message of a parameter group (source and destination do not matter)."""
    for message in database().messages:
        if parse_can_id(message.frame_id)[1] == pgn:
            return message
    raise MalformedFrame(f"PGN 0x{pgn:04X} is not in {DBC_PATH.name}")


def can_id(priority: int, pgn: int, source: int, destination: int = GLOBAL) -> int:
    """The 29-bit identifier; a PDU1 group (PF < 240) carries `destination` in its PS byte."""
    pdu_format = (pgn >> 8) & 0xFF
    if pdu_format < 240:
        pgn = (pgn & 0x3FF00) | destination
    return (priority & 0x7) << 26 | (pgn & 0x3FFFF) << 8 | (source & 0xFF)


def parse_can_id(identifier: int) -> tuple[int, int, int, int]:
    """(priority, PGN, source, destination) of a 29-bit identifier (PDU2: destination global)."""
    priority, pgn, source = (identifier >> 26) & 0x7, (identifier >> 8) & 0x3FFFF, identifier & 0xFF
    if (pgn >> 8) & 0xFF < 240:
        return priority, pgn & 0x3FF00, source, pgn & 0xFF
    return priority, pgn, source, GLOBAL


def raw_class(raw: int, length: int) -> str:
    """'valid', 'error', 'not available' or 'reserved' for a J1939-71 parameter's raw value."""
    if length == 2:
        return ("valid", "valid", "error", "not available")[raw]
    if length == 4:
        return "valid" if raw <= 10 else {14: "error", 15: "not available"}.get(raw, "reserved")
    if length < 8:  # other bit fields (reserved bits): all ones is "not available"
        return "not available" if raw == (1 << length) - 1 else "valid"
    top = raw >> (length - 8)  # ranges are defined on the most significant byte
    if top <= 0xFA:
        return "valid"
    return {0xFE: "error", 0xFF: "not available"}.get(top, "reserved")


def decode(pgn: int, data: bytes) -> Decoded:
    """A machine frame (angles, rates, pressures, status) -> physical values (module doc)."""
    message = message_for(pgn)
    data = bytes(data)
    if len(data) != message.length:
        raise MalformedFrame(f"{message.name} must be {message.length} bytes, got {len(data)}: "
                             f"{data.hex()} (a corrupt frame or another ECU's group)")
    raw = message.decode(data, decode_choices=False, scaling=False)
    values, missing = {}, {}
    for signal in message.signals:
        name, value = signal.name, int(raw[signal.name])
        if name in UNRANGED:
            values[name] = float(value)
            continue
        kind = raw_class(value, signal.length)
        if kind == "reserved":
            raise SignalOutOfRange(f"{message.name}.{name}: raw value 0x{value:X} lies in a "
                                   "J1939 reserved range; check the machine's sensor and wiring")
        if kind != "valid":
            missing[name] = kind
            continue
        scaled = float(signal.conversion.raw_to_scaled(value, decode_choices=False))
        low, high = signal.minimum, signal.maximum
        # a DBC rounds its limits (CCVS speed: 250.996 km/h, raw 0xFAFF = 250.99609): half a
        # raw step beyond one is the limit itself
        slack = max(abs(float(signal.conversion.scale)) / 2, 1e-9)
        if ((low is not None and scaled < low - slack)
                or (high is not None and scaled > high + slack)):
            raise SignalOutOfRange(f"{message.name}.{name} = {scaled:g} {signal.unit or ''} is "
                                   f"outside its range [{low:g}, {high:g}]; the sensor or its "
                                   "calibration is faulty: check it before driving the machine")
        values[name] = scaled
    return Decoded(values, missing)


def encode(pgn: int, values: dict[str, float], raw_overrides: dict[str, int] | None = None
           ) -> bytes:
    """A machine frame from physical values (the emulator's side). `raw_overrides` puts raw
    values in as they are (fault injection: 0xFFFF 'not available', out-of-range values)."""
    message = message_for(pgn)
    if not raw_overrides:
        return message.encode({s.name: values.get(s.name, _default(s)) for s in message.signals},
                              strict=True)
    raw = {}
    for signal in message.signals:
        if signal.name in raw_overrides:
            raw[signal.name] = int(raw_overrides[signal.name])
        else:
            raw[signal.name] = int(signal.conversion.scaled_to_raw(
                values.get(signal.name, _default(signal))))
    return message.encode(raw, scaling=False, strict=False)


def _default(signal) -> float:
    """Reserved bits are sent as ones (J1939-71); any other signal left out is zero."""
    return float((1 << signal.length) - 1) if "Reserved" in signal.name else 0.0


def _checksum(body: bytes, identifier: int) -> int:
    return (sum(body[:7]) + sum(identifier.to_bytes(4, "little"))) & 0xFF


def encode_command(pgn: int, names: tuple[str, ...], values, counter: int, mode: int = ACTIVE,
                   source: int = CONTROLLER_ADDRESS, destination: int = MACHINE_ADDRESS
                   ) -> tuple[int, bytes]:
    """(29-bit identifier, 8 bytes) of one command frame (VALVE_COMMAND, DRIVE_COMMAND): the
    `names` signals from `values` (finite, inside the DBC's ranges), the rolling counter, the
    control mode and the checksum over the frame and its identifier (priority 3)."""
    values = np.asarray(values, dtype=np.float64).reshape(-1)
    message = message_for(pgn)
    if values.shape != (len(names),) or not np.all(np.isfinite(values)):
        raise ValueError(f"{message.name}: {len(names)} finite values are needed ({names}), "
                         f"got {values}")
    signals = {}
    for name, value in zip(names, values, strict=True):
        signal = message.get_signal_by_name(name)
        if not signal.minimum - 1e-9 <= value <= signal.maximum + 1e-9:
            raise ValueError(f"{message.name}.{name} = {value:g} is outside [{signal.minimum:g}, "
                             f"{signal.maximum:g}]")
        signals[name] = float(np.clip(value, signal.minimum, signal.maximum))
    identifier = can_id(3, pgn, source, destination)
    signals.update(CommandCounter=counter & 0xF, ControlMode=mode, Reserved=3, Checksum=0)
    body = bytearray(message.encode(signals, strict=True))
    body[7] = _checksum(body, identifier)
    return identifier, bytes(body)


def decode_command(pgn: int, names: tuple[str, ...], identifier: int, data: bytes) -> Command:
    """The machine's side: checks length, checksum and the values' J1939 ranges; a frame that
    says hold may leave its values out (they are read as 0)."""
    data = bytes(data)
    name = message_for(pgn).name
    if len(data) != 8:
        raise MalformedFrame(f"{name} must be 8 bytes, got {len(data)}: {data.hex()}")
    if data[7] != _checksum(data, identifier):
        raise MalformedFrame(f"{name} checksum 0x{data[7]:02X} != "
                             f"0x{_checksum(data, identifier):02X}: corrupt frame, or sent with "
                             "another identifier")
    decoded = decode(pgn, data)
    mode = int(decoded.values.get("ControlMode", HOLD)) if "ControlMode" not in decoded.missing \
        else HOLD
    if decoded.missing and mode == ACTIVE:
        raise SignalNotAvailable(f"{name} without values for {sorted(decoded.missing)}")
    values = np.array([decoded.values.get(signal, 0.0) for signal in names])
    return Command(values, int(decoded.values["CommandCounter"]), mode)


def encode_valve_command(valves, counter: int, mode: int = ACTIVE,
                         source: int = CONTROLLER_ADDRESS,
                         destination: int = MACHINE_ADDRESS) -> tuple[int, bytes]:
    """(29-bit identifier, 8 bytes) of one valve frame. Valves must be finite, in [-1, 1]."""
    return encode_command(PGN_VALVE_COMMAND, VALVES, valves, counter, mode, source, destination)


def decode_valve_command(identifier: int, data: bytes) -> Command:
    """The excavator's side of `decode_command`."""
    return decode_command(PGN_VALVE_COMMAND, VALVES, identifier, data)


def encode_dm1(lamps: dict[str, int] | None = None, codes=()) -> bytes:
    """DM1 data: 8 bytes for up to one DTC (none: SPN 0 FMI 0), 2 + 4 n bytes beyond (BAM)."""
    message = message_for(PGN_DM1)
    lamps = {name: 0 for name in LAMPS} | dict(lamps or {})
    frames = []
    for code in codes or (TroubleCode(0, 0, 0),):
        if not (0 <= code.spn < 1 << 19 and 0 <= code.fmi < 32 and 0 <= code.occurrences < 128):
            raise ValueError(f"{code}: SPN is 19 bits, FMI 5, the occurrence count 7")
        frames.append(message.encode({
            **{name: lamps[name] for name in LAMPS}, "FlashProtectLamp": 3,
            "FlashAmberWarningLamp": 3, "FlashRedStopLamp": 3, "FlashMalfunctionIndicatorLamp": 3,
            "SpnLow": code.spn & 0xFFFF, "SpnHigh": code.spn >> 16, "Fmi": code.fmi,
            "OccurrenceCount": code.occurrences, "SpnConversionMethod": 0,
            "Dm1Reserved": 0xFFFF}, strict=True))
    if len(frames) == 1:
        return frames[0]
    return frames[0][:2] + b"".join(frame[2:6] for frame in frames)


def decode_dm1(data: bytes) -> Dm1:
    """DM1 of any length (one frame or a BAM transfer) -> lamps and trouble codes."""
    data = bytes(data)
    if len(data) < 8 or (len(data) > 8 and (len(data) - 2) % 4):
        raise MalformedFrame(f"DM1 is 8 bytes, or 2 + 4 n bytes over BAM; got {len(data)}: "
                             f"{data.hex()}")
    message = message_for(PGN_DM1)
    count = 1 if len(data) == 8 else (len(data) - 2) // 4
    lamps, codes = {}, []
    for index in range(count):
        frame = data[:2] + data[2 + 4 * index: 6 + 4 * index] + b"\xff\xff"
        raw = message.decode(frame, decode_choices=False, scaling=False)
        lamps = {name: int(raw[name]) for name in LAMPS}
        spn = int(raw["SpnLow"]) | int(raw["SpnHigh"]) << 16
        if spn or raw["Fmi"] or raw["OccurrenceCount"]:  # SPN 0 FMI 0: "no active fault"
            codes.append(TroubleCode(spn, int(raw["Fmi"]), int(raw["OccurrenceCount"])))
    return Dm1(lamps, tuple(codes))


def wrap_angle(angle: float) -> float:
    """An angle in [-pi, pi): how the swing encoder reports the house."""
    return (angle + math.pi) % (2 * math.pi) - math.pi
