"""The `librobot` command line: `main()` and the parser, assembled from one module per command
group. The only package that prints; it may import everything below it.

- `catalog`: what is registered (`envs`, `robots`, `tasks`, `drivers`, `policies`).
- `run`: running policies (`rollout`, `collect`, `train`, `serve`, `demo`).
- `bench`: benchmarks (`bench run|show|compare|export`).
- `board`: leaderboards (`leaderboard build|submit|publish`).
- `hardware`: the robot side (`bridge serve`, `calibrate`).
- `common`: the console, the progress bar and the options the groups share.
"""

from __future__ import annotations

import argparse
import functools
import sys

from librobot_gym.cli import bench, board, catalog, hardware, run
from librobot_gym.cli.common import console

DESCRIPTION = "The `librobot` command line: list envs, roll out policies, run the demo."


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="librobot", description=DESCRIPTION)
    sub = parser.add_subparsers(dest="command", required=True)
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
    return parser


def main(argv: list[str] | None = None) -> int:
    from librobot_gym.errors import LibrobotError

    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:2] == ["bridge", "serve"]:  # its own options (see `librobot bridge serve --help`)
        command = functools.partial(hardware.bridge_serve, argv[2:])
    else:
        args = build_parser().parse_args(argv)
        if getattr(args, "episodes", 1) < 1:
            console.print("[red]error:[/red] --episodes must be at least 1")
            return 2
        command = functools.partial(args.func, args)
    try:
        return command()
    except LibrobotError as exc:
        console.print(f"[red]error:[/red] {exc}")
        return 2
