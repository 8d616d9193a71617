"""The `feetech:PORT` driver scheme: an arm of Feetech bus servos (the SO-100), or its emulator."""

from librobot_gym.errors import ConfigError
from librobot_gym.hardware.drivers import register_driver


@register_driver("feetech", usage="feetech:PORT|emulator[:lockstep]",
                 summary="an SO-100 on its Feetech servo bus (?robot_id=ID&calibration=PATH), "
                         "or an emulated bus in this process")
def build_feetech(rest: str, robot, **options):
    from librobot_gym.hardware.feetech.driver import FeetechDriver

    if not rest:
        raise ConfigError("driver 'feetech:': expected feetech:PORT (e.g. /dev/ttyACM0) or "
                          "feetech:emulator")
    return FeetechDriver.from_spec(rest, robot, **options)
