"""Driver specs -> drivers, so a real env, the bridge server and the CLI name them the same way.

    twin                      the PyBullet twin in this process (real-time clock)
    twin:lockstep             the twin advancing exactly one control period per step
    bridge:ws://HOST:PORT     any driver hosted by `librobot bridge serve` on another computer
    franky:HOST               a Franka (Panda / FR3) at its FCI address, through franky
    feetech:PORT              an SO-100 on its Feetech servo bus (/dev/ttyACM0), options
                              ?robot_id=ID&calibration=PATH; `feetech:emulator[:lockstep]`
                              an emulated bus in this process
    j1939:CHANNEL             a hydraulic machine on its SAE J1939 CAN bus (SocketCAN can0; other
                              python-can interfaces: interface=...), `j1939:emulator[:lockstep]`
                              an ECU emulator on a private software CAN bus in this process
"""

from __future__ import annotations

from librobot_gym.errors import ConfigError
from librobot_gym.hardware.driver import Driver
from librobot_gym.robots import RobotSpec

SPECS = ("twin", "twin:lockstep", "bridge:ws://HOST:PORT", "franky:HOST",
         "feetech:PORT", "feetech:emulator",
         "feetech:emulator:lockstep", "j1939:CHANNEL", "j1939:emulator",
         "j1939:emulator:lockstep")


def make_driver(spec: str, robot: RobotSpec, **options) -> Driver:
    """The driver `spec` names, for `robot`; `options` go to its constructor."""
    kind, _, rest = spec.partition(":")
    if kind == "twin":
        from librobot_gym.hardware.twin.driver import TwinDriver

        if rest not in ("", "lockstep", "realtime"):
            raise ConfigError(f"driver {spec!r}: the twin is 'twin' or 'twin:lockstep'")
        return TwinDriver(robot, realtime=rest != "lockstep", **options)
    if kind == "bridge" and rest.startswith(("ws://", "wss://")):
        from librobot_gym.hardware.bridge.client import BridgeDriver

        return BridgeDriver(rest, **options)
    if kind == "franky":
        from librobot_gym.hardware.franky.driver import FrankyDriver

        return FrankyDriver(robot, host=rest, **options)
    if kind == "feetech" and rest:
        from librobot_gym.hardware.feetech.driver import FeetechDriver

        return FeetechDriver.from_spec(rest, robot, **options)
    if kind == "j1939" and rest:
        from librobot_gym.hardware.j1939.driver import J1939Driver

        return J1939Driver.from_spec(rest, robot, **options)
    raise ConfigError(f"unknown driver {spec!r}; expected one of {', '.join(SPECS)}")
