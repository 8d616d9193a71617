"""The `unitree:` driver scheme: the Unitree H1 through Unitree's SDK over DDS on the robot's
Ethernet port (`unitree:eth0`), or the H1 emulator in this process on a loopback-only domain
(`unitree:emulator` real time at 500 Hz, `unitree:emulator:lockstep` stepped by the env).
Options: `max_state_age` and `link_timeout` (s), `max_temperature` (C)."""

from librobot_gym.errors import ConfigError
from librobot_gym.hardware.driver import scheme_options
from librobot_gym.hardware.drivers import register_driver

EXAMPLE = "unitree:eth0, unitree:emulator or unitree:emulator:lockstep"
OPTIONS = {"max_state_age": float, "link_timeout": float, "max_temperature": int}


@register_driver("unitree", usage="unitree:IFACE|emulator[:lockstep]",
                 summary="the Unitree H1 through unitree_sdk2py (LowCmd/LowState over DDS on "
                         "its Ethernet port IFACE), or its MuJoCo emulator on loopback DDS",
                 simulates_cell=True)
def build_unitree(rest: str, robot, scene=None, **options):
    """The driver for the part of a spec after "unitree:" (module doc). `scene`: the task's
    cell; the emulator's world is the robot on a flat floor (what Stand judges: its body and
    the floor under it), so it takes no more of the cell than that."""
    from librobot_gym.hardware.unitree.driver import UnitreeDriver

    where, options = scheme_options("unitree", rest, EXAMPLE, OPTIONS, robot, "h1",
                                    "Unitree H1", options, missing="no interface")
    if where in ("emulator", "emulator:lockstep"):
        return UnitreeDriver.emulated(robot, lockstep=where.endswith("lockstep"), **options)
    if not where.replace("-", "").replace(".", "").replace("_", "").isalnum():
        raise ConfigError(f"driver 'unitree:{rest}': {where!r} is not a network interface "
                          f"name (see `ip link`; e.g. eth0, enp3s0)")
    return UnitreeDriver(robot, where, **options)
