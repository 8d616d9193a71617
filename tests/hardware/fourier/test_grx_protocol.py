"""GRX's joint order against our GR1 (by name, 1:1, the head's reversed order), the emulator's
service answers and units without a socket (`serve`, `readings`), the scheme's specs."""

from __future__ import annotations

import numpy as np
import pytest

from librobot_gym.errors import ConfigError
from librobot_gym.hardware.drivers import make_driver
from librobot_gym.hardware.fourier import grx
from librobot_gym.hardware.fourier.emulator import GR1Emulator
from librobot_gym.robots import get_robot

ROBOT = get_robot("gr1")


def test_the_grx_order_maps_onto_our_joints_by_name_one_to_one():
    fourier_order = grx.client_library().ControlGroup
    assert grx.N_SLOTS == fourier_order.ALL.value[1] == 32
    body = [n for n in ROBOT.joint_names if "gripper" not in n]  # grippers: appended, no slot
    assert sorted(grx.GRX_JOINTS.values()) == sorted(body)
    slots = grx.slots_for(body)
    assert sorted(slots.tolist()) == list(range(32))
    # legs, waist and arms line up; the head is pitch, roll, yaw in GRX, yaw, roll, pitch here
    assert grx.SLOT_OF["head_yaw_joint"] == 17 and grx.SLOT_OF["head_pitch_joint"] == 15
    assert grx.GRX_JOINTS["l_knee_pitch"] == "left_knee_pitch_joint"
    assert grx.GRX_JOINTS["joint_waist_roll"] == "waist_roll_joint"
    assert grx.GRX_JOINTS["r_wrist_pitch"] == "right_wrist_pitch_joint"
    for group in ("LEFT_LEG", "RIGHT_LEG", "WAIST", "HEAD", "LEFT_ARM", "RIGHT_ARM"):
        part = getattr(fourier_order, group)
        names = grx.GRX_ORDER[part.slice]
        assert len(names) == part.num_joints
        prefix = {"LEFT_LEG": "l_", "RIGHT_LEG": "r_", "LEFT_ARM": "l_", "RIGHT_ARM": "r_",
                  "WAIST": "joint_waist", "HEAD": "joint_head"}[group]
        assert all(n.startswith(prefix) for n in names)
    with pytest.raises(ConfigError, match="no joint slot"):
        grx.slots_for(["left_gripper_joint"])


def test_the_emulator_publishes_degrees_and_answers_services():
    emulator = GR1Emulator(ROBOT, lockstep=True)
    emulator.restart(seed=0)
    out = emulator.readings()
    q = emulator.data.qpos[emulator.qadr]
    np.testing.assert_allclose(out["joint/position"], np.rad2deg(q))
    head_pitch = ROBOT.joint_names.index("head_pitch_joint")
    assert out["joint/position"][15] == pytest.approx(np.rad2deg(ROBOT.home_qpos[head_pitch]))
    assert out["imu/quat"].shape == (4,) and out["joint/effort"].shape == (32,)
    error, info = emulator.serve("robot/info", None)
    assert error is None and info["joints"] == list(grx.GRX_ORDER)
    # gains: kept in GRX's order; wrong shapes and bad values are error replies
    kp, kd = np.arange(32.0), np.ones(32)
    assert emulator.serve("control/gains", {"control_mode": [9] * 32, "kp": kp, "kd": kd}) \
        == (None, "OK")
    np.testing.assert_array_equal(emulator.kp, kp)
    assert "32 values" in emulator.serve("control/gains", {"kp": [1.0], "kd": [1.0]})[0]
    assert ">= 0" in emulator.serve("control/gains", {"kp": -kp, "kd": kd})[0]
    assert emulator.serve("control/enable", "ON") == (None, "OK") and emulator.enabled.all()
    assert "'ON' or 'OFF'" in emulator.serve("control/enable", "on")[0]
    emulator.inject("motor_error", slot=3)
    error, _ = emulator.serve("control/enable", "ON")
    assert "motor 3 (l_knee_pitch)" in error and not emulator.enabled[3]
    with pytest.raises(ConfigError, match="unknown fault"):
        emulator.inject("fire")


def test_a_disabled_motor_gives_no_torque():
    emulator = GR1Emulator(ROBOT, lockstep=True)
    emulator.serve("control/enable", "ON")
    emulator._target = emulator._target + 0.2
    emulator.advance(0.01)
    assert np.all(np.abs(emulator.readings()["joint/effort"]) > 0)
    emulator.inject("disabled")
    emulator.advance(0.01)
    assert np.all(emulator.readings()["joint/effort"] == 0.0)


def test_specs():
    with pytest.raises(ConfigError, match="drives the Fourier GR1"):
        make_driver("fourier:emulator", get_robot("h1"))
    with pytest.raises(ConfigError, match="options"):
        make_driver("fourier:emulator?speed=2", ROBOT)
    with pytest.raises(ConfigError, match="host name"):
        make_driver("fourier:gr1;rm", ROBOT)
    with pytest.raises(ConfigError, match="its own namespace"):
        make_driver("fourier:emulator?namespace=gr", ROBOT)
    robot = make_driver("fourier:192.168.6.6?namespace=gr/lab&link_timeout=0.05", ROBOT)
    assert (robot.host, robot.namespace, robot.link_timeout) == ("192.168.6.6", "gr/lab", 0.05)
    assert robot.stand_in is None  # nothing opened: connect() does that
    driver = make_driver("fourier:emulator:lockstep", ROBOT)
    assert driver.lockstep and driver.stand_in.spec == "fourier:emulator:lockstep"
    assert ROBOT.stand_in == "fourier:emulator:lockstep" and ROBOT.drivers == ("fourier:HOST",)


def test_the_client_library_leaves_msgpack_alone_for_the_rest_of_the_process():
    """fourier_grx_client patches msgpack with msgpack-numpy at import; through
    `grx.client_library` the process's msgpack stays plain (the bridge, the policy server and
    openpi frames share it), while the client's own Serde still carries numpy arrays."""
    import msgpack

    library = grx.client_library()
    assert msgpack.packb.__module__ == "msgpack"  # msgpack-numpy's is msgpack_numpy's
    with pytest.raises(TypeError):
        msgpack.packb(np.zeros(3))
    wire = library.utils.Serde.pack(np.arange(3.0))
    np.testing.assert_array_equal(library.utils.Serde.unpack(wire), np.arange(3.0))
