"""`librobot envs`: what is registered, listed (and one env's documentation printed).

The listing commands live here, one `add_*` per command, so that listing another kind of
registered thing is one more function beside these."""

from __future__ import annotations

import argparse

from rich.table import Table

from librobot_gym.cli.common import console


def add_envs(sub: argparse._SubParsersAction) -> None:
    envs = sub.add_parser("envs", help="list registered env ids")
    envs.add_argument("--doc", metavar="ENV_ID", help="print one env's documentation")
    envs.set_defaults(func=_cmd_envs)


def _cmd_envs(args: argparse.Namespace) -> int:
    from librobot_gym.envs.core import OBS_MODES
    from librobot_gym.envs.registration import ENV_TABLE, env_doc
    from librobot_gym.robots import get_robot

    if args.doc:
        from rich.markdown import Markdown

        console.print(Markdown(env_doc(args.doc)))
        return 0

    table = Table(title="librobot-gym environments",
                  caption=f"obs modes: {', '.join(OBS_MODES)}; * = default control mode")
    table.add_column("env id", no_wrap=True)
    for column in ("robot", "task", "control modes", "max steps"):
        table.add_column(column, overflow="fold")
    for entry in ENV_TABLE:
        robot = get_robot(entry.robot)
        modes = [f"{m}*" if m == robot.default_control_mode else m for m in robot.control_modes]
        table.add_row(entry.id, entry.robot, entry.task, ", ".join(modes),
                      str(entry.max_episode_steps))
    console.print(table)
    return 0
