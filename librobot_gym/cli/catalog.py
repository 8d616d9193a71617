"""What is registered, listed: `librobot envs` (and one env's documentation), `librobot robots`,
`librobot tasks`, `librobot drivers`, `librobot policies`, `librobot variants`. Every listing
names the origin of each row: `librobot-gym` for the built-ins, else the plugin's
distribution."""

from __future__ import annotations

import argparse

from rich.table import Table

from librobot_gym.cli.common import console


def add_catalog(sub: argparse._SubParsersAction) -> None:
    envs = sub.add_parser("envs", help="list registered env ids")
    envs.add_argument("--doc", metavar="ENV_ID", help="print one env's documentation "
                                                      "(default: list every env)")
    envs.set_defaults(func=_cmd_envs)
    for name, what, func in (("robots", "robots, their control modes and drivers", _cmd_robots),
                             ("tasks", "tasks", _cmd_tasks),
                             ("drivers", "driver spec schemes for -Real- envs", _cmd_drivers),
                             ("policies", "policy spec schemes (--policy)", _cmd_policies)):
        sub.add_parser(name, help=f"list registered {what}").set_defaults(func=func)
    variants = sub.add_parser("variants", help="list the variant factors and their levels")
    variants.add_argument("--env", metavar="ENV_ID",
                          help="only the variants this env supports (a -Real- id: those a real "
                               "cell can apply; default: every factor)")
    variants.set_defaults(func=_cmd_variants)


def _cmd_variants(args: argparse.Namespace) -> int:
    """Every factor with its levels (`FACTOR:LEVEL` names, combined with `+`), or those one
    env supports."""
    from librobot_gym.envs.variants import factors, supported_variants

    offered = None
    if args.env:
        from librobot_gym.envs.registration import check_env_id

        check_env_id(args.env)
        offered = set(supported_variants(args.env))
    rows = []
    for factor in factors():
        levels = [level for level in factor.levels
                  if offered is None or f"{factor.name}:{level}" in offered]
        if levels:
            rows.append((factor.name, ", ".join(levels),
                         "simulation only" if factor.sim_only else "sim and real",
                         factor.summary))
    return _table(f"variants{f' of {args.env}' if args.env else ''}",
                  ("factor", "levels", "where", "what it changes"), rows,
                  caption="name one as FACTOR:LEVEL (e.g. lighting:dark) in a card's variants "
                          "or gym.make(..., variant=...); combine factors with + "
                          "(lighting:dark+camera:shift_1)")


def _table(title: str, columns: tuple[str, ...], rows: list[tuple[str, ...]],
           caption: str | None = None) -> int:
    table = Table(title=title, caption=caption)
    table.add_column(columns[0], no_wrap=True)
    for column in columns[1:]:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*row)
    console.print(table)
    return 0


def _cmd_envs(args: argparse.Namespace) -> int:
    from librobot_gym.envs.core import OBS_MODES
    from librobot_gym.envs.registration import ENVS, env_doc
    from librobot_gym.robots import get_robot

    if args.doc:
        from rich.markdown import Markdown

        console.print(Markdown(env_doc(args.doc)))
        return 0
    rows = []
    for registered in ENVS.entries():
        entry = registered.component
        robot = get_robot(entry.robot)
        modes = [f"{m}*" if m == robot.default_control_mode else m for m in robot.control_modes]
        rows.append((entry.id, entry.robot, entry.task, ", ".join(modes),
                     str(entry.max_episode_steps), registered.origin))
    return _table("librobot-gym environments",
                  ("env id", "robot", "task", "control modes", "max steps", "origin"), rows,
                  f"obs modes: {', '.join(OBS_MODES)}; * = default control mode")


def _cmd_robots(args: argparse.Namespace) -> int:
    from librobot_gym.robots import ROBOTS

    rows = []
    for entry in ROBOTS.entries():
        robot = entry.component
        drivers = ", ".join(robot.drivers) or "-"
        if robot.stand_in:
            drivers += f"; stand-in {robot.stand_in}"
        rows.append((robot.name, robot.family, str(len(robot.joints)),
                     ", ".join(robot.control_modes), ", ".join(c.name for c in robot.cameras),
                     drivers, entry.origin))
    return _table("librobot-gym robots", ("robot", "family", "joints", "control modes",
                                          "cameras", "drivers", "origin"), rows)


def _cmd_tasks(args: argparse.Namespace) -> int:
    from librobot_gym.envs.tasks import TASKS

    rows = [(entry.name, entry.component.summary or "-", entry.origin)
            for entry in TASKS.entries()]
    return _table("librobot-gym tasks", ("task", "description", "origin"), rows)


def _cmd_drivers(args: argparse.Namespace) -> int:
    from librobot_gym.hardware.drivers import DRIVERS

    rows = [(entry.info["usage"], entry.info["summary"], entry.origin)
            for entry in DRIVERS.entries()]
    return _table("librobot-gym driver schemes", ("spec", "what it reaches", "origin"), rows)


def _cmd_policies(args: argparse.Namespace) -> int:
    from librobot_gym.policies.registry import POLICIES

    rows = [(entry.info["usage"], entry.info["summary"], entry.info["obs_mode"] or "any",
             entry.origin) for entry in POLICIES.entries()]
    return _table("librobot-gym policy schemes", ("spec", "what it is", "obs mode", "origin"),
                  rows)
