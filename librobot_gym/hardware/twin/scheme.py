"""The `twin` / `twin:lockstep` driver schemes: the PyBullet twin of the robot's cell."""

from librobot_gym.errors import ConfigError
from librobot_gym.hardware.drivers import register_driver


@register_driver("twin", usage="twin[:lockstep]", simulates_cell=True, renders_cameras=True,
                 summary="the PyBullet twin of the cell in this process (lockstep: one "
                         "control period per step)")
def build_twin(rest: str, robot, **options):
    from librobot_gym.hardware.twin.driver import TwinDriver

    if rest not in ("", "lockstep", "realtime"):
        raise ConfigError(f"driver 'twin:{rest}': the twin is 'twin' or 'twin:lockstep'")
    return TwinDriver(robot, realtime=rest != "lockstep", **options)
