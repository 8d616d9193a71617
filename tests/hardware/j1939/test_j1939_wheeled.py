"""The wheel loader and the articulated hauler on J1939: their frames (byte layout, hypothesis
round trips), the driver on the lockstep ECU emulator (drive, steer, implements, hold), every
fault (a typed error, the machine stopped in bounded time, the next episode recovering) and
the drive safety layer's rules."""

from __future__ import annotations

import j1939
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from librobot_gym.errors import ConfigError
from librobot_gym.hardware.driver import DriverDisconnected, RobotFault, RobotState
from librobot_gym.hardware.drivers import make_driver
from librobot_gym.hardware.j1939 import codec
from librobot_gym.hardware.j1939.wheeled_driver import BrakePressureLow, TransmissionFault
from librobot_gym.hardware.machine_drive_safety import DriveLimits, clip_drive
from librobot_gym.robots import get_robot
from tests.hardware.j1939.test_j1939_codec import signal_values

SETTINGS = settings(max_examples=150, deadline=None)
WHEELED_PGNS = (codec.PGN_EEC1, codec.PGN_ETC2, codec.PGN_EBC1, codec.PGN_CCVS,
                codec.PGN_ARTICULATION, codec.PGN_IMPLEMENT_STATE, codec.PGN_IMPLEMENT_PRESSURES,
                codec.PGN_SITE_POSE)
MACHINES = ("wheel_loader", "hauler")
PERIOD = 0.1  # s, both machines' control period
FORWARD = [1.0, 0.0, 0.0, 1.0, 0.0, 0.0]  # full throttle, no brake, straight, forward


# --- frames ---------------------------------------------------------------------------------
def test_standard_groups_sit_where_j1939_71_puts_them():
    assert codec.can_id(3, codec.PGN_EEC1, 0x80) == 0x0CF00480
    assert codec.can_id(6, codec.PGN_CCVS, 0x80) == 0x18FEF180
    eec1 = codec.encode(codec.PGN_EEC1, {"EngineSpeed": 1500.0, "ActualEngineTorque": 40.0})
    assert int.from_bytes(eec1[3:5], "little") == 1500 * 8  # SPN 190: bytes 4-5, 0.125 rpm
    assert eec1[2] == 40 + 125  # SPN 513: byte 3, offset -125
    ccvs = codec.encode(codec.PGN_CCVS, {"WheelBasedVehicleSpeed": 20.0})
    assert int.from_bytes(ccvs[1:3], "little") == 20 * 256  # SPN 84: bytes 2-3, 1/256 km/h
    etc2 = codec.encode(codec.PGN_ETC2, {"SelectedGear": -1, "CurrentGear": 1})
    assert (etc2[0], etc2[3]) == (124, 126)  # SPN 524 / 523: offset -125
    ebc1 = codec.encode(codec.PGN_EBC1, {"BrakePedalPosition": 50.0, "EbsBrakeSwitch": 1})
    assert ebc1[1] == 125 and ebc1[0] >> 6 == 1  # SPN 521 0.4 %/bit; SPN 1121 bits 7-8


def test_drive_command_layout_identifier_and_checksum():
    identifier, data = codec.encode_command(codec.PGN_DRIVE_COMMAND, codec.DRIVE,
                                            [0.5, 1.0, -0.8, -1, 1.0, -1.0], 7)
    assert identifier == 0x0DEF8081  # proprietary A2 (data page 1), to 0x80 from 0x81
    assert identifier == j1939.MessageId(priority=3, parameter_group_number=0x1EF80,
                                         source_address=0x81).can_id
    assert list(data[:6]) == [125, 250, 0, 124, 250, 0]
    assert data[6] == 7 | codec.ACTIVE << 4 | 3 << 6
    assert data[7] == (sum(data[:7]) + sum(identifier.to_bytes(4, "little"))) & 0xFF


@SETTINGS
@given(st.data())
def test_every_wheeled_frame_round_trips(data):
    pgn = data.draw(st.sampled_from(WHEELED_PGNS))
    values = {name: value for name, value in data.draw(signal_values(pgn)).items()
              if "Reserved" not in name}  # reserved bits are sent as ones: 'not available'
    decoded = codec.decode(pgn, codec.encode(pgn, values))
    for signal in codec.message_for(pgn).signals:
        if "Reserved" in signal.name:
            assert signal.name in decoded.missing
            continue
        assert decoded.values[signal.name] == pytest.approx(values[signal.name],
                                                            abs=signal.scale / 2 + 1e-9)


def test_a_dbc_limit_rounded_below_its_raw_step_still_decodes():
    """CCVS speed: the DBC says 250.996 km/h, its raw maximum is 250.99609 (found by
    hypothesis in a CI run): the limit itself is in range, not a faulty sensor."""
    values = {"TwoSpeedAxleSwitch": 0, "ParkingBrakeSwitch": 0, "CcvsReserved1": 0,
              "WheelBasedVehicleSpeed": 250.996, "CcvsReserved2": 0, "BrakeSwitch": 0}
    decoded = codec.decode(65265, codec.encode(65265, values))
    assert decoded.values["WheelBasedVehicleSpeed"] == pytest.approx(250.996, abs=1e-3)


@SETTINGS
@given(st.floats(0, 1), st.floats(0, 1), st.floats(-0.8, 0.8), st.sampled_from((-1, 0, 1)),
       st.lists(st.floats(-1, 1), min_size=2, max_size=2), st.integers(0, 15),
       st.sampled_from((codec.HOLD, codec.ACTIVE)), st.integers(0, 63))
def test_every_drive_command_round_trips_and_a_flipped_bit_is_caught(
        throttle, brake, articulation, gear, valves, counter, mode, bit):
    values = [throttle, brake, articulation, gear, *valves]
    identifier, data = codec.encode_command(codec.PGN_DRIVE_COMMAND, codec.DRIVE, values,
                                            counter, mode)
    command = codec.decode_command(codec.PGN_DRIVE_COMMAND, codec.DRIVE, identifier, data)
    assert (command.counter, command.mode) == (counter, mode)
    half_count = [0.002, 0.002, 0.0032, 0.0, 0.004, 0.004]
    assert np.all(np.abs(command.values - values) <= np.array(half_count) + 1e-9)
    corrupt = bytearray(data)
    corrupt[bit // 8] ^= 1 << (bit % 8)
    with pytest.raises(codec.MalformedFrame, match="checksum"):
        codec.decode_command(codec.PGN_DRIVE_COMMAND, codec.DRIVE, identifier, bytes(corrupt))


@SETTINGS
@given(st.binary(max_size=12), st.sampled_from(WHEELED_PGNS + (codec.PGN_DRIVE_COMMAND,)))
def test_malformed_wheeled_frames_raise_a_typed_error_never_crash(data, pgn):
    try:
        if pgn == codec.PGN_DRIVE_COMMAND:
            codec.decode_command(pgn, codec.DRIVE, 0x0DEF8081, data)
        else:
            codec.decode(pgn, data)
    except codec.SignalError as error:
        assert str(error)


def test_drive_values_outside_the_dbc_are_refused():
    for bad in ([1.2, 0, 0, 1, 0, 0], [0, 0, 0.9, 1, 0, 0], [0, 0, 0, 2, 0, 0],
                [0, 0, 0, 0, np.nan, 0]):
        with pytest.raises(ValueError, match="DRIVE_COMMAND"):
            codec.encode_command(codec.PGN_DRIVE_COMMAND, codec.DRIVE, bad, 0)


# --- the driver on the lockstep emulator ----------------------------------------------------
@pytest.fixture(scope="module", params=MACHINES)
def machine(request):
    driver = make_driver(f"j1939:emulator:lockstep?machine={request.param}",
                         get_robot(request.param))
    driver.connect()
    yield driver
    driver.close()


def fresh(driver) -> None:
    """A new episode on a repaired machine."""
    emulator = driver.emulator
    emulator.clear_faults()
    emulator.clear_overrides()
    emulator.resume()
    emulator.press_estop(False)
    driver.start_episode(0)


def run(driver, seconds: float, command=None) -> RobotState:
    for _ in range(round(seconds / PERIOD)):
        if command is not None:
            driver.command(np.array(command, dtype=float))
        driver.advance(PERIOD)
    return driver.read_state()


def test_the_state_has_the_machine_joints_pose_and_drivetrain(machine):
    fresh(machine)
    state = machine.read_state()
    robot = machine.emulator.robot
    assert state.joint_pos.shape == state.joint_vel.shape == (len(robot.joints),)
    np.testing.assert_allclose(state.joint_pos, robot.home_qpos, atol=1e-4)
    assert state.extras["pressure_pa"].shape == (len(robot.joints),)
    np.testing.assert_array_equal(state.extras["base_pose"], 0.0)
    assert state.extras["ground_speed"] == 0.0 and state.stamp == machine.now()
    assert state.extras["brake_pressure_pa"] == pytest.approx(16e6)
    emulator = machine.emulator  # both ECUs claimed their addresses; the machine takes only
    assert machine.emulator.claimed and codec.CONTROLLER_ADDRESS in emulator.claims
    before = len(emulator.received)
    run(machine, 0.4, FORWARD)  # ... claimed senders' frames, one per 20 ms
    assert emulator.rejected == 0 and len(emulator.received) - before == 20
    assert all(source == codec.CONTROLLER_ADDRESS for _, _, source in emulator.received)


def test_throttle_drives_forward_steering_turns_left_implements_move(machine):
    fresh(machine)
    state = run(machine, 5.0, FORWARD)
    speed = state.extras["ground_speed"]
    assert speed > 3.0 and state.extras["gear"] == 1 and state.extras["rimpull_n"] > 0
    x, y, yaw = state.extras["base_pose"]
    assert x > 5.0 and abs(y) < 0.01 and abs(yaw) < 1e-3
    assert state.extras["engine_speed_rpm"] > 2000 and state.extras["wheel_speed_kmh"] == \
        pytest.approx(speed * 3.6, abs=1.0)  # CCVS comes at 10 Hz: up to 100 ms older
    state = run(machine, 2.0, [0.3, 0.0, 0.4, 1.0, 1.0, 0.0])  # steer left, raise
    assert state.joint_pos[0] > 0.35 and state.extras["base_pose"][2] > 0.05  # turned left
    assert state.joint_pos[1] > machine.emulator.robot.home_qpos[1] + 0.1


def test_stop_brakes_to_a_standstill_holds_the_steering_centres_the_implements(machine):
    fresh(machine)
    run(machine, 4.0, [1.0, 0.0, 0.3, 1.0, 0.5, 0.0])
    held = machine.read_state().joint_pos.copy()
    machine.stop()
    state = run(machine, 3.0)
    assert state.extras["ground_speed"] == 0.0 and state.extras["gear"] == 0
    assert state.extras["service_brake"] == 1.0
    assert abs(state.joint_pos[0] - held[0]) < 0.02  # the steering held, not centred
    np.testing.assert_allclose(state.joint_vel, 0.0, atol=1e-6)  # implements centred


def test_the_machine_stops_by_itself_when_the_command_stream_stops(machine):
    fresh(machine)
    run(machine, 3.0, FORWARD)
    emulator = machine.emulator
    machine._streaming = False  # the controller dies: no more frames
    start = machine.now()
    for _ in range(40):
        emulator.advance(PERIOD)
    machine._streaming = True
    assert emulator.neutral_since - start <= 0.11  # the 100 ms command timeout
    assert emulator.speed == 0.0 and emulator.stopped_at - start < 3.0


def _fault(name):
    def inject(emulator):
        if name == "brake_pressure_low":
            emulator.brake_pressure_low()
        elif name == "transmission":
            emulator.transmission_fault()
        elif name == "red_stop":
            emulator.raise_fault(spn=1675, fmi=31)
        elif name == "estop":
            emulator.press_estop()
        elif name == "heartbeat":
            emulator.silence_status()
        elif name == "silent":
            emulator.go_silent()
        elif name == "angle_not_available":
            emulator.override(ArticulationAngle=0xFFFF)
        elif name == "pose_out_of_range":
            emulator.override(PositionX=0xFC00)
    return inject


FAULTS = {"brake_pressure_low": BrakePressureLow, "transmission": TransmissionFault,
          "red_stop": RobotFault, "estop": RobotFault, "heartbeat": DriverDisconnected,
          "silent": DriverDisconnected, "angle_not_available": codec.SignalNotAvailable,
          "pose_out_of_range": codec.SignalOutOfRange}


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_each_fault_raises_its_typed_error_stops_the_machine_and_the_next_episode_recovers(
        machine, fault):
    fresh(machine)
    run(machine, 4.0, FORWARD)
    emulator = machine.emulator
    assert emulator.speed > 2.0
    start = machine.now()
    _fault(fault)(emulator)
    with pytest.raises(FAULTS[fault]):
        run(machine, 0.5, FORWARD)  # the error comes within five periods
    raised = machine.now() - start
    assert raised <= 0.5
    machine.stop()  # what the safety layer does on any error
    for _ in range(60):
        emulator.advance(PERIOD)
    assert emulator.speed == 0.0 and emulator.stopped_at - start < 5.0
    fresh(machine)  # repaired, next episode
    assert run(machine, 1.0, FORWARD).extras["ground_speed"] > 0.0


def test_the_machine_must_be_the_envs_own():
    with pytest.raises(ConfigError, match="machine='hauler'"):
        make_driver("j1939:can0?machine=hauler", get_robot("wheel_loader"))
    with pytest.raises(ConfigError, match="machine=NAME"):
        make_driver("j1939:can0?speed=3", get_robot("hauler"))


# --- the drive safety layer -----------------------------------------------------------------
LOADER = get_robot("wheel_loader")
LIMITS = DriveLimits.for_robot(LOADER, PERIOD, "drive+hydraulic", speed_limit=5.0)


@SETTINGS
@given(st.lists(st.floats(allow_nan=True, allow_infinity=True, width=32), min_size=6,
                max_size=6),
       st.floats(-12, 12), st.lists(st.floats(-0.05, 0.9), min_size=3, max_size=3))
def test_the_drive_command_is_always_one_the_machine_takes(action, speed, joints):
    command, pilots, violations = clip_drive(LIMITS, action, np.zeros(2), joints, speed)
    assert 0 <= command[0] <= 1 and 0 <= command[1] <= 1
    assert abs(command[2]) <= LOADER.drivetrain.max_articulation and command[3] in (-1, 0, 1)
    assert np.all(np.abs(command[4:]) <= LIMITS.valves.max_step + 1e-12)
    if abs(speed) > 5.0 and command[0] > 0:
        pytest.fail("throttle over the speed limit")
    if command[3] * speed < -0.5:
        pytest.fail("a shuttle shift at speed")


def test_speed_limit_overspeed_brake_and_no_shuttle_at_speed():
    command, _, violations = clip_drive(LIMITS, FORWARD, np.zeros(2), [0, 0.1, 0.2], 5.2)
    assert command[0] == 0 and "speed_limit" in violations
    command, _, _ = clip_drive(LIMITS, FORWARD, np.zeros(2), [0, 0.1, 0.2], 6.0)
    assert command[1] >= 0.3  # past the limit by 10 %: braking
    command, _, violations = clip_drive(LIMITS, [1, 0, 0, -1, 0, 0], np.zeros(2),
                                        [0, 0.1, 0.2], 3.0)
    assert tuple(command[:4]) == (0.0, 0.3, 0.0, 0) and "shuttle_at_speed" in violations
    command, _, violations = clip_drive(LIMITS, [np.nan, 0, 0, 1, 0, 0], np.zeros(2),
                                        [0.2, 0.1, 0.2], 3.0)
    assert tuple(command[:4]) == (0.0, 1.0, 0.2, 0) and "nonfinite" in violations


# --- in real time -----------------------------------------------------------------------------
def test_in_real_time_a_transmission_fault_stops_the_hauler_and_it_drives_again_after_repair():
    """The emulator's thread and the driver's on the wall clock (bounded waits)."""
    from tests.waiting import wait_until

    driver = make_driver("j1939:emulator", get_robot("hauler"))
    try:
        driver.connect()
        emulator = driver.emulator
        driver.command(np.array(FORWARD))
        assert wait_until(lambda: emulator.speed > 1.0, 3.0)
        start = emulator.now()
        emulator.transmission_fault()

        def raised() -> bool:
            try:
                driver.read_state()
            except TransmissionFault:
                return True
            return False

        assert wait_until(raised, 0.5)
        assert emulator.now() - start < 0.5
        driver.stop()
        assert wait_until(lambda: emulator.speed == 0.0, 3.0)
        emulator.clear_faults()
        assert wait_until(lambda: driver._fault_error() is None, 0.5)
        driver.command(np.array(FORWARD))
        assert wait_until(lambda: emulator.speed > 0.5, 3.0)
    finally:
        driver.close()


def test_the_drive_mode_keeps_the_implement_valves_closed():
    limits = DriveLimits.for_robot(get_robot("hauler"), PERIOD, "drive")
    command, pilots, _ = clip_drive(limits, [0.5, 0.0, 0.1, 1.0], np.zeros(0), [0.0, 0.3], 1.0)
    assert tuple(command) == (0.5, 0.0, 0.1, 1, 0.0, 0.0) and pilots.shape == (0,)
