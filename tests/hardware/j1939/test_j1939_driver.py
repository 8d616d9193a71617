"""`J1939Driver` against `ExcavatorEcuEmulator` on python-can's in-process `virtual` bus (no
traffic leaves the process): address claim, state, valve commands moving the right joints, and
each fault with its reaction and its latency."""

from __future__ import annotations

import itertools
import time

import can
import numpy as np
import pytest

from librobot_gym.errors import ConfigError
from librobot_gym.hardware.driver import DriverDisconnected, RobotFault
from librobot_gym.hardware.drivers import make_driver
from librobot_gym.hardware.j1939 import codec
from librobot_gym.hardware.j1939.driver import HEARTBEAT_TIMEOUT, J1939Driver
from librobot_gym.hardware.j1939.emulator import ExcavatorEcuEmulator
from librobot_gym.robots import get_robot
from tests.waiting import wait_until

EXCAVATOR = get_robot("excavator")
HOME = np.array(EXCAVATOR.home_qpos)
CONTROL_PERIOD = 1.0 / EXCAVATOR.control_hz
_channels = itertools.count()


def last_mode(emulator) -> int | None:
    """ControlMode of the newest valve frame the machine accepted."""
    return emulator.received[-1][1].mode if emulator.received else None


def raises_now(driver, error=Exception):
    try:
        driver.read_state()
    except error as caught:
        return caught
    return None


@pytest.fixture
def machine():
    channel = f"test-j1939-{next(_channels)}"
    emulator = ExcavatorEcuEmulator(channel).start()
    driver = J1939Driver(channel, interface="virtual", connect_timeout=2.0)
    try:
        driver.connect()
        yield emulator, driver
    finally:
        driver.close()
        emulator.stop()


def test_address_claim_first_state_and_the_50_hz_command_stream(machine):
    emulator, driver = machine
    assert driver._ca.device_address == codec.CONTROLLER_ADDRESS
    assert emulator.claims[codec.CONTROLLER_ADDRESS] == driver.ca_name.value  # its NAME
    state = driver.read_state()
    np.testing.assert_allclose(state.joint_pos, HOME, atol=1e-4)
    np.testing.assert_allclose(state.joint_vel, 0.0, atol=1e-4)
    assert np.all(np.isfinite(state.extras["pressure_pa"])) and not state.extras["not_available"]
    assert state.extras["pressure_pa"][1] > 5e6  # the boom holds the attachment up
    assert state.extras["machine_mode"] in ("remote_ready", "remote_active")
    assert time.monotonic() - state.stamp < 0.1
    start, count = time.monotonic(), len(emulator.received)
    time.sleep(0.5)
    rate = (len(emulator.received) - count) / (time.monotonic() - start)
    assert 35 < rate < 60, rate  # 50 Hz, loaded machine tolerated
    assert emulator.rejected == 0
    assert all(source == codec.CONTROLLER_ADDRESS for _, _, source in emulator.received)


def test_valve_commands_move_each_joint_the_way_the_action_spec_says(machine):
    emulator, driver = machine
    before = driver.read_state().joint_pos
    # boom up, stick out, bucket in, swing right (clockwise): joints [swing, boom, stick, bucket]
    driver.command(np.array([0.6, -0.6, 0.6, -0.6, 0.0, 0.0]))
    assert wait_until(lambda: last_mode(emulator) == codec.ACTIVE)
    time.sleep(0.6)
    moving = driver.read_state()
    delta = moving.joint_pos - before
    assert delta[1] > 0.05 and delta[2] < -0.05 and delta[3] > 0.1 and delta[0] < -0.1, delta
    assert np.all(np.sign(moving.joint_vel) == [-1, 1, -1, 1])
    driver.stop()
    assert wait_until(lambda: last_mode(emulator) == codec.HOLD, 0.1)
    assert wait_until(lambda: np.all(np.abs(driver.read_state().joint_vel) < 1e-3), 2.0)
    np.testing.assert_array_equal(emulator.valves, 0.0)


def test_the_swing_is_unwrapped_across_the_encoder_seam():
    channel = f"test-j1939-{next(_channels)}"
    with ExcavatorEcuEmulator(channel, joint_pos=[np.pi - 0.05, 0.35, 1.55, 1.2]) as emulator:
        driver = J1939Driver(channel, interface="virtual")
        try:
            driver.connect()
            driver.command(np.array([0.0, 0.0, 0.0, 1.0, 0.0, 0.0]))  # counter-clockwise
            assert wait_until(lambda: driver.read_state().joint_pos[0] > np.pi + 0.1, 3.0)
            assert codec.wrap_angle(emulator.joint_pos[0]) < 0  # the wire says -pi + ...
        finally:
            driver.close()


def test_lost_heartbeat_centres_the_valves_and_disconnects_then_reconnects(machine):
    emulator, driver = machine
    driver.command(np.array([0.5, 0, 0, 0, 0, 0]))
    time.sleep(0.1)
    emulator.silence_status()  # angles keep flowing: only the heartbeat is gone
    assert wait_until(lambda: raises_now(driver, DriverDisconnected) is not None, 1.0)
    detected = time.monotonic() - emulator.last_status_sent
    assert wait_until(lambda: last_mode(emulator) == codec.HOLD, 0.5)
    neutral = driver.neutral_since - emulator.last_status_sent
    print(f"heartbeat loss: DriverDisconnected {detected * 1e3:.0f} ms, valves centred "
          f"{neutral * 1e3:.0f} ms after the last status frame")
    assert HEARTBEAT_TIMEOUT <= neutral <= 2 * CONTROL_PERIOD
    assert "no MACHINE_STATUS" in str(raises_now(driver)) and "0x80" in str(raises_now(driver))
    with pytest.raises(DriverDisconnected):
        driver.command(np.array([0.5, 0, 0, 0, 0, 0]))
    emulator.resume()
    time.sleep(0.1)
    assert raises_now(driver, DriverDisconnected) is not None  # latched until connect()
    driver.connect()
    driver.command(np.array([0.5, 0, 0, 0, 0, 0]))
    assert wait_until(lambda: last_mode(emulator) == codec.ACTIVE)
    assert driver.read_state().extras["machine_mode"] in ("remote_ready", "remote_active")


def test_a_silent_machine_disconnects_and_the_driver_reconnects_when_it_returns(machine):
    emulator, driver = machine
    driver.connect_timeout = 0.4
    emulator.go_silent()
    assert wait_until(lambda: raises_now(driver, DriverDisconnected) is not None, 1.0)
    with pytest.raises(DriverDisconnected, match="no MACHINE_STATUS and JOINT_ANGLES"):
        driver.connect()
    emulator.resume()
    driver.connect()
    assert time.monotonic() - driver.read_state().stamp < 0.1


def test_the_machine_centres_its_valves_when_the_command_stream_stops():
    """The machine's own timeout, seen from a bare python-can peer that claims an address and
    sends valve frames built byte by byte from the codec, then falls silent."""
    channel = f"test-j1939-{next(_channels)}"
    with ExcavatorEcuEmulator(channel) as emulator, \
            can.Bus(interface="virtual", channel=channel) as bus:
        assert wait_until(lambda: emulator.claimed, 3.0)
        name = (0x1234).to_bytes(8, "little")  # a NAME, as an address claim carries it
        bus.send(can.Message(arbitration_id=codec.can_id(6, codec.PGN_ADDRESS_CLAIMED, 0x90),
                             data=name, is_extended_id=True))
        assert wait_until(lambda: 0x90 in emulator.claims)
        for counter in range(10):
            identifier, data = codec.encode_valve_command([0.8, 0, 0, 0, 0, 0], counter,
                                                          source=0x90)
            bus.send(can.Message(arbitration_id=identifier, data=data, is_extended_id=True))
            last = time.monotonic()
            time.sleep(0.02)
        assert emulator.received[-1][1].valves[0] > 0.7  # it followed the frames
        assert wait_until(lambda: not emulator.valves.any(), 1.0)
        latency = emulator.neutral_since - last
        print(f"machine command timeout: valves centred {latency * 1e3:.0f} ms after the last "
              "valve frame")
        assert 0.08 < latency < 0.2
        # A repeated counter, a corrupt checksum, an unclaimed sender: all rejected.
        rejected = emulator.rejected
        identifier, data = codec.encode_valve_command([0.8, 0, 0, 0, 0, 0], 9, source=0x90)
        bad = data[:7] + bytes([data[7] ^ 1])
        spoofed = codec.encode_valve_command([0.8, 0, 0, 0, 0, 0], 1, source=0x91)
        for frame_id, payload in ((identifier, data), (identifier, bad), spoofed):
            bus.send(can.Message(arbitration_id=frame_id, data=payload, is_extended_id=True))
        assert wait_until(lambda: emulator.rejected == rejected + 3)
        assert not emulator.valves.any()


def test_dm1_red_stop_raises_robot_fault_naming_spn_and_fmi_amber_only_warns(machine):
    emulator, driver = machine
    emulator.raise_fault(1638, 0, red_stop=False)  # hydraulic oil temperature high: a warning
    assert wait_until(lambda: driver.read_state().extras["faults"] == ("SPN 1638 FMI 0 (x1)",))
    driver.command(np.array([0.5, 0, 0, 0, 0, 0]))
    emulator.raise_fault(4103, 31, red_stop=True)  # two codes: DM1 travels by BAM
    assert wait_until(lambda: "SPN 4103" in str(raises_now(driver, RobotFault)), 3.0)
    message = str(raises_now(driver))
    assert "red-stop" in message and "SPN 4103 FMI 31" in message and "SPN 1638 FMI 0" in message
    assert wait_until(lambda: last_mode(emulator) == codec.HOLD, 0.5)
    emulator.clear_faults()
    assert wait_until(lambda: raises_now(driver) is None, 2.0)


def test_estop_and_signals_not_available_or_out_of_range(machine):
    emulator, driver = machine
    emulator.press_estop()
    assert wait_until(lambda: "emergency stop" in str(raises_now(driver, RobotFault)), 1.0)
    emulator.press_estop(False)
    assert wait_until(lambda: raises_now(driver) is None, 1.0)
    emulator.override(BoomAngle=0xFFFF)
    assert wait_until(lambda: isinstance(raises_now(driver), codec.SignalNotAvailable), 1.0)
    assert "BoomAngle" in str(raises_now(driver))
    emulator.override(BoomAngle=round((2.0 + 3.2) / 1e-4))  # 2 rad: beyond the boom's range
    assert wait_until(lambda: isinstance(raises_now(driver), codec.SignalOutOfRange), 1.0)
    emulator.override(BoomAngle=0xFB00)  # a J1939 reserved value
    assert wait_until(lambda: "reserved" in str(raises_now(driver)), 1.0)
    emulator.clear_overrides()
    emulator.override(BoomPressure=0xFFFF, EngineSpeed=0xFFFF)  # flagged, not guessed
    assert wait_until(lambda: raises_now(driver) is None and {"BoomPressure", "EngineSpeed"}
                    <= set(driver.read_state().extras["not_available"]), 1.0)
    state = driver.read_state()
    assert np.isnan(state.extras["pressure_pa"][1]) and np.isnan(state.extras["engine_speed_rpm"])
    assert "EngineSpeed" in state.extras["not_available"]
    emulator.override(EmergencyStop=3)  # cannot confirm the e-stop is released
    assert wait_until(lambda: "e-stop state is not available" in str(raises_now(driver)), 1.0)
    assert driver.malformed > 0


def test_driver_specs():
    with pytest.raises(ConfigError, match="hydraulic machines"):
        make_driver("j1939:can0", get_robot("franka_panda"))
    driver = make_driver("j1939:emulator", EXCAVATOR)
    try:
        driver.connect()
        np.testing.assert_allclose(driver.read_state().joint_pos, HOME, atol=1e-4)
        assert driver.emulator.claimed
    finally:
        driver.close()
    with pytest.raises(DriverDisconnected, match="ip link set can0 up"):
        J1939Driver("no-such-can", interface="socketcan").connect()
