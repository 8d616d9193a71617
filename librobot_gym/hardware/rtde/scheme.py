"""The `ur:HOST` driver scheme: a Universal Robots e-Series arm through ur-rtde, or its
controller emulator (`ur:emulator`, `ur:emulator:lockstep`)."""

from librobot_gym.errors import ConfigError
from librobot_gym.hardware.drivers import register_driver


@register_driver("ur", usage="ur:HOST|emulator[:lockstep]",
                 summary="a UR e-Series arm (UR5e) through ur-rtde (RTDE, dashboard, script "
                         "port) and its gripper's URCap socket; or the controller emulator")
def build_ur(rest: str, robot, **options):
    from librobot_gym.hardware.rtde.driver import URDriver

    if not rest:
        raise ConfigError("driver 'ur:': expected ur:HOST (the controller's address, e.g. "
                          "ur:192.168.1.10) or ur:emulator[:lockstep]")
    return URDriver.from_spec(rest, robot, **options)
