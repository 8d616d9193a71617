"""The `j1939:CHANNEL` driver scheme: a hydraulic machine on its J1939 CAN bus, or its emulator."""

from librobot_gym.errors import ConfigError
from librobot_gym.hardware.drivers import register_driver


@register_driver("j1939", usage="j1939:CHANNEL|emulator[:lockstep]",
                 summary="a hydraulic machine on its SAE J1939 CAN bus (SocketCAN), or an ECU "
                         "emulator on a software CAN bus in this process")
def build_j1939(rest: str, robot, **options):
    if not rest:
        raise ConfigError("driver 'j1939:': expected j1939:CHANNEL (e.g. can0) or "
                          "j1939:emulator")
    if rest.partition("?")[0] in ("emulator", "emulator:lockstep"):
        from librobot_gym.hardware.j1939.emulated import EmulatedMachineDriver

        return EmulatedMachineDriver.from_spec(rest, robot, **options)
    from librobot_gym.hardware.j1939.driver import J1939Driver

    return J1939Driver.from_spec(rest, robot, **options)
