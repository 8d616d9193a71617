"""The `j1939:CHANNEL` driver scheme: a hydraulic machine on its J1939 CAN bus, or its emulator.

`?machine=excavator|wheel_loader|hauler` names the machine on the bus (its frames: the
excavator's valve frames, or the wheeled machines' drive command); it must be the env's robot,
which is also the default. The emulator's own option (`?scene=`) passes on."""

import urllib.parse

from librobot_gym.errors import ConfigError
from librobot_gym.hardware.driver import spec_options
from librobot_gym.hardware.drivers import register_driver

MACHINES = ("excavator", "wheel_loader", "hauler")


@register_driver("j1939", usage="j1939:CHANNEL|emulator[:lockstep][?machine=NAME]",
                 summary="a hydraulic machine (excavator, wheel loader, articulated hauler) on "
                         "its SAE J1939 CAN bus (SocketCAN), or an ECU emulator on a software "
                         "CAN bus in this process")
def build_j1939(rest: str, robot, **options):
    if not rest:
        raise ConfigError("driver 'j1939:': expected j1939:CHANNEL (e.g. can0) or "
                          "j1939:emulator")
    where, params = spec_options("j1939", rest, "j1939:can0?machine=wheel_loader")
    machine = params.pop("machine", robot.name)
    if machine != robot.name:
        raise ConfigError(f"driver 'j1939:{rest}' names machine={machine!r} but the env drives "
                          f"{robot.name!r}; drop ?machine= or name the env's machine (one of "
                          f"{', '.join(MACHINES)})")
    rest = where + (f"?{urllib.parse.urlencode(params)}" if params else "")
    if where in ("emulator", "emulator:lockstep"):
        from librobot_gym.hardware.j1939.emulated import EmulatedMachineDriver

        return EmulatedMachineDriver.from_spec(rest, robot, **options)
    if params:
        raise ConfigError(f"driver 'j1939:{where}' takes one option, ?machine=NAME; got "
                          f"{sorted(params)}")
    if getattr(robot, "drivetrain", None) is not None:
        from librobot_gym.hardware.j1939.wheeled_driver import WheeledJ1939Driver

        return WheeledJ1939Driver.from_spec(rest, robot, **options)
    from librobot_gym.hardware.j1939.driver import J1939Driver

    return J1939Driver.from_spec(rest, robot, **options)
