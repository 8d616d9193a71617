"""The `ros:` scheme's specs and their one-line errors, the mobile safety layer's twist
clipping (speed caps, acceleration slew, non-finite twists stop), and an unreachable rosbridge
raising the typed link error."""

from __future__ import annotations

import socket

import numpy as np
import pytest

from librobot_gym.errors import ConfigError
from librobot_gym.hardware.drivers import make_driver
from librobot_gym.hardware.mobile_safety import MobileSafetyLayer, TwistLimits
from librobot_gym.hardware.ros.driver import RosDriver
from librobot_gym.hardware.ros.errors import RosLinkDropped
from librobot_gym.hardware.ros.robots import ROBOTS, ros_robot
from librobot_gym.robots import get_robot


@pytest.mark.parametrize("spec,message", [
    ("ros:", "expected ros:ws://"),
    ("ros:ws://fetch.local:9090?robot=jackal", "names robot='jackal' but the env drives"),
    ("ros:ws://fetch.local:9090?colour=red", "with options"),
    ("ros:ftp://fetch.local", "the address is ws://HOST:PORT"),
    ("ros:ws://fetch.local:9090?scene=static", "scene and world are emulator options"),
    ("ros:emulator?scene=moving", "scene is 'static' or 'none'"),
    ("ros:ws://fetch.local?max_state_age=soon", "max_state_age is seconds"),
])
def test_bad_specs_say_what_to_write(spec, message):
    with pytest.raises(ConfigError, match=message):
        make_driver(spec, get_robot("fetch"))


def test_the_table_refuses_an_unknown_robot_and_a_base_without_a_table_row():
    with pytest.raises(ConfigError, match="not one of"):
        ros_robot("spot")
    with pytest.raises(ConfigError, match="mobile bases"):
        RosDriver(get_robot("franka_panda"), "127.0.0.1", 9090, ROBOTS["fetch"])


def test_an_unreachable_rosbridge_is_a_typed_link_error():
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    driver = RosDriver(get_robot("jackal"), "127.0.0.1", port, ROBOTS["jackal"],
                       connect_timeout=0.5)
    with pytest.raises(RosLinkDropped, match="roslaunch rosbridge_server"):
        driver.connect()
    driver.close()


def test_twists_are_capped_slewed_and_a_nonfinite_one_stops():
    jackal = get_robot("jackal")  # 2 m/s, 2 rad/s, 2 m/s^2, 3 rad/s^2
    layer = MobileSafetyLayer(driver=None, control_dt=0.1, twist=TwistLimits.for_robot(jackal))
    safe, violations = layer.check_twist([5.0, -0.1], last=[1.95, 0.0])
    np.testing.assert_allclose(safe, [2.0, -0.1])
    assert violations == {"speed": 3.0}
    safe, violations = layer.check_twist([-2.0, 2.0], last=[0.0, 0.0])
    np.testing.assert_allclose(safe, [-0.2, 0.3])
    assert violations["acceleration"] == pytest.approx(1.8)
    safe, violations = layer.check_twist([np.nan, 1.0], last=[0.1, 0.0])
    np.testing.assert_allclose(safe, [0.0, 0.0])
    assert violations["nonfinite"] == 1.0
    half = TwistLimits.for_robot(jackal, fraction=0.5)
    assert (half.max_speed, half.max_accel) == (1.0, 2.0)
    with pytest.raises(ConfigError):
        TwistLimits.for_robot(jackal, fraction=0.0)
