"""The servo emulator against the vendor SDK, unchanged: `PortHandler` opens the pty's slave
path as it would /dev/ttyACM0, `PacketHandler` and the group classes talk to it. Ping,
read/write, sync read/write, REG_WRITE/ACTION, torque semantics, each injected fault as the SDK
sees it, and the timing figures (a read's median latency, an absent id's timeout)."""

from __future__ import annotations

import statistics
import time

import pytest
import scservo_sdk as scs

from librobot_gym.hardware.feetech import protocol as p
from librobot_gym.hardware.feetech.bus import PORT_ERRORS
from librobot_gym.hardware.feetech.emulator import ServoBusEmulator
from librobot_gym.hardware.feetech.protocol import STS3215
from tests.waiting import wait_until

GOAL, PRESENT, TORQUE = (STS3215.GOAL_POSITION.address, STS3215.PRESENT_POSITION.address,
                         STS3215.TORQUE_ENABLE.address)


@pytest.fixture
def bus():
    """(emulator with servos 1-3, the SDK's port on its pty, the SDK's packet handler)."""
    with ServoBusEmulator(ids=(1, 2, 3), positions={1: 1000, 2: 2048, 3: 3000}) as emulator:
        port = scs.PortHandler(emulator.port)
        assert port.openPort() and port.getBaudRate() == 1_000_000
        try:
            yield emulator, port, scs.PacketHandler(0)
        finally:
            port.closePort()


def test_ping_read_write_and_the_motion_model(bus):
    emulator, port, sdk = bus
    for servo_id in (1, 2, 3):
        assert sdk.ping(port, servo_id) == (p.STS3215_MODEL, scs.COMM_SUCCESS, 0)
    assert sdk.read2ByteTxRx(port, 1, PRESENT) == (1000, scs.COMM_SUCCESS, 0)
    assert sdk.read1ByteTxRx(port, 3, STS3215.ID.address) == (3, scs.COMM_SUCCESS, 0)
    assert sdk.read1ByteTxRx(port, 1, STS3215.PRESENT_VOLTAGE.address)[0] == 74

    # Torque off: a goal is stored but nothing moves; torque on: it goes there.
    assert sdk.write2ByteTxRx(port, 1, GOAL, 1500) == (scs.COMM_SUCCESS, 0)
    time.sleep(0.05)
    assert sdk.read2ByteTxRx(port, 1, PRESENT)[0] == 1000
    assert sdk.write1ByteTxRx(port, 1, TORQUE, 1) == (scs.COMM_SUCCESS, 0)
    assert wait_until(lambda: sdk.read2ByteTxRx(port, 1, PRESENT)[0] == 1500)
    assert sdk.read1ByteTxRx(port, 1, STS3215.MOVING.address)[0] == 0

    # A speed limit: 500 ticks at 1000 ticks/s take about half a second.
    sdk.write2ByteTxRx(port, 1, STS3215.GOAL_SPEED.address, 1000)
    sdk.write2ByteTxRx(port, 1, GOAL, 2000)
    time.sleep(0.2)
    moving = sdk.read2ByteTxRx(port, 1, PRESENT)[0]
    speed = scs.SCS_TOHOST(sdk.read2ByteTxRx(port, 1, STS3215.PRESENT_SPEED.address)[0], 15)
    assert 1600 <= moving <= 1850 and speed == pytest.approx(1000, abs=1)
    load = scs.SCS_TOHOST(sdk.read2ByteTxRx(port, 1, STS3215.PRESENT_LOAD.address)[0], 10)
    assert load > 0  # pushing towards a goal ahead
    assert wait_until(lambda: sdk.read2ByteTxRx(port, 1, PRESENT)[0] == 2000)

    # Read-only registers ignore writes; torque 128 re-centres (present := 2048).
    sdk.write2ByteTxRx(port, 2, PRESENT, 7)
    assert sdk.read2ByteTxRx(port, 2, PRESENT)[0] == 2048
    sdk.write1ByteTxRx(port, 3, TORQUE, 128)
    assert sdk.read2ByteTxRx(port, 3, PRESENT)[0] == 2048
    offset = sdk.read2ByteTxRx(port, 3, STS3215.HOMING_OFFSET.address)[0]
    assert scs.SCS_TOHOST(offset, 11) == 3000 - 2048


def test_sync_read_sync_write_and_reg_write_action(bus):
    emulator, port, sdk = bus
    for servo_id in (1, 2, 3):
        sdk.write1ByteTxRx(port, servo_id, TORQUE, 1)
    writer = scs.GroupSyncWrite(port, sdk, GOAL, 2)
    goals = {1: 1100, 2: 2100, 3: 2900}
    for servo_id, goal in goals.items():
        writer.addParam(servo_id, [scs.SCS_LOBYTE(goal), scs.SCS_HIBYTE(goal)])
    assert writer.txPacket() == scs.COMM_SUCCESS
    reader = scs.GroupSyncRead(port, sdk, PRESENT, 8)
    for servo_id in goals:
        reader.addParam(servo_id)

    def positions():
        assert reader.txRxPacket() == scs.COMM_SUCCESS
        return {i: reader.getData(i, PRESENT, 2) for i in goals}

    assert wait_until(lambda: positions() == goals)
    assert reader.getData(2, STS3215.PRESENT_TEMPERATURE.address, 1) == 32
    assert emulator.received["SYNC_WRITE"] == 1 and emulator.received["SYNC_READ"] >= 1

    # REG_WRITE stages, ACTION (broadcast, unanswered) applies on every servo at once.
    assert sdk.regWriteTxRx(port, 1, GOAL, 2, [0x60, 0x04]) == (scs.COMM_SUCCESS, 0)  # 1120
    time.sleep(0.05)
    assert sdk.read2ByteTxRx(port, 1, PRESENT)[0] == 1100
    assert sdk.action(port, p.BROADCAST_ID) == scs.COMM_SUCCESS
    assert wait_until(lambda: sdk.read2ByteTxRx(port, 1, PRESENT)[0] == 0x460)


def test_status_error_bits_and_protection(bus):
    emulator, port, sdk = bus
    sdk.write1ByteTxRx(port, 2, TORQUE, 1)
    emulator.overload(2)
    value, result, error = sdk.read2ByteTxRx(port, 2, PRESENT)
    assert result == scs.COMM_SUCCESS and error == scs.ERRBIT_OVERLOAD
    assert sdk.getRxPacketError(error) == "[RxPacketError] Overload error!"
    assert sdk.read1ByteTxRx(port, 2, TORQUE)[0] == 0  # the servo let go
    assert sdk.write1ByteTxRx(port, 2, TORQUE, 1) == (scs.COMM_SUCCESS, scs.ERRBIT_OVERLOAD)
    assert sdk.read1ByteTxRx(port, 2, TORQUE)[0] == 0  # and refuses torque while overloaded
    assert sdk.read1ByteTxRx(port, 2, STS3215.STATUS.address)[0] == scs.ERRBIT_OVERLOAD
    emulator.clear_faults(2)
    assert sdk.read1ByteTxRx(port, 2, TORQUE) == (0, scs.COMM_SUCCESS, 0)

    emulator.overheat(3)
    assert sdk.read1ByteTxRx(port, 3, STS3215.PRESENT_TEMPERATURE.address) == (
        76, scs.COMM_SUCCESS, scs.ERRBIT_OVERHEAT)
    emulator.undervoltage(1)
    assert sdk.ping(port, 1)[2] == scs.ERRBIT_VOLTAGE
    assert sdk.read1ByteTxRx(port, 1, STS3215.PRESENT_VOLTAGE.address)[0] == 38


def test_corrupt_muted_unplugged_and_hung_up(bus):
    emulator, port, sdk = bus
    emulator.corrupt(1, count=1)
    assert sdk.read2ByteTxRx(port, 1, PRESENT)[1] == scs.COMM_RX_CORRUPT
    assert sdk.read2ByteTxRx(port, 1, PRESENT) == (1000, scs.COMM_SUCCESS, 0)  # only one

    emulator.mute(2)
    assert sdk.ping(port, 2)[1] == scs.COMM_RX_TIMEOUT
    reader = scs.GroupSyncRead(port, sdk, PRESENT, 2)
    for servo_id in (1, 2, 3):
        reader.addParam(servo_id)
    assert reader.txRxPacket() == scs.COMM_RX_TIMEOUT
    emulator.mute(2, False)
    assert sdk.ping(port, 2)[1] == scs.COMM_SUCCESS

    sdk.write1ByteTxRx(port, 1, TORQUE, 1)
    sdk.write2ByteTxRx(port, 1, GOAL, 1200)
    emulator.unplug()
    assert all(sdk.ping(port, i)[1] == scs.COMM_RX_TIMEOUT for i in (1, 2, 3))
    emulator.replug()  # as after a power cycle: limp, goal where the shaft is
    position = sdk.read2ByteTxRx(port, 1, PRESENT)[0]
    assert sdk.read1ByteTxRx(port, 1, TORQUE)[0] == 0
    assert sdk.read2ByteTxRx(port, 1, GOAL)[0] == position

    emulator.hang_up()
    with pytest.raises(PORT_ERRORS):  # termios.error from the SDK's flush()
        sdk.ping(port, 1)


def test_a_bad_checksum_from_the_host_is_ignored_like_a_servo_does(bus):
    emulator, port, sdk = bus
    frame = bytearray(p.write(1, GOAL, (1234).to_bytes(2, "little")))
    frame[-1] ^= 0xFF
    port.writePort(bytes(frame))
    assert sdk.read2ByteTxRx(port, 1, GOAL) == (1000, scs.COMM_SUCCESS, 0)
    assert emulator.dropped_frames == 1


def test_timing_a_read_takes_well_under_a_millisecond_an_absent_id_the_sdk_timeout(bus):
    emulator, port, sdk = bus
    latencies = []
    for _ in range(200):
        start = time.perf_counter()
        assert sdk.read2ByteTxRx(port, 1, PRESENT)[1] == scs.COMM_SUCCESS
        latencies.append(time.perf_counter() - start)
    assert statistics.median(latencies) < 0.002  # ~0.2 ms measured (a 1 Mbps bus: ~0.2 ms)
    start = time.perf_counter()
    assert sdk.read2ByteTxRx(port, 9, PRESENT)[1] == scs.COMM_RX_TIMEOUT
    absent = time.perf_counter() - start
    # The SDK's own timeout: 2 x LATENCY_TIMER (16 ms) + 2 ms + the bytes' time at 1 Mbps.
    assert 0.034 <= absent < 0.2
