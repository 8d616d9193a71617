"""The Feetech wire format: round trips of every frame kind, checksums, corrupt and truncated
frames rejected with a typed error, and agreement byte for byte with the vendor SDK
(scservo_sdk builds packets that our parser reads, and parses the status frames we build)."""

from __future__ import annotations

import scservo_sdk as scs
from hypothesis import given, settings
from hypothesis import strategies as st

from librobot_gym.hardware.feetech import protocol as p
from librobot_gym.hardware.feetech.protocol import STS3215, Instruction

IDS = st.integers(0, p.MAX_ID)
PARAMS = st.binary(max_size=40)
FAST = settings(max_examples=60, deadline=None)


class WirePort:
    """The SDK's view of a serial port, recording what it writes and serving what it reads:
    it lets the SDK's own packet code run unchanged without a device."""

    def __init__(self, incoming: bytes = b""):
        self.is_using, self.written, self.incoming = False, bytearray(), bytearray(incoming)
        self.timed_out = False

    def clearPort(self):  # noqa: N802 - the SDK's names
        pass

    def writePort(self, packet):  # noqa: N802
        self.written += bytes(packet)
        return len(packet)

    def readPort(self, length):  # noqa: N802
        data, self.incoming[:length] = bytes(self.incoming[:length]), b""
        return data

    def setPacketTimeout(self, length):  # noqa: N802
        self.timed_out = False

    def isPacketTimeout(self):  # noqa: N802
        done, self.timed_out = self.timed_out, True  # one more read, then give up
        return done


def sdk() -> scs.protocol_packet_handler:
    return scs.PacketHandler(0)


@FAST
@given(servo_id=st.integers(0, p.BROADCAST_ID), code=st.integers(0, 255), params=PARAMS)
def test_any_frame_round_trips(servo_id, code, params):
    frame = p.encode_frame(servo_id, code, params)
    assert len(frame) == frame[3] + 4 and frame[:2] == p.HEADER
    assert p.parse_frame(frame) == p.Frame(servo_id, code, params)


@FAST
@given(servo_id=IDS, code=st.integers(0, 255), params=PARAMS, where=st.integers(2, 200),
       flip=st.integers(1, 255))
def test_a_changed_byte_is_rejected_with_a_typed_error(servo_id, code, params, where, flip):
    frame = bytearray(p.encode_frame(servo_id, code, params))
    where = 2 + where % (len(frame) - 2)  # anything after the header, checksum included
    frame[where] ^= flip
    try:
        p.parse_frame(bytes(frame))
    except p.FrameError as error:
        if where != 3:  # a changed LEN shows as truncation or trailing bytes instead
            assert isinstance(error, p.ChecksumError)
    else:
        raise AssertionError("a corrupted frame was accepted")


@FAST
@given(servo_id=IDS, params=PARAMS, cut=st.integers(1, 60))
def test_truncated_frames_are_rejected(servo_id, params, cut):
    frame = p.encode_frame(servo_id, Instruction.WRITE, params)
    short = frame[: max(len(frame) - cut, 0)]
    try:
        p.parse_frame(short)
    except p.TruncatedFrame:
        pass
    else:
        raise AssertionError(f"{short.hex()} parsed")


NO_HEADER = st.binary(max_size=40).map(lambda b: b.replace(b"\xff", b"\xfe"))


@FAST
@given(frames=st.lists(st.tuples(IDS, st.integers(0, 0x7F), NO_HEADER), min_size=1, max_size=5),
       junk=st.binary(max_size=8), corrupt=st.integers(0, 4), chunk=st.integers(1, 9))
def test_the_stream_reader_resynchronises_and_drops_corrupt_frames(frames, junk, corrupt,
                                                                   chunk):
    encoded = [bytearray(p.encode_status(i, e, d)) for i, e, d in frames]
    bad = corrupt % len(encoded)
    encoded[bad][-1] ^= 0xFF
    stream = junk.replace(b"\xff", b"\x00") + b"".join(encoded)
    reader = p.FrameReader()
    got = []
    for start in range(0, len(stream), chunk):  # bytes arrive in arbitrary pieces
        got += reader.feed(stream[start: start + chunk])
    expected = [p.Frame(i, e, d) for k, (i, e, d) in enumerate(frames) if k != bad]
    # (Payloads without ff ff here: a corrupt frame's payload could hold a false header.)
    assert got == expected and reader.dropped >= 1


@FAST
@given(value=st.integers(-32767, 32767), bit=st.sampled_from([10, 11, 15]))
def test_sign_magnitude_matches_the_sdk(value, bit):
    if abs(value) >= 1 << bit:
        return
    raw = p.to_sign_magnitude(value, bit)
    assert raw == scs.SCS_TOSCS(value, bit)
    assert p.from_sign_magnitude(raw, bit) == scs.SCS_TOHOST(raw, bit) == value


@FAST
@given(register=st.sampled_from(STS3215.registers()), data=st.data())
def test_register_values_round_trip(register, data):
    if register.sign_bit is None:
        value = data.draw(st.integers(0, (1 << (8 * register.size)) - 1))
    else:
        value = data.draw(st.integers(-(1 << register.sign_bit) + 1, (1 << register.sign_bit) - 1))
    raw = p.encode_value(register, value)
    assert len(raw) == register.size and p.decode_value(register, raw) == value


def test_the_control_table_is_the_sts3215s():
    table = {r.name: (r.address, r.size) for r in STS3215.registers()}
    assert table["id"] == (5, 1) and table["baud_rate"] == (6, 1)
    assert table["min_angle_limit"] == (9, 2) and table["max_angle_limit"] == (11, 2)
    assert table["torque_enable"] == (40, 1) and table["acceleration"] == (41, 1)
    assert table["goal_position"] == (42, 2) and table["goal_time"] == (44, 2)
    assert table["goal_speed"] == (46, 2) and table["lock"] == (55, 1)
    assert table["present_position"] == (56, 2) and table["present_speed"] == (58, 2)
    assert table["present_load"] == (60, 2) and table["present_voltage"] == (62, 1)
    assert table["present_temperature"] == (63, 1) and table["moving"] == (66, 1)
    assert table["present_current"] == (69, 2)
    assert STS3215.PRESENT_LOAD.sign_bit == 10 and STS3215.PRESENT_SPEED.sign_bit == 15
    sdk_bits = {"VOLTAGE": "ERRBIT_VOLTAGE", "ANGLE": "ERRBIT_ANGLE",
                "OVERHEAT": "ERRBIT_OVERHEAT", "OVERCURRENT": "ERRBIT_OVERELE",
                "OVERLOAD": "ERRBIT_OVERLOAD"}
    for ours, theirs in sdk_bits.items():
        assert int(p.StatusError[ours]) == getattr(scs, theirs)
    assert p.describe_error(0x24) == "overheat, overload"


# --- the SDK builds, we parse -------------------------------------------------------------------
@FAST
@given(servo_id=IDS, address=st.integers(0, 85), value=st.integers(0, 0xFFFF),
       length=st.integers(1, 8))
def test_sdk_instruction_packets_are_what_we_build(servo_id, address, value, length):
    handler = sdk()
    cases = [
        (lambda port: handler.readTx(port, servo_id, address, length),
         p.read(servo_id, address, length)),
        (lambda port: handler.write2ByteTxOnly(port, servo_id, address, value),
         p.write(servo_id, address, value.to_bytes(2, "little"))),
        (lambda port: handler.write1ByteTxOnly(port, servo_id, address, value & 0xFF),
         p.write(servo_id, address, bytes((value & 0xFF,)))),
        (lambda port: handler.regWriteTxOnly(port, servo_id, address, 2,
                                             list(value.to_bytes(2, "little"))),
         p.reg_write(servo_id, address, value.to_bytes(2, "little"))),
        (lambda port: handler.action(port, p.BROADCAST_ID), p.action()),
    ]
    for send, ours in cases:
        port = WirePort()
        send(port)
        assert bytes(port.written) == ours
        frame = p.parse_frame(bytes(port.written))
        assert frame.servo_id in (servo_id, p.BROADCAST_ID)


def test_sdk_ping_is_what_we_build_and_reads_our_status():
    handler = sdk()
    model = p.STS3215_MODEL.to_bytes(2, "little")
    port = WirePort(p.encode_status(7) + p.encode_status(7, 0, model))
    assert handler.ping(port, 7) == (p.STS3215_MODEL, scs.COMM_SUCCESS, 0)
    assert bytes(port.written) == p.ping(7) + p.read(7, 3, 2)


@FAST
@given(ids=st.lists(IDS, min_size=1, max_size=8, unique=True), address=st.integers(0, 85),
       data=st.data())
def test_sdk_group_packets_are_what_we_build(ids, address, data):
    handler = sdk()
    length = data.draw(st.integers(1, 4))
    port = WirePort()
    group = scs.GroupSyncRead(port, handler, address, length)
    for servo_id in ids:
        group.addParam(servo_id)
    group.txPacket()
    assert bytes(port.written) == p.sync_read(address, length, ids)

    values = {i: data.draw(st.binary(min_size=length, max_size=length)) for i in ids}
    port = WirePort()
    writer = scs.GroupSyncWrite(port, handler, address, length)
    for servo_id, payload in values.items():
        writer.addParam(servo_id, list(payload))
    writer.txPacket()
    assert bytes(port.written) == p.sync_write(address, length, values)
    assert p.split_sync_write(p.parse_frame(bytes(port.written))) == (address, values)


# --- we build, the SDK parses ---------------------------------------------------------------------
@FAST
@given(servo_id=IDS, error=st.integers(0, 0x7F), payload=st.binary(min_size=1, max_size=8),
       corrupt=st.booleans())
def test_sdk_reads_our_status_frames_and_rejects_corrupt_ones(servo_id, error, payload,
                                                              corrupt):
    status = bytearray(p.encode_status(servo_id, error, payload))
    if corrupt:
        status[-1] ^= 0x01
    port = WirePort(bytes(status))
    port.setPacketTimeout(0)
    data, result, got_error = sdk().readRx(port, servo_id, len(payload))
    if corrupt:
        assert result == scs.COMM_RX_CORRUPT
        try:
            p.parse_frame(bytes(status))
        except p.ChecksumError:
            pass
        else:
            raise AssertionError("we accepted what the SDK calls corrupt")
    else:
        assert (bytes(data), result, got_error) == (payload, scs.COMM_SUCCESS, error)


def test_a_short_reply_the_sdk_chokes_on_is_retried_as_a_corrupt_one():
    """scservo_sdk's ping indexes a reply it accepted whole; a late, short answer to an earlier
    request makes it raise IndexError. The bus counts it as corrupt and asks again."""
    from librobot_gym.hardware.feetech.bus import FeetechBus

    bus = FeetechBus("/dev/unused")
    bus._begin = lambda: object()  # no port: the transaction below never touches one
    answers = iter([IndexError("list index out of range"), (1020, scs.COMM_SUCCESS, 0)])

    def ping(port):
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert bus._transact(1, "a ping", ping) == (1020, 0)
    assert bus.corrupt_replies == 1
