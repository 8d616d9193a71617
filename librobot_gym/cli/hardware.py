"""The robot side of the command line: `librobot bridge serve` (host a driver for envs on
another computer; its options are its own) and `librobot calibrate` (record a servo-bus arm's
calibration with a person at the arm)."""

from __future__ import annotations

import argparse

from librobot_gym.cli.common import HelpFormatter, Parser, add_listen_options, client_url, console


def add_bridge(sub: argparse._SubParsersAction) -> None:
    bridge = sub.add_parser("bridge", help="host a robot driver for envs on another computer")
    bridge = bridge.add_subparsers(dest="bridge_command", required=True, metavar="COMMAND")
    bridge.add_parser("serve", help="serve a driver (run this on the robot's PC); "
                                    "see `librobot bridge serve --help`")


def bridge_parser() -> argparse.ArgumentParser:
    """The options of `librobot bridge serve` (its own parser: the driver specs it lists
    leave out `bridge:` itself)."""
    from librobot_gym.hardware.drivers import driver_usages

    parser = Parser(
        prog="librobot bridge serve", formatter_class=HelpFormatter,
        description="Serve a robot driver to envs on another computer (run on the robot PC).")
    specs = ", ".join(spec for spec in driver_usages() if not spec.startswith("bridge"))
    parser.add_argument("--driver", required=True, help=f"driver spec: {specs}")
    parser.add_argument("--robot", default="franka_panda",
                        help="the robot the driver moves (`librobot robots` lists them)")
    parser.add_argument("--task", default="pick_cup",
                        help="the task whose cell a simulating stand-in (twin) builds")
    add_listen_options(parser, 8765)
    parser.add_argument("--heartbeat-timeout", type=float, default=0.5,
                        help="seconds of client silence after which the robot is stopped")
    parser.add_argument("--control-hz", type=float,
                        help="command rate the per-command joint step is sized for (default: "
                             "the robot's policy rate)")
    return parser


def bridge_serve(argv: list[str] | None = None) -> int:
    """`librobot bridge serve --driver SPEC [--robot R] [--task T] [--host H] [--port P]
    [--token-file F] [--tls-cert C --tls-key K]`: serve a driver until Ctrl-C; returns 0. A
    stand-in that simulates the world (the twin) gets the cell of `--task` at the robot's
    scale. Every command is held to the robot's limits (its kinematics give the tool point for
    the workspace box); beyond loopback a token is required."""
    from librobot_gym.envs.real.kinematics import ArmKinematics
    from librobot_gym.envs.tasks import get_task
    from librobot_gym.errors import ConfigError
    from librobot_gym.hardware.bridge.guard import bridge_safety
    from librobot_gym.hardware.bridge.server import BridgeServer
    from librobot_gym.hardware.driver import DriverError
    from librobot_gym.hardware.drivers import make_driver
    from librobot_gym.robots import get_robot
    from librobot_gym.scene import Cell
    from librobot_gym.wire.auth import ServerAuth

    args = bridge_parser().parse_args(argv)
    auth = ServerAuth.configure(args.host, args.token_file, args.tls_cert, args.tls_key)
    robot = get_robot(args.robot)
    if robot.family not in ("arm", "humanoid"):
        raise ConfigError(f"the bridge serves arms and humanoids (joint targets); "
                          f"{robot.name!r} is a {robot.family} robot")
    tool = ArmKinematics(robot, robot.default_control_mode).tool_position \
        if robot.family == "arm" else None  # a humanoid: joint limits only (guard.py)
    driver = make_driver(args.driver, robot, scene=Cell.of(get_task(args.task)(robot)))
    try:
        try:
            driver.connect()
        except DriverError as exc:  # the client's connect() will try again
            console.print(f"{args.driver} is not reachable yet: {exc}")
        safety = bridge_safety(driver, robot, args.control_hz, tool)
        server = BridgeServer(driver, safety, args.host, args.port, args.heartbeat_timeout,
                              auth)
        try:
            server.serve_forever(lambda url: print(
                f"serving {args.driver} ({args.robot}) on {url}; envs use driver "
                f"'bridge:{client_url(url, auth)}'. Ctrl-C to stop.", flush=True))
        except KeyboardInterrupt:
            pass
    finally:
        driver.close()
    return 0


def add_calibrate(sub: argparse._SubParsersAction) -> None:
    cal = sub.add_parser("calibrate", help="calibrate a servo-bus arm (SO-100) at its zero pose")
    cal.add_argument("robot", choices=["so100"], help="the arm's robot name")
    cal.add_argument("--port", required=True, help="the bus adapter, e.g. /dev/ttyACM0")
    cal.add_argument("--robot-id", required=True, help="name of this arm, e.g. lab-left")
    cal.add_argument("--ids", default="1,2,3,4,5,6", help="servo ids in joint order")
    cal.add_argument("--out", help="calibration file (default: the per-robot-id cache file)")
    cal.add_argument("--no-recentre", action="store_true",
                     help="keep the servos' offsets; record their readings at zero instead")
    cal.set_defaults(func=_cmd_calibrate)


def _cmd_calibrate(args: argparse.Namespace) -> int:
    """Record a servo-bus arm's calibration with a person at the arm (prompts on the terminal)."""
    from librobot_gym.errors import ConfigError
    from librobot_gym.hardware.feetech.bus import FeetechBus
    from librobot_gym.hardware.feetech.calibration import record_calibration
    from librobot_gym.hardware.feetech.driver import joint_names_and_limits
    from librobot_gym.robots import get_robot

    robot = get_robot(args.robot)
    names, limits = joint_names_and_limits(robot)
    try:
        ids = [int(i) for i in args.ids.split(",")]
    except ValueError:
        raise ConfigError(f"--ids wants servo ids separated by commas, e.g. 1,2,3,4,5,6; "
                          f"got {args.ids!r}") from None
    def ask(prompt: str) -> str:
        try:
            return input(prompt)
        except EOFError:  # stdin closed (Ctrl-D, `< /dev/null`, a pipe that ended)
            raise ConfigError(f"calibration needs a person at the arm answering on a terminal; "
                              f"input ended at the prompt {prompt.strip()!r}: run it in an "
                              f"interactive shell (nothing was saved)") from None

    bus = FeetechBus(args.port)
    bus.open()
    try:
        calibration = record_calibration(bus, robot.name, args.robot_id, names, ids, limits,
                                         ask=ask,
                                         recentre=not args.no_recentre)
    finally:
        bus.close()
    console.print(f"calibration saved to {calibration.save(args.out)}")
    return 0
