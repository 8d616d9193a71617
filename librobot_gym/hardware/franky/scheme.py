"""The `franky:HOST` driver scheme: a Franka at its FCI address, through franky."""

from librobot_gym.errors import ConfigError
from librobot_gym.hardware.drivers import register_driver


@register_driver("franky", usage="franky:HOST",
                 summary="a Franka (Panda / FR3) at its FCI address, through franky (libfranka)")
def build_franky(rest: str, robot, **options):
    from librobot_gym.hardware.franky.driver import FrankyDriver

    if not rest:
        raise ConfigError("driver 'franky:': expected franky:HOST (the arm's FCI address)")
    return FrankyDriver(robot, host=rest, **options)
