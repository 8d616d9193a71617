"""The `librobot` command line: `main()` and the parser, assembled from one module per command
group. The only package that prints; it may import everything below it.

- `catalog`: what is registered (`envs`, `robots`, `tasks`, `drivers`, `policies`).
- `run`: running policies (`rollout`, `collect`, `train`, `serve`, `demo`).
- `bench`: benchmarks (`bench run|show|compare|export`).
- `adaptive`: adaptive evaluation (`bench ab`, `bench plan`, `bench run --until-width`).
- `board`: leaderboards (`leaderboard build|submit|publish`).
- `hardware`: the robot side (`bridge serve`, `calibrate`).
- `common`: the console, the help formatter, the progress bar and the options the groups share.

A user's mistake (a `LibrobotError`: an unknown env id, a missing file, a policy that does not
fit) is one line naming the problem and the fix, exit code 2; Ctrl-C is one line saying what
was done and how to go on, exit code 130. Anything else is a bug and keeps its traceback
(`LIBROBOT_TRACEBACK=1` shows it for the one-line errors too).
"""

from __future__ import annotations

import argparse
import functools
import os
import sys

from librobot_gym.cli import bench, board, catalog, hardware, run
from librobot_gym.cli.common import (
    EXIT_USER_ERROR,
    HelpFormatter,
    Interrupted,
    Parser,
    console,
    use_device,
)

DESCRIPTION = ("The `librobot` command line: list envs, roll out policies, record and train, "
               "run benchmarks, serve policies, build leaderboards. Results go to --out DIR; "
               "benchmark runs to the --db URL database (default "
               "sqlite:///outputs/bench/results.db).")
EXIT_INTERRUPTED = 130  # 128 + SIGINT: what a shell reports for a command stopped by Ctrl-C


def version() -> str:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as package_version

    try:
        return package_version("librobot-gym")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown (not installed)"


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="librobot", description=DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"librobot-gym {version()}",
                        help="print the installed librobot-gym version and exit")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    catalog.add_catalog(sub)
    run.add_rollout(sub)
    bench.add_bench(sub)
    board.add_leaderboard(sub)
    run.add_collect(sub)
    run.add_train(sub)
    run.add_serve(sub)
    hardware.add_bridge(sub)
    hardware.add_calibrate(sub)
    run.add_demo(sub)
    for each in parsers(parser):
        each.formatter_class = HelpFormatter
    return parser


def parsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    """`parser` and every subcommand's parser below it."""
    found = [parser]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in dict.fromkeys(action.choices.values()):  # aliases share a parser
                found += parsers(child)
    return found


def main(argv: list[str] | None = None) -> int:
    from librobot_gym.errors import LibrobotError

    argv = sys.argv[1:] if argv is None else list(argv)
    show_traceback = os.environ.get("LIBROBOT_TRACEBACK", "") not in ("", "0")
    try:
        if argv[:2] == ["bridge", "serve"]:  # its own options (see `librobot bridge serve --help`)
            command = functools.partial(hardware.bridge_serve, argv[2:])
        else:
            args = build_parser().parse_args(argv)
            if getattr(args, "episodes", 1) < 1:
                return error("--episodes must be at least 1")
            use_device(getattr(args, "device", None))
            command = functools.partial(args.func, args)
        return command()
    except Interrupted as stop:
        console.print(f"[yellow]interrupted[/yellow] {escaped(stop)}")
        return EXIT_INTERRUPTED
    except KeyboardInterrupt:
        console.print("[yellow]interrupted[/yellow] (Ctrl-C)")
        return EXIT_INTERRUPTED
    except LibrobotError as exc:
        if show_traceback:
            raise
        return error(str(exc))
    except OSError as exc:  # a path the user gave: missing, a folder, not writable
        if show_traceback or exc.filename is None:
            raise
        return error(f"{exc.filename}: {exc.strerror or exc}")
    except Exception as exc:
        from gymnasium.error import DeprecatedEnv, UnregisteredEnv

        if show_traceback or not isinstance(exc, UnregisteredEnv | DeprecatedEnv):
            raise
        return error(f"{exc} (`librobot envs` lists the env ids)")


def error(message: str) -> int:
    console.print(f"[red]error:[/red] {escaped(message)}")
    return EXIT_USER_ERROR


def escaped(message: object) -> str:
    """A message as text, not console markup (it may quote "[rgb]")."""
    from rich.markup import escape

    return escape(" ".join(str(message).split()))
