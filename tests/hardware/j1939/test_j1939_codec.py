"""The excavator's J1939 frames: byte-exact against the layout written out by hand (J1939-71
ranges, J1939-73 DM1), every frame round-trips, 'not available' and out-of-range values are
reported as such, and malformed frames raise a typed error, never anything else."""

from __future__ import annotations

import struct

import j1939
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from librobot_gym.hardware.driver import DriverError
from librobot_gym.hardware.j1939 import codec

SETTINGS = settings(max_examples=150, deadline=None)
MACHINE_PGNS = (codec.PGN_JOINT_ANGLES, codec.PGN_JOINT_RATES, codec.PGN_CYLINDER_PRESSURES,
                codec.PGN_MACHINE_STATUS)


# --- byte-exact -----------------------------------------------------------------------------
def test_identifiers_are_the_j1939_ones_can_j1939_builds():
    valve = codec.can_id(3, codec.PGN_VALVE_COMMAND, 0x81, 0x80)
    assert valve == 0x0CEF8081
    assert valve == j1939.MessageId(priority=3, parameter_group_number=0xEF80,
                                    source_address=0x81).can_id
    assert codec.parse_can_id(valve) == (3, 0xEF00, 0x81, 0x80)
    assert codec.can_id(6, codec.PGN_DM1, 0x80) == 0x18FECA80
    assert codec.parse_can_id(0x18FECA80) == (6, 65226, 0x80, codec.GLOBAL)
    for message in codec.database().messages:  # the DBC's ids carry the default addresses
        priority, pgn, source, destination = codec.parse_can_id(message.frame_id)
        assert codec.can_id(priority, pgn, source, destination) == message.frame_id & 0x1FFFFFFF
        assert message.length == 8 and message.protocol == "j1939"


def test_valve_frame_layout_counter_mode_and_checksum():
    identifier, data = codec.encode_valve_command([0.0, 1.0, -1.0, 0.504, -0.2, 0.2], 3)
    # 125 counts per side, raw 125 = neutral; byte 6: counter | mode << 4 | reserved (11) << 6
    body = bytes([125, 250, 0, 188, 100, 150, 3 | 1 << 4 | 3 << 6])
    checksum = (sum(body) + sum(identifier.to_bytes(4, "little"))) & 0xFF
    assert data == body + bytes([checksum])
    hold = codec.encode_valve_command(np.zeros(6), 15, codec.HOLD)[1]
    assert hold[:7] == bytes([125] * 6 + [15 | 0 << 4 | 3 << 6])


def test_machine_frames_are_little_endian_offset_binary():
    data = codec.encode(codec.PGN_JOINT_ANGLES, {"BoomAngle": 0.35, "StickAngle": 1.55,
                                                 "BucketAngle": 1.2, "SwingAngle": -3.0})
    raw = [round((v + 3.2) / 1e-4) for v in (0.35, 1.55, 1.2, -3.0)]
    assert data == struct.pack("<4H", *raw)  # boom, stick, bucket, swing
    status = codec.encode(codec.PGN_MACHINE_STATUS, {
        "MachineMode": 2, "EmergencyStop": 0, "PilotLockout": 1, "EngineSpeed": 1800.0,
        "HydraulicOilTemp": 55.0, "StatusCounter": 7, "CommandCounterEcho": 9,
        "ValveCommandStatus": 0})
    assert status == bytes([2 | 0 << 4 | 1 << 6]) + struct.pack("<H", 1800 * 8) + \
        bytes([55 + 40, 7 | 9 << 4, 0b11111100, 0xFF, 0xFF])  # reserved bits are ones


def test_dm1_layout_follows_j1939_73():
    assert codec.encode_dm1() == bytes([0, 0xFF, 0, 0, 0, 0, 0xFF, 0xFF])  # no active fault
    one = codec.encode_dm1({"RedStopLamp": 1}, [codec.TroubleCode(190, 3, 1)])
    # lamps: red stop in bits 6-5; SPN 190 low byte first; byte 5: SPN bits 18-16 | FMI
    assert one == bytes([0b00010000, 0xFF, 190, 0, 3, 1, 0xFF, 0xFF])
    big = codec.TroubleCode((0b101 << 16) | 0x1234, 31, 127)
    assert codec.encode_dm1({}, [big])[2:6] == bytes([0x34, 0x12, 0b101 << 5 | 31, 127])
    two = codec.encode_dm1({"AmberWarningLamp": 1}, [codec.TroubleCode(1638, 16),
                                                     codec.TroubleCode(190, 0)])
    assert len(two) == 10  # 2 + 4 n: too long for one frame, sent by BAM


# --- round trips ----------------------------------------------------------------------------
@SETTINGS
@given(st.lists(st.floats(-1, 1), min_size=6, max_size=6), st.integers(0, 15),
       st.sampled_from([codec.HOLD, codec.ACTIVE]), st.integers(0, 253), st.integers(0, 253))
def test_every_valve_frame_round_trips(valves, counter, mode, source, destination):
    identifier, data = codec.encode_valve_command(valves, counter, mode, source, destination)
    command = codec.decode_valve_command(identifier, data)
    np.testing.assert_allclose(command.valves, valves, atol=0.004 + 1e-12)  # half a count
    assert (command.counter, command.mode) == (counter, mode)
    assert codec.parse_can_id(identifier)[2:] == (source, destination)


def signal_values(pgn: int):
    """Strategy: a dict of physical values inside each signal's declared range."""
    fields = {}
    for signal in codec.message_for(pgn).signals:
        if signal.name in codec.UNRANGED:
            fields[signal.name] = st.integers(0, (1 << signal.length) - 1)
        elif signal.length <= 4:  # discrete: 2-bit 0-1, 4-bit 0-10 (J1939-71)
            fields[signal.name] = st.integers(0, 1 if signal.length == 2 else 10)
        else:
            fields[signal.name] = st.floats(signal.minimum, signal.maximum)
    return st.fixed_dictionaries(fields)


def mid_range_raw(signal) -> int:
    return round(((signal.minimum + signal.maximum) / 2 - signal.offset) / signal.scale)


@SETTINGS
@given(st.data())
def test_every_machine_frame_round_trips(data):
    pgn = data.draw(st.sampled_from(MACHINE_PGNS))
    values = data.draw(signal_values(pgn))
    decoded = codec.decode(pgn, codec.encode(pgn, values))
    assert not decoded.missing
    for signal in codec.message_for(pgn).signals:
        assert decoded.values[signal.name] == pytest.approx(values[signal.name],
                                                            abs=signal.scale / 2 + 1e-9)


@SETTINGS
@given(st.lists(st.tuples(st.integers(0, (1 << 19) - 1), st.integers(0, 31),
                          st.integers(0, 127)), max_size=6),
       st.lists(st.integers(0, 3), min_size=4, max_size=4))
def test_every_dm1_round_trips_one_frame_or_bam(codes, lamps):
    codes = [codec.TroubleCode(*c) for c in codes if c != (0, 0, 0)]
    lamps = dict(zip(codec.LAMPS, lamps, strict=True))
    dm1 = codec.decode_dm1(codec.encode_dm1(lamps, codes))
    assert dm1.codes == tuple(codes) and dm1.lamps == lamps
    assert dm1.red_stop == (lamps["RedStopLamp"] == 1)


@SETTINGS
@given(st.integers(0, 7), st.integers(0, 0x3FFFF), st.integers(0, 255), st.integers(0, 255))
def test_identifiers_round_trip(priority, pgn, source, destination):
    pdu1 = (pgn >> 8) & 0xFF < 240
    pgn = pgn & 0x3FF00 if pdu1 else pgn
    expected = (priority, pgn, source, destination if pdu1 else codec.GLOBAL)
    assert codec.parse_can_id(codec.can_id(priority, pgn, source, destination)) == expected


# --- not available, out of range, malformed -------------------------------------------------
def test_not_available_and_error_values_are_listed_not_given_a_value():
    data = codec.encode(codec.PGN_JOINT_ANGLES, {"BoomAngle": 0.3, "StickAngle": 1.5,
                                                 "BucketAngle": 1.0},
                        {"SwingAngle": 0xFFFF, "BucketAngle": 0xFE12})
    decoded = codec.decode(codec.PGN_JOINT_ANGLES, data)
    assert decoded.missing == {"SwingAngle": "not available", "BucketAngle": "error"}
    assert set(decoded.values) == {"BoomAngle", "StickAngle"}
    status = codec.decode(codec.PGN_MACHINE_STATUS, codec.encode(
        codec.PGN_MACHINE_STATUS, {}, {"EngineSpeed": 0xFF00, "HydraulicOilTemp": 0xFF,
                                       "MachineMode": 15, "EmergencyStop": 3}))
    assert set(status.missing) == {"EngineSpeed", "HydraulicOilTemp", "MachineMode",
                                   "EmergencyStop"}


def test_out_of_range_and_reserved_values_raise():
    boom_2_rad = round((2.0 + 3.2) / 1e-4)  # a valid J1939 raw value, beyond the boom's range
    data = codec.encode(codec.PGN_JOINT_ANGLES, {"StickAngle": 1.5}, {"BoomAngle": boom_2_rad})
    with pytest.raises(codec.SignalOutOfRange, match="BoomAngle = 2 rad"):
        codec.decode(codec.PGN_JOINT_ANGLES, data)
    data = codec.encode(codec.PGN_JOINT_ANGLES, {"StickAngle": 1.5}, {"BoomAngle": 0xFC00})
    with pytest.raises(codec.SignalOutOfRange, match="reserved"):
        codec.decode(codec.PGN_JOINT_ANGLES, data)
    with pytest.raises(ValueError):
        codec.encode_valve_command([0, 0, 0, np.nan, 0, 0], 0)
    with pytest.raises(ValueError):
        codec.encode_valve_command([0, 0, 0, 1.5, 0, 0], 0)


@SETTINGS
@given(st.integers(0, 0xFFFF), st.sampled_from(MACHINE_PGNS[:3]), st.integers(0, 3))
def test_any_raw_value_is_valid_missing_or_out_of_range(raw, pgn, index):
    message = codec.message_for(pgn)
    name = message.signals[index].name
    signal = message.get_signal_by_name(name)
    data = codec.encode(pgn, {}, {s.name: mid_range_raw(s) for s in message.signals}
                        | {name: raw})
    try:
        decoded = codec.decode(pgn, data)
    except codec.SignalOutOfRange:
        return
    if name in decoded.missing:
        assert raw >= 0xFE00
    else:
        assert np.isfinite(decoded.values[name])
        assert signal.minimum <= decoded.values[name] <= signal.maximum


@SETTINGS
@given(st.binary(max_size=20), st.sampled_from((*MACHINE_PGNS, codec.PGN_DM1,
                                                 codec.PGN_VALVE_COMMAND)))
def test_malformed_frames_raise_a_typed_error_never_crash(data, pgn):
    try:
        if pgn == codec.PGN_DM1:
            codec.decode_dm1(data)
        elif pgn == codec.PGN_VALVE_COMMAND:
            codec.decode_valve_command(0x0CEF8081, data)
        else:
            codec.decode(pgn, data)
    except codec.SignalError as error:
        assert isinstance(error, DriverError) and str(error)


@SETTINGS
@given(st.integers(0, 63), st.lists(st.floats(-1, 1), min_size=6, max_size=6))
def test_a_flipped_bit_or_another_identifier_fails_the_checksum(bit, valves):
    identifier, data = codec.encode_valve_command(valves, 5)
    corrupt = bytearray(data)
    corrupt[bit // 8] ^= 1 << (bit % 8)
    with pytest.raises(codec.MalformedFrame, match="checksum"):
        codec.decode_valve_command(identifier, bytes(corrupt))
    with pytest.raises(codec.MalformedFrame, match="checksum"):  # a spoofed source address
        codec.decode_valve_command(codec.can_id(3, codec.PGN_VALVE_COMMAND, 0x82, 0x80), data)
    with pytest.raises(codec.MalformedFrame):
        codec.decode(0xFF99, data)  # a group this DBC does not define
