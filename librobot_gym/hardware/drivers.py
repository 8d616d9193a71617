"""Driver specs -> drivers, so a real env, the bridge server and the CLI name them the same way.

A spec is `SCHEME[:REST]`: the scheme picks a builder from the `DRIVERS` registry, which gets
the rest, the robot and keyword options. Built-in schemes (each registered by its protocol's
`scheme` module, imported on first lookup):

    twin                      the PyBullet twin in this process (real-time clock)
    twin:lockstep             the twin advancing exactly one control period per step
    bridge:ws://HOST:PORT     any driver hosted by `librobot bridge serve` on another computer
    franky:HOST               a Franka (Panda / FR3) at its FCI address, through franky;
                              `franky:sim` the same driver on franky-sim it starts
    feetech:PORT              an SO-100 on its Feetech servo bus (/dev/ttyACM0), options
                              ?robot_id=ID&calibration=PATH; `feetech:emulator[:lockstep]`
                              an emulated bus in this process
    ur:HOST                   a UR e-Series arm (UR5e) at its controller's address, through
                              ur-rtde; `ur:emulator[:lockstep]` its controller emulator
    j1939:CHANNEL             a hydraulic machine on its SAE J1939 CAN bus (SocketCAN can0; other
                              python-can interfaces: interface=...), `j1939:emulator[:lockstep]`
                              an ECU emulator on a private software CAN bus in this process
    ros:ws://HOST:9090        a mobile robot (Fetch, the Jackal base, TIAGo) through rosbridge,
                              option ?robot=NAME; `ros:emulator[:lockstep]` a rosbridge emulator
                              on 127.0.0.1 in this process
    unitree:IFACE             the Unitree H1 through unitree_sdk2py over DDS on its Ethernet port
                              (eth0); `unitree:emulator[:lockstep]` a MuJoCo H1 on loopback DDS
    humanoid-sim:lockstep     a MuJoCo stand-in for a humanoid vendor's driver (the contract in
                              hardware/humanoid.py); `humanoid-sim:bridge` behind a loopback bridge
    fourier:HOST              the Fourier GR1 through fourier-grx-client (Zenoh, tcp HOST:7447);
                              `fourier:emulator[:lockstep]` a MuJoCo GR1 on 127.0.0.1:7447

Plugins add schemes with `@register_driver("scheme", usage=..., summary=...)` on a builder
`(rest: str, robot: RobotSpec, **options) -> Driver`. A scheme whose builder simulates the
world (`simulates_cell=True`) also gets the task's `scene=Cell`.
"""

from __future__ import annotations

from collections.abc import Callable

from librobot_gym.errors import ConfigError
from librobot_gym.hardware.driver import Driver
from librobot_gym.registry import Registry
from librobot_gym.robots import RobotSpec
from librobot_gym.scene import Cell

BUILTIN_SCHEMES = (
    "librobot_gym.hardware.twin.scheme",
    "librobot_gym.hardware.bridge.scheme",
    "librobot_gym.hardware.franky.scheme",
    "librobot_gym.hardware.feetech.scheme",
    "librobot_gym.hardware.j1939.scheme",
    "librobot_gym.hardware.rtde.scheme",
    "librobot_gym.hardware.ros.scheme",
    "librobot_gym.hardware.unitree.scheme",
    "librobot_gym.hardware.humanoid_scheme",
    "librobot_gym.hardware.fourier.scheme",
)
DRIVERS = Registry("driver scheme", builtins=BUILTIN_SCHEMES)


def register_driver(scheme: str, usage: str, summary: str, simulates_cell: bool = False,
                    renders_cameras: bool = False) -> Callable:
    """Decorator: `builder(rest, robot, **options) -> Driver` serves specs `scheme[:rest]`.
    `usage` shows the spec's form ("franky:HOST"); `simulates_cell`: the builder takes
    `scene=Cell`; `renders_cameras`: the driver renders the robot's cameras itself."""
    return DRIVERS.register(scheme, usage=usage, summary=summary, simulates_cell=simulates_cell,
                            renders_cameras=renders_cameras)


def scheme_info(spec: str) -> dict:
    """The registration details (usage, summary, flags) of the scheme `spec` names."""
    return DRIVERS.entry(spec.partition(":")[0]).info or {}


def driver_usages() -> list[str]:
    """Every registered scheme's spec form, for help texts and errors."""
    return [entry.info["usage"] for entry in DRIVERS.entries()]


def make_driver(spec: str, robot: RobotSpec, scene: Cell | None = None, **options) -> Driver:
    """The driver `spec` names, for `robot`; `options` go to its builder, and `scene` (the
    task's cell) to builders that simulate the world."""
    if not isinstance(spec, str) or not spec:
        raise ConfigError(f"driver={spec!r}: expected a spec such as "
                          f"{', '.join(driver_usages())}")
    scheme, _, rest = spec.partition(":")
    entry = DRIVERS.entry(scheme)
    if entry.info and entry.info.get("simulates_cell"):
        options["scene"] = scene
    return entry.component(rest, robot, **options)


def list_drivers() -> list[str]:
    return DRIVERS.names()
