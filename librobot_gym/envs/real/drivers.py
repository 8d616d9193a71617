"""Driver specs -> drivers, so a real env, the bridge server and the CLI name them the same way.

    twin                      the PyBullet twin in this process (real-time clock)
    twin:lockstep             the twin advancing exactly one control period per step
    franky:HOST               a Franka through franky (libfranka), e.g. franky:172.16.0.2
    bridge:ws://HOST:PORT     any driver hosted by `librobot bridge serve` on another computer
"""

from __future__ import annotations

from librobot_gym.envs.real.driver import Driver
from librobot_gym.errors import ConfigError
from librobot_gym.robots import RobotSpec

SPECS = ("twin", "twin:lockstep", "franky:HOST", "bridge:ws://HOST:PORT")


def make_driver(spec: str, robot: RobotSpec, **options) -> Driver:
    """The driver `spec` names, for `robot`; `options` go to its constructor."""
    kind, _, rest = spec.partition(":")
    if kind == "twin":
        from librobot_gym.envs.real.twin import TwinDriver

        if rest not in ("", "lockstep", "realtime"):
            raise ConfigError(f"driver {spec!r}: the twin is 'twin' or 'twin:lockstep'")
        return TwinDriver(robot, realtime=rest != "lockstep", **options)
    if kind == "franky" and rest:
        from librobot_gym.envs.real.franky_driver import FrankyDriver

        return FrankyDriver(robot, host=rest, **options)
    if kind == "bridge" and rest.startswith(("ws://", "wss://")):
        from librobot_gym.envs.real.bridge import BridgeDriver

        return BridgeDriver(rest, **options)
    raise ConfigError(f"unknown driver {spec!r}; expected one of {', '.join(SPECS)}")
