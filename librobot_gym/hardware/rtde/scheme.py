"""The `ur:HOST` driver scheme: a Universal Robots e-Series arm through ur-rtde, or its
controller emulator (`ur:emulator`, `ur:emulator:lockstep`), with `?name=value&...` options."""

from librobot_gym.errors import ConfigError
from librobot_gym.hardware.driver import spec_options
from librobot_gym.hardware.drivers import register_driver

OPTIONS = {"frequency": float, "lookahead": float, "gain": float, "watchdog_hz": float,
           "max_state_age": float, "gripper": str, "gripper_port": int, "move_speed": float,
           "protective_stop_wait": float, "scene": str}
EMULATOR_ONLY = ("static_scene", "protective_stop_wait")


@register_driver("ur", usage="ur:HOST|emulator[:lockstep]",
                 summary="a UR e-Series arm (UR5e) through ur-rtde (RTDE, dashboard, script "
                         "port) and its gripper's URCap socket; or the controller emulator")
def build_ur(rest: str, robot, **options):
    """The driver for the part of a spec after "ur:": a host or "emulator[:lockstep]", then
    options (`OPTIONS`, `scene=static|none` for the emulator); keyword `options` win."""
    from librobot_gym.hardware.rtde.driver import URDriver

    where, params = spec_options("ur", rest, "?frequency=500&lookahead=0.1&gain=300")
    unknown = sorted(set(params) - set(OPTIONS))
    if unknown or not where:
        raise ConfigError(f"driver 'ur:{rest}': expected 'ur:HOST' (the controller's address, "
                          f"e.g. ur:192.168.1.10) or 'ur:emulator[:lockstep]', with options "
                          f"{sorted(OPTIONS)}; got {unknown or 'no host'}")
    try:
        values = {k: OPTIONS[k](v) for k, v in params.items()}
    except ValueError as error:
        raise ConfigError(f"driver 'ur:{rest}': {error}") from error
    if "scene" in values:
        scene = values.pop("scene")
        if scene not in ("static", "none"):
            raise ConfigError(f"driver 'ur:{rest}': scene is 'static' or 'none'")
        values["static_scene"] = scene == "static"
    options = {**values, **options}
    if where in ("emulator", "emulator:lockstep"):
        return URDriver.emulated(robot, lockstep=where.endswith("lockstep"), **options)
    for name in EMULATOR_ONLY:
        if name in options:
            raise ConfigError(f"driver 'ur:{rest}': {name} is an emulator option")
    return URDriver(robot, where, **options)
