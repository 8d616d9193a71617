"""The `franky:HOST` driver scheme: a Franka at its FCI address, through franky; `franky:sim` the
same driver on a franky-sim server it starts (a stand-in that simulates only the arm)."""

from librobot_gym.errors import ConfigError
from librobot_gym.hardware.drivers import register_driver


@register_driver("franky", usage="franky:HOST|sim",
                 summary="a Franka (Panda / FR3) at its FCI address, through franky (libfranka),"
                         " or franky-sim started on 127.0.0.1 (sim)")
def build_franky(rest: str, robot, **options):
    from librobot_gym.hardware.franky.driver import FrankyDriver

    if rest == "sim":
        from librobot_gym.hardware.franky.simulated import SimulatedFranky

        return SimulatedFranky(robot, **options)
    if not rest:
        raise ConfigError("driver 'franky:': expected franky:HOST (the arm's FCI address)")
    return FrankyDriver(robot, host=rest, **options)
