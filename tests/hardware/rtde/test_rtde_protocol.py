"""The RTDE wire format (`hardware/rtde/protocol.py`) byte for byte: headers, setup payloads,
data packages per type, registers; the arm model the emulator integrates; and how the driver
reads the controller's status words and clock (`state.py`)."""

import math
import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from librobot_gym.hardware.rtde import protocol as p
from librobot_gym.hardware.rtde.arm import TICK, ArmMotion, flange_pose, rotation_vector
from librobot_gym.hardware.rtde.errors import (
    EmergencyStop,
    PoweredOff,
    ProgramStopped,
    ProtectiveStop,
    RTDETimeout,
    SafetyLimitViolation,
)
from librobot_gym.hardware.rtde.modes import SafetyStatus
from librobot_gym.hardware.rtde.state import ClockOffset, controller_fault


def test_a_package_is_size_type_payload_big_endian():
    # What ur_rtde 1.6.5 sends first on port 30004 (seen on the wire): RTDE_REQUEST_PROTOCOL_
    # VERSION with version 2.
    assert p.package(p.REQUEST_PROTOCOL_VERSION, struct.pack(">H", 2)) == b"\x00\x05V\x00\x02"
    assert p.package(p.START) == b"\x00\x03S"
    assert p.text_message("hi", "RTDE", 1) == b"\x00\x0cM\x02hi\x04RTDE\x01"


def test_split_packages_keeps_partial_ones_for_later():
    data = p.package(p.START) + p.package(p.DATA_PACKAGE, b"\x01\x02\x03")
    buffer = bytearray(data[:-2])
    assert p.split_packages(buffer) == [(p.START, b"")]
    buffer.extend(data[-2:])
    assert p.split_packages(buffer) == [(p.DATA_PACKAGE, b"\x01\x02\x03")] and not buffer
    with pytest.raises(p.ProtocolError, match="less than its header"):
        p.split_packages(bytearray(b"\x00\x01S"))


def test_output_setup_is_frequency_then_names():
    payload = struct.pack(">d", 500.0) + b"timestamp,actual_q,"
    assert p.parse_output_setup(payload) == (500.0, ["timestamp", "actual_q"])
    assert p.parse_input_setup(b"input_int_register_0,input_double_register_5,") == [
        "input_int_register_0", "input_double_register_5"]
    assert p.setup_reply(3, ["INT32", "DOUBLE"]) == b"\x03INT32,DOUBLE"


@pytest.mark.parametrize("name, kind", [
    ("timestamp", "DOUBLE"), ("actual_q", "VECTOR6D"), ("robot_mode", "INT32"),
    ("joint_mode", "VECTOR6INT32"), ("runtime_state", "UINT32"),
    ("safety_status_bits", "UINT32"), ("actual_digital_input_bits", "UINT64"),
    ("payload_cog", "VECTOR3D"), ("output_int_register_12", "INT32"),
    ("output_double_register_47", "DOUBLE"), ("input_int_register_0", "INT32"),
    ("output_bit_register_64", "BOOL"), ("not_a_field", None), ("output_int_register_48", None),
    ("output_bit_register_3", None),
])
def test_output_field_types(name, kind):
    assert p.output_type(name) == kind


def test_only_inputs_may_be_written():
    assert p.input_type("input_double_register_10") == "DOUBLE"
    assert p.input_type("speed_slider_fraction") == "DOUBLE"
    assert p.input_type("output_int_register_0") is None
    assert p.input_type("actual_q") is None


def test_a_data_package_packs_each_type_big_endian():
    recipe = p.Recipe(("timestamp", "actual_q", "robot_mode", "runtime_state", "flag"),
                      ("DOUBLE", "VECTOR6D", "INT32", "UINT32", "BOOL"))
    values = {"timestamp": 1.5, "actual_q": [0.0, 1.0, 2.0, 3.0, 4.0, 5.0], "robot_mode": -1,
              "runtime_state": 2, "flag": True}
    data = recipe.pack(1, values)
    assert data == b"\x01" + struct.pack(">d6diI?", 1.5, 0, 1, 2, 3, 4, 5, -1, 2, True)
    assert recipe.unpack(data[1:]) == values
    with pytest.raises(p.ProtocolError, match="bytes for a recipe"):
        recipe.unpack(data[1:-1])


TYPES = sorted(p.FORMATS)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.sampled_from(TYPES), min_size=1, max_size=8), st.data())
def test_any_recipe_round_trips(kinds, data):
    def value(kind):
        fmt = p.FORMATS[kind][-1]
        one = {"?": st.booleans(), "B": st.integers(0, 255), "I": st.integers(0, 2**32 - 1),
               "Q": st.integers(0, 2**64 - 1), "i": st.integers(-2**31, 2**31 - 1),
               "d": st.floats(allow_nan=False)}[fmt]
        return data.draw(st.lists(one, min_size=int(p.FORMATS[kind][0]),
                                  max_size=int(p.FORMATS[kind][0]))
                         if kind.startswith("VECTOR") else one)

    names = tuple(f"f{i}" for i in range(len(kinds)))
    recipe = p.Recipe(names, tuple(kinds))
    values = {n: value(k) for n, k in zip(names, kinds, strict=True)}
    packed = recipe.pack(7, values)
    assert packed[0] == 7 and recipe.unpack(packed[1:]) == values


# --- the emulated arm ----------------------------------------------------------------------------
LIMITS = ([-2 * math.pi] * 6, [2 * math.pi] * 6)


def run(arm: ArmMotion, seconds: float) -> None:
    for _ in range(int(round(seconds / TICK))):
        arm.tick()


def test_servo_follows_as_a_lag_of_lookahead_times_300_over_gain():
    arm = ArmMotion([0.0] * 6, *LIMITS)
    arm.servo([0.1] + [0.0] * 5, lookahead=0.1, gain=300)
    run(arm, 0.1)  # one time constant: 63 % of the way (discretised)
    assert 0.06 < arm.q[0] < 0.066
    arm.servo([0.1] + [0.0] * 5, lookahead=0.05, gain=600)  # 4x stiffer
    run(arm, 0.1)
    assert arm.q[0] == pytest.approx(0.1, abs=1e-3)


def test_speed_ramps_at_its_acceleration_and_stop_decelerates_to_rest():
    arm = ArmMotion([0.0] * 6, *LIMITS)
    arm.speed_to([1.0] + [0.0] * 5, acceleration=2.0)
    run(arm, 0.25)
    assert arm.qd[0] == pytest.approx(0.5, abs=1e-9)
    arm.stop(5.0)
    run(arm, 0.098)
    assert arm.moving and not arm.done
    run(arm, 0.004)
    assert not arm.moving and arm.done and arm.mode == "idle"


def test_move_is_a_synchronised_trapezoid_and_speed_is_capped_at_180_deg_per_s():
    arm = ArmMotion([0.0] * 6, *LIMITS)
    arm.move([1.0, 0.5, 0, 0, 0, 0], speed=10.0, acceleration=40.0)
    peak = 0.0
    while not arm.done:
        arm.tick()
        peak = max(peak, float(np.max(np.abs(arm.qd))))
        assert abs(arm.qd[1] - arm.qd[0] / 2) < 1e-9  # straight in joint space
    assert peak == pytest.approx(math.pi) and arm.q.tolist()[:2] == [1.0, 0.5]


def test_a_joint_stops_at_its_limit():
    arm = ArmMotion([0.0] * 6, [-0.1] * 6, [0.1] * 6)
    arm.speed_to([1.0] * 6, acceleration=40.0)
    run(arm, 0.5)
    assert np.allclose(arm.q, 0.1) and not arm.moving


def test_flange_pose_is_the_dh_chain_with_a_rotation_vector():
    pose = flange_pose([0.0] * 6)
    np.testing.assert_allclose(pose[:3], [-0.8172, -0.2329, 0.0628], atol=1e-9)
    # A half turn about x (tool down) comes back as pi about x.
    np.testing.assert_allclose(rotation_vector(np.diag([1.0, -1.0, -1.0])), [math.pi, 0, 0])
    np.testing.assert_allclose(rotation_vector(np.eye(3)), [0, 0, 0])


# --- the driver's reading of the status words ----------------------------------------------------
@pytest.mark.parametrize("bits, runtime, mode, age, expected", [
    (0b1, 2, 7, 0.0, None),
    (SafetyStatus.ROBOT_EMERGENCY_STOPPED | SafetyStatus.EMERGENCY_STOPPED, 1, 3, 0.0,
     EmergencyStop),
    (SafetyStatus.VIOLATION, 1, 3, 0.0, SafetyLimitViolation),
    (SafetyStatus.FAULT, 1, 3, 0.0, SafetyLimitViolation),
    (SafetyStatus.PROTECTIVE_STOPPED, 1, 7, 0.0, ProtectiveStop),
    (0b1, 1, 5, 0.0, PoweredOff),  # brakes on
    (0b1, 1, 7, 0.0, ProgramStopped),
    (0b1, 2, 7, 0.2, RTDETimeout),
    (0b1, 9, 99, 0.0, PoweredOff),  # values the enums do not know still name themselves
])
def test_the_controllers_state_maps_to_one_typed_error(bits, runtime, mode, age, expected):
    error = controller_fault("the UR", int(bits), runtime, mode, age, max_age=0.1)
    assert error is None if expected is None else type(error) is expected
    if error is not None:
        assert "reset" in str(error)  # every one says what happens next


def test_the_clock_offset_is_the_least_delayed_package_and_a_stall_ages():
    clock = ClockOffset()
    assert clock.stamp(10.000, 100.005) == pytest.approx(100.005)  # offset 90.005
    assert clock.stamp(10.002, 100.006) == pytest.approx(100.006)  # less delayed: 90.004
    assert clock.stamp(10.004, 100.012) == pytest.approx(100.008)  # a late one: still 90.004
    assert clock.stamp(10.004, 100.050) == pytest.approx(100.008)  # no new package: it ages
