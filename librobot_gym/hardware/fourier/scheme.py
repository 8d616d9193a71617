"""The `fourier:` driver scheme: the Fourier GR1 through `fourier_grx_client` (Zenoh to the
robot's grx server on tcp/HOST:7447: `fourier:192.168.6.6`), or the GR1 emulator in this
process on 127.0.0.1:7447 (`fourier:emulator` real time at 400 Hz,
`fourier:emulator:lockstep` stepped by the env). Options: `namespace` (the server's, "gr"),
`max_state_age` and `link_timeout` (s)."""

from librobot_gym.errors import ConfigError
from librobot_gym.hardware.driver import scheme_options
from librobot_gym.hardware.drivers import register_driver

EXAMPLE = "fourier:192.168.6.6, fourier:emulator or fourier:emulator:lockstep"
OPTIONS = {"namespace": str, "max_state_age": float, "link_timeout": float}


@register_driver("fourier", usage="fourier:HOST|emulator[:lockstep]",
                 summary="the Fourier GR1 through fourier-grx-client (Zenoh to its grx server "
                         "on HOST:7447), or its MuJoCo emulator on 127.0.0.1",
                 simulates_cell=True)
def build_fourier(rest: str, robot, scene=None, **options):
    """The driver for the part of a spec after "fourier:" (module doc). `scene`: the task's
    cell, unused: a humanoid's task world is the robot on its floor, which the emulator
    simulates whole (pushes included) and a robot's harness and operator provide."""
    from librobot_gym.hardware.fourier.driver import FourierDriver

    where, options = scheme_options("fourier", rest, EXAMPLE, OPTIONS, robot, "gr1",
                                    "Fourier GR1", options, missing="no host")
    if where in ("emulator", "emulator:lockstep"):
        if "namespace" in options:
            raise ConfigError(f"driver 'fourier:{rest}': the emulator serves its own namespace"
                              "; namespace= is for a robot")
        return FourierDriver.emulated(robot, lockstep=where.endswith("lockstep"), **options)
    if not where.replace("-", "").replace(".", "").replace(":", "").isalnum():
        raise ConfigError(f"driver 'fourier:{rest}': {where!r} is not a host name or address "
                          f"(e.g. 192.168.6.6, gr1.local)")
    return FourierDriver(robot, where, **options)
