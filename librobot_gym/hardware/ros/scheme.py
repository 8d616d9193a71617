"""The `ros:` driver scheme: a mobile robot through rosbridge (`ros:ws://HOST:9090?robot=fetch`)
or the rosbridge emulator on loopback (`ros:emulator[:lockstep]?robot=jackal`), with options
`robot` (the interface table's row: fetch, jackal, tiago; default the env's robot),
`max_state_age` (s), `odom` (the odometry topic), and for the emulator `scene=static|none` or
`world=sim` (its robot's base in the task's MuJoCo scene: walls, furniture, the scanner)."""

import urllib.parse

from librobot_gym.errors import ConfigError
from librobot_gym.hardware.driver import spec_options
from librobot_gym.hardware.drivers import register_driver

EXAMPLE = "ros:ws://fetch.local:9090?robot=fetch or ros:emulator:lockstep?robot=jackal"


@register_driver("ros", usage="ros:ws://HOST:9090?robot=NAME|emulator[:lockstep]",
                 summary="a mobile robot on ROS through rosbridge v2 (roslibpy): Fetch, the "
                         "Jackal base, TIAGo; or a rosbridge emulator on 127.0.0.1",
                 simulates_cell=True)
def build_ros(rest: str, robot, scene=None, **options):
    """The driver for the part of a spec after "ros:" (module doc); `scene`: the task's Cell
    (what an emulator's world is built from)."""
    cell = scene
    from librobot_gym.hardware.ros.driver import RosDriver
    from librobot_gym.hardware.ros.robots import ros_robot

    where, params = spec_options("ros", rest, EXAMPLE)
    known = {"robot", "max_state_age", "odom", "scene", "world"}
    unknown = sorted(set(params) - known)
    if unknown or not where:
        raise ConfigError(f"driver 'ros:{rest}': expected {EXAMPLE}, with options "
                          f"{sorted(known)}; got {unknown or 'no address'}")
    name = params.get("robot", robot.name)
    if name != robot.name:
        raise ConfigError(f"driver 'ros:{rest}' names robot={name!r} but the env drives "
                          f"{robot.name!r}; write robot={robot.name}")
    table = ros_robot(name)
    try:
        if "max_state_age" in params:
            options.setdefault("max_state_age", float(params["max_state_age"]))
    except ValueError as error:
        raise ConfigError(f"driver 'ros:{rest}': max_state_age is seconds ({error})") from None
    if "odom" in params:
        options.setdefault("odom", params["odom"])
    scene = params.get("scene")
    if where in ("emulator", "emulator:lockstep"):
        if scene not in (None, "static", "none"):
            raise ConfigError(f"driver 'ros:{rest}': scene is 'static' or 'none'")
        options.setdefault("static_scene", scene == "static")
        if "world" in params:
            options.setdefault("world", params["world"])
        return RosDriver.emulated(robot, table, lockstep=where.endswith("lockstep"),
                                  scene=cell, **options)
    if scene is not None or "world" in params:
        raise ConfigError(f"driver 'ros:{rest}': scene and world are emulator options")
    url = urllib.parse.urlparse(where)
    if url.scheme not in ("ws", "wss") or not url.hostname:
        raise ConfigError(f"driver 'ros:{rest}': the address is ws://HOST:PORT (rosbridge's "
                          f"websocket, port 9090 by default); got {where!r}")
    return RosDriver(robot, url.hostname, url.port or 9090, table, **options)
