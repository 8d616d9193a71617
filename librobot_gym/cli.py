"""The `librobot` command line: list envs, roll out policies, run the demo."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

# Piped output (logs, CI) gets a wide console so tables keep one row per env.
console = Console(width=None if sys.stdout.isatty() else 120)


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


def _progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TextColumn("success {task.fields[rate]}"), TimeElapsedColumn(),
                    console=console)


def _run(env_id: str, policy: str, episodes: int, seed: int, video: str | None,
         results: str | None, env_kwargs: dict):
    from librobot_gym.benchmarks.rollout import rollout

    successes = []
    with _progress() as progress:
        bar = progress.add_task(f"{policy} on {env_id}", total=episodes, rate="-")

        def on_episode(result):
            successes.append(result.success_once)
            progress.update(bar, advance=1,
                            rate=f"{sum(successes)}/{len(successes)}")

        summary = rollout(env_id, policy, episodes, seed, video, results, env_kwargs, on_episode)
    console.print(f"[bold]{policy}[/bold] on {env_id}: success rate "
                  f"[bold]{summary.success_rate:.2f}[/bold] over {len(summary.episodes)} episodes, "
                  f"mean return {summary.mean_return:.2f}")
    if summary.video_path:
        console.print(f"video: {summary.video_path}")
    if summary.results_path:
        console.print(f"results: {summary.results_path}")
    return summary


def _cmd_rollout(args: argparse.Namespace) -> int:
    env_kwargs = {}
    if args.obs_mode:
        env_kwargs["obs_mode"] = args.obs_mode
    if args.control_mode:
        env_kwargs["control_mode"] = args.control_mode
    _run(args.env_id, args.policy, args.episodes, args.seed, args.video, args.results,
         env_kwargs)
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    out = Path(args.out)
    results = out / "results.jsonl"
    if results.exists():
        results.unlink()  # the demo starts afresh each time
    _run("librobot/Franka-PickCup-v0", "expert", args.episodes, args.seed, str(out / "expert.mp4"),
         str(results), {"obs_mode": "state"})
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="librobot", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    envs = sub.add_parser("envs", help="list registered env ids")
    envs.add_argument("--doc", metavar="ENV_ID", help="print one env's documentation")
    envs.set_defaults(func=_cmd_envs)

    ro = sub.add_parser("rollout", help="roll a policy out and report its success rate")
    ro.add_argument("env_id")
    ro.add_argument("--policy", default="expert", help="expert | random")
    ro.add_argument("--episodes", type=int, default=10)
    ro.add_argument("--seed", type=int, default=0)
    ro.add_argument("--video", help="write an MP4 of every episode here")
    ro.add_argument("--results", help="append per-episode records (JSON lines) here")
    ro.add_argument("--obs-mode", help="rgb | state | state_dict (default: the env's)")
    ro.add_argument("--control-mode", help="e.g. ee_delta_pose, joint_pos")
    ro.set_defaults(func=_cmd_rollout)

    demo = sub.add_parser("demo", help="the expert on Franka-PickCup, with video and results")
    demo.add_argument("--episodes", type=int, default=20)
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--out", default="outputs/demo")
    demo.set_defaults(func=_cmd_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    import librobot_gym  # noqa: F401  (registers the envs)
    from librobot_gym.errors import LibrobotError

    args = build_parser().parse_args(argv)
    if getattr(args, "episodes", 1) < 1:
        console.print("[red]error:[/red] --episodes must be at least 1")
        return 2
    try:
        return args.func(args)
    except LibrobotError as exc:
        console.print(f"[red]error:[/red] {exc}")
        return 2


if __name__ == "__main__":
    sys.exit(main())
