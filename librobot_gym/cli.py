"""The `librobot` command line: list envs, roll out policies, run the demo."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

# Piped output (logs, CI) gets a wide console so tables keep one row per env.
console = Console(width=None if sys.stdout.isatty() else 120, soft_wrap=True)


def _cmd_envs(args: argparse.Namespace) -> int:
    from librobot_gym.envs.core import OBS_MODES
    from librobot_gym.envs.registration import env_doc, env_entries
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
    for entry in env_entries():
        robot = get_robot(entry.robot)
        modes = [f"{m}*" if m == robot.default_control_mode else m for m in robot.control_modes]
        table.add_row(entry.id, entry.robot, entry.task, ", ".join(modes),
                      str(entry.max_episode_steps))
    console.print(table)
    return 0


def _task_cell(robot, task_name: str):
    """The cell (scene objects, floor) of `task_name` at `robot`'s scale."""
    from librobot_gym.envs.tasks import get_task
    from librobot_gym.scene import Cell

    return Cell.of(get_task(task_name)(robot))


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
    if args.camera_size:
        env_kwargs["camera_size"] = args.camera_size
    if args.driver:
        env_kwargs["driver"] = args.driver
    if args.camera:
        env_kwargs["cameras"] = _camera_sources(args.camera)
    _run(args.env_id, args.policy, args.episodes, args.seed, args.video, args.results,
         env_kwargs)
    return 0


def _camera_sources(specs: list[str]) -> dict[str, int | str]:
    """["front=0", "wrist=rtsp://..."] -> {"front": 0, "wrist": "rtsp://..."} (a number is an
    OpenCV device index, anything else a stream URL or video file)."""
    from librobot_gym.errors import ConfigError

    sources: dict[str, int | str] = {}
    for spec in specs:
        name, sep, source = spec.partition("=")
        if not sep or not name or not source:
            raise ConfigError(f"--camera {spec!r}: write NAME=SOURCE, e.g. front=0 or "
                              "wrist=rtsp://wrist-cam/stream")
        sources[name] = int(source) if source.isdecimal() else source
    return sources


def _print_score(store, run_id: str, title: str) -> None:
    from librobot_gym.benchmarks.score import score_episodes

    score = score_episodes(store.episodes_frame(run_id))
    table = Table(title=title)
    table.add_column("task", no_wrap=True)
    for column in ("episodes", "success [95% CI]", "return", "length", "safety events",
                   "task metrics (mean)"):
        table.add_column(column)
    for task in score.tasks:
        metrics = ", ".join(f"{k}={v:.3g}" for k, v in list(task.metrics.items())[:6])
        table.add_row(task.env_id, str(task.episodes),
                      f"{task.rate:.2f} [{task.low:.2f}, {task.high:.2f}]",
                      f"{task.mean_return:.2f}", f"{task.mean_length:.0f}",
                      str(task.safety_events), metrics)
    table.caption = (f"aggregate: IQM of task success {score.iqm:.2f} "
                     f"[{score.iqm_low:.2f}, {score.iqm_high:.2f}] (stratified bootstrap, 95%) "
                     f"over {score.episodes} episodes; run {run_id}")
    console.print(table)


def _bench_run(card, policy: str, store, args) -> str:
    from librobot_gym.benchmarks.runner import run_suite

    with _progress() as progress:
        bar = progress.add_task(f"{policy} on {card.name}", total=card.total_episodes, rate="-")
        successes: list[bool] = []

        def on_start(total: int, done: int) -> None:
            progress.update(bar, total=total, completed=done)

        def on_episode(result: dict) -> None:
            successes.append(bool(result["success_once"]))
            progress.update(bar, advance=1, rate=f"{sum(successes)}/{len(successes)}")

        summary = run_suite(card, policy, store, backend=args.backend, executor=args.executor,
                            workers=args.workers, videos=args.videos, out_dir=args.out,
                            seed_offset=args.seed, driver=getattr(args, "driver", None),
                            cameras=_camera_sources(getattr(args, "camera", None) or []),
                            on_start=on_start, on_episode=on_episode)
    if summary.resumed_with:
        console.print(f"resumed run {summary.run_id}: {summary.resumed_with} episodes were "
                      f"already stored, ran {summary.ran}")
    return summary.run_id


def _cmd_bench_run(args: argparse.Namespace) -> int:
    from librobot_gym.benchmarks.cards import load_card
    from librobot_gym.benchmarks.store import ResultsStore, default_url

    card = load_card(args.card)
    store = ResultsStore(args.db or default_url(args.out))
    policy = args.policy
    if args.train:
        from librobot_gym.training.rl import train_sb3

        if len(card.tasks) != 1:
            console.print("[red]error:[/red] --train needs a single-task card")
            return 2
        task = card.tasks[0]
        console.print(f"training {args.train} on {task.env} for {args.train_steps} steps ...")
        model = train_sb3(task.env, args.train, args.train_steps,
                          Path(args.out) / "models" / f"{args.train}_{card.name}",
                          task.control_mode, seed=args.seed)
        policy = f"{args.train}:{model}"
    run_id = _bench_run(card, policy, store, args)
    _print_score(store, run_id, f"{policy} on {card.name} ({args.backend})")
    return 0


def _cmd_bench_compare(args: argparse.Namespace) -> int:
    from librobot_gym.benchmarks.cards import load_card
    from librobot_gym.benchmarks.compare import compare
    from librobot_gym.benchmarks.store import ResultsStore, default_url

    result = compare(ResultsStore(args.db or default_url(args.out)), load_card(args.card))
    table = Table(title=f"sim vs real on {result.card}")
    for column in ("policy", "sim", "real", "gap", "sim eps", "real eps", "aborted"):
        table.add_column(column, justify="left" if column == "policy" else "right")
    for pair in result.pairs:
        table.add_row(pair.policy, f"{pair.sim:.2f}", f"{pair.real:.2f}", f"{pair.gap:+.2f}",
                      str(pair.sim_episodes), str(pair.real_episodes), str(pair.aborted))
    table.caption = f"Pearson r {result.pearson_r:.3f}, MMRV {result.mmrv:.3f}"
    console.print(table)
    return 0


def _cmd_bench_show(args: argparse.Namespace) -> int:
    from librobot_gym.benchmarks.store import ResultsStore, default_url

    store = ResultsStore(args.db or default_url(args.out))
    if args.export:
        path = store.export_parquet(args.export, args.run)
        console.print(f"wrote {path}")
    if args.run:
        run = store.get_run(args.run)
        if run is None:
            console.print(f"[red]error:[/red] no run {args.run!r} in {store.url}")
            return 2
        _print_score(store, run.id, f"{run.policy} on {run.suite} ({run.backend})")
        return 0
    table = Table(title=f"runs in {store.url}")
    for column in ("run", "suite", "policy", "backend", "episodes", "card hash", "started"):
        table.add_column(column)
    frame = store.episodes_frame()
    for run in store.runs():
        count = int((frame["run_id"] == run.id).sum()) if len(frame) else 0
        table.add_row(run.id, run.suite, run.policy, run.backend, str(count),
                      run.card_hash[:12], run.created_at.strftime("%Y-%m-%d %H:%M"))
    console.print(table)
    return 0


def _cmd_bench_export(args: argparse.Namespace) -> int:
    from librobot_gym.benchmarks.store import ResultsStore, default_url
    from librobot_gym.leaderboards.bundle import export_bundle

    store = ResultsStore(args.db or default_url(args.results))
    path = export_bundle(store, args.run, args.out)
    console.print(f"bundle of run {args.run}: {path}")
    return 0


def _build_board(card, store, out: str) -> Path:
    from librobot_gym.leaderboards.board import BoardDir
    from librobot_gym.leaderboards.render import write_board

    board_dir = BoardDir(out)
    board_dir.init(card)
    board_dir.add_from_store(store, card)
    return write_board(board_dir.board(), out)


def _cmd_leaderboard_build(args: argparse.Namespace) -> int:
    from librobot_gym.benchmarks.cards import load_card
    from librobot_gym.benchmarks.store import ResultsStore

    page = _build_board(load_card(args.card), ResultsStore(args.db), args.out)
    console.print(f"board: {page} (also README.md, results.csv, results.json)")
    return 0


def _cmd_leaderboard_submit(args: argparse.Namespace) -> int:
    from librobot_gym.leaderboards.board import BoardDir
    from librobot_gym.leaderboards.render import write_board

    board_dir = BoardDir(args.board)
    run_id = board_dir.submit(args.bundle)
    page = write_board(board_dir.board(), args.board)
    console.print(f"accepted run {run_id}; board: {page}")
    return 0


def _cmd_leaderboard_publish(args: argparse.Namespace) -> int:
    from librobot_gym.leaderboards.publish import publish

    console.print(f"published to {args.to}: {publish(args.board, args.to)}")
    return 0


def _cmd_collect(args: argparse.Namespace) -> int:
    from librobot_gym.training.data.collect import collect_main

    collect_main(args.env_id, args.policy, args.episodes, args.out, args.seed, args.camera_size)
    return 0


def _cmd_train(args: argparse.Namespace) -> int:
    if args.algo:
        from librobot_gym.training.rl import train_sb3

        if not args.env:
            console.print("[red]error:[/red] --algo needs --env ENV_ID")
            return 2
        out = Path(args.out or "outputs/train")
        path = train_sb3(args.env, args.algo, args.steps, out / f"{args.algo}_model",
                         seed=args.seed)
        console.print(f"trained {args.algo} on {args.env} for {args.steps} steps: {path} "
                      f"(use it as --policy {args.algo}:{path})")
        return 0
    if not args.config:
        console.print("[red]error:[/red] give --config TRAIN.yaml (behaviour cloning) or "
                      "--algo ppo|sac --env ENV_ID (reinforcement learning)")
        return 2
    from librobot_gym.training.bc import Callback, TrainConfig
    from librobot_gym.training.run import train_from_config

    config = TrainConfig.from_yaml(args.config)
    if args.out:
        config.out = args.out
    with _progress() as progress:
        bar = progress.add_task("training", total=config.steps, rate="-")

        class ShowProgress(Callback):
            def on_step_end(self, trainer, metrics):
                progress.update(bar, completed=trainer.step, rate=f"loss {metrics['loss']:.3f}")

        result = train_from_config(config, [ShowProgress()])
    console.print(f"trained to step {result['step']}: checkpoint {result['checkpoint']} "
                  f"(use it as --policy vla:{result['checkpoint']}); evaluation {result['eval']}")
    return 0


def _cmd_serve(args: argparse.Namespace) -> int:
    from librobot_gym.serving.cli import serve_main

    return serve_main(args.policy, args.port, args.host, args.env,
                      on_ready=lambda url: console.print(f"serving {args.policy} on {url} "
                                                         f"(health: GET /healthz); Ctrl-C stops"))


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
    bus = FeetechBus(args.port)
    bus.open()
    try:
        calibration = record_calibration(bus, robot.name, args.robot_id, names, ids, limits,
                                         ask=lambda prompt: input(prompt),
                                         recentre=not args.no_recentre)
    finally:
        bus.close()
    console.print(f"calibration saved to {calibration.save(args.out)}")
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    """The pickcup card for the expert and random policies, scored side by side."""
    from librobot_gym.benchmarks.cards import load_card
    from librobot_gym.benchmarks.store import ResultsStore

    out = Path(args.out)
    db = out / "results.db"
    if db.exists():
        db.unlink()  # the demo starts afresh each time
    out.mkdir(parents=True, exist_ok=True)
    store = ResultsStore(f"sqlite:///{db}")
    card = load_card(args.card)
    args.backend, args.executor, args.seed = "sim", "local", 0
    for policy, videos in (("expert", 1), ("random", 0)):
        args.videos = videos
        run_id = _bench_run(card, policy, store, args)
        _print_score(store, run_id, f"{policy} on {card.name}")
    console.print(f"results: {db} (`librobot bench show --db sqlite:///{db}`); "
                  f"videos: {out / 'videos'}")
    page = _build_board(card, store, args.board)
    console.print(f"leaderboard: open {Path(page).resolve()}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="librobot", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    envs = sub.add_parser("envs", help="list registered env ids")
    envs.add_argument("--doc", metavar="ENV_ID", help="print one env's documentation")
    envs.set_defaults(func=_cmd_envs)

    ro = sub.add_parser("rollout", help="roll a policy out and report its success rate")
    ro.add_argument("env_id")
    ro.add_argument("--policy", default="expert",
                    help="expert | random | ppo:MODEL | sac:MODEL | vla:CHECKPOINT_DIR")
    ro.add_argument("--episodes", type=int, default=10)
    ro.add_argument("--seed", type=int, default=0)
    ro.add_argument("--video", help="write an MP4 of every episode here")
    ro.add_argument("--results", help="append per-episode records (JSON lines) here")
    ro.add_argument("--obs-mode", help="rgb | state | state_dict (default: the env's)")
    ro.add_argument("--control-mode", help="e.g. ee_delta_pose, joint_pos")
    ro.add_argument("--camera-size", type=int, help="square camera images of this many pixels")
    ro.add_argument("--camera", action="append", metavar="NAME=SOURCE",
                    help="-Real- envs: a camera of the cell, OpenCV device index or stream URL "
                         "(repeat per camera, e.g. --camera front=0 --camera wrist=rtsp://...)")
    ro.add_argument("--driver", help="-Real- envs: franky:HOST | feetech:PORT | "
                                    "j1939:CHANNEL | bridge:ws://HOST:PORT | twin | "
                                    "twin:lockstep | feetech:emulator | j1939:emulator")
    ro.set_defaults(func=_cmd_rollout)

    bench = sub.add_parser("bench", help="run and inspect benchmarks").add_subparsers(
        dest="bench_command", required=True)
    run = bench.add_parser("run", help="train (optional), roll out and score a policy on a card")
    run.add_argument("card", help="suite card YAML, e.g. benchmarks/pickcup-v0.yaml")
    run.add_argument("--policy", default="expert", help="expert | random | ppo:MODEL | sac:MODEL")
    run.add_argument("--backend", default="sim", help="sim | real")
    run.add_argument("--driver", help="real backend: franky:HOST | feetech:PORT | "
                                      "j1939:CHANNEL | bridge:ws://HOST:PORT | twin | "
                                      "twin:lockstep | feetech:emulator | j1939:emulator")
    run.add_argument("--camera", action="append", metavar="NAME=SOURCE",
                     help="real backend: a camera of the cell (OpenCV device index or URL)")
    run.add_argument("--executor", default="local", help="local | ray")
    run.add_argument("--workers", type=int, default=1)
    run.add_argument("--db", help="results database URL (default: sqlite in --out)")
    run.add_argument("--videos", type=int, default=0, help="record the first K episodes/task")
    run.add_argument("--seed", type=int, default=0, help="offset added to the card's seeds")
    run.add_argument("--train", help="ppo | sac: train with stable-baselines3 first")
    run.add_argument("--train-steps", type=int, default=20_000)
    run.add_argument("--out", default="outputs/bench")
    run.set_defaults(func=_cmd_bench_run)
    show = bench.add_parser("show", help="list runs, or print one run's scores")
    show.add_argument("--run", help="run id")
    show.add_argument("--db", help="results database URL (default: sqlite in --out)")
    show.add_argument("--export", help="write the episodes (of --run, or all) to parquet")
    show.add_argument("--out", default="outputs/bench")
    show.set_defaults(func=_cmd_bench_show)

    cmp = bench.add_parser("compare", help="sim vs real success per policy, Pearson r, MMRV")
    cmp.add_argument("card")
    cmp.add_argument("--db", help="results database URL (default: sqlite in --out)")
    cmp.add_argument("--out", default="outputs/bench")
    cmp.set_defaults(func=_cmd_bench_compare)

    export = bench.add_parser("export", help="write a run as a result bundle")
    export.add_argument("run", help="run id (see `librobot bench show`)")
    export.add_argument("--out", required=True, help="bundle folder to write")
    export.add_argument("--db", help="results database URL (default: sqlite in --results)")
    export.add_argument("--results", default="outputs/bench")
    export.set_defaults(func=_cmd_bench_export)

    boards = sub.add_parser("leaderboard", help="build, submit to and publish leaderboards")
    boards = boards.add_subparsers(dest="leaderboard_command", required=True)
    build = boards.add_parser("build", help="render a board from the runs of a card")
    build.add_argument("--db", required=True, help="results database URL")
    build.add_argument("--card", required=True)
    build.add_argument("--out", required=True, help="board folder")
    build.set_defaults(func=_cmd_leaderboard_build)
    submit = boards.add_parser("submit", help="verify a result bundle and add it to a board")
    submit.add_argument("bundle")
    submit.add_argument("--board", required=True)
    submit.set_defaults(func=_cmd_leaderboard_submit)
    pub = boards.add_parser("publish", help="copy a board to a folder or commit it to git")
    pub.add_argument("board")
    pub.add_argument("--to", required=True, help="folder, or git repository URL/path")
    pub.set_defaults(func=_cmd_leaderboard_publish)

    col = sub.add_parser("collect", help="record demonstrations (LeRobot v3 layout)")
    col.add_argument("env_id")
    col.add_argument("--policy", default="expert")
    col.add_argument("--episodes", type=int, default=50)
    col.add_argument("--out", required=True)
    col.add_argument("--seed", type=int, default=0)
    col.add_argument("--camera-size", type=int, default=128)
    col.set_defaults(func=_cmd_collect)

    train = sub.add_parser("train", help="behaviour cloning (--config) or RL (--algo)")
    train.add_argument("--config", help="training YAML (see configs/train/)")
    train.add_argument("--algo", help="ppo | sac: stable-baselines3 on the env's state mode")
    train.add_argument("--env", help="env id for --algo")
    train.add_argument("--steps", type=int, default=20_000)
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--out", help="output folder (default: the config's `out`, or "
                                     "outputs/train for --algo)")
    train.set_defaults(func=_cmd_train)

    serve = sub.add_parser("serve", help="serve a policy over websockets (openpi-compatible)")
    serve.add_argument("--policy", required=True, help="vla:DIR, random, expert, ppo:MODEL ...")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--env", help="env id the policy is checked against (and built for)")
    serve.set_defaults(func=_cmd_serve)

    bridge = sub.add_parser("bridge", help="host a robot driver for envs on another computer")
    bridge = bridge.add_subparsers(dest="bridge_command", required=True)
    bridge.add_parser("serve", help="serve a driver (run this on the robot's PC); "
                                    "see `librobot bridge serve --help`")

    cal = sub.add_parser("calibrate", help="calibrate a servo-bus arm (SO-100) at its zero pose")
    cal.add_argument("robot", choices=["so100"])
    cal.add_argument("--port", required=True, help="the bus adapter, e.g. /dev/ttyACM0")
    cal.add_argument("--robot-id", required=True, help="name of this arm, e.g. lab-left")
    cal.add_argument("--ids", default="1,2,3,4,5,6", help="servo ids in joint order")
    cal.add_argument("--out", help="calibration file (default: the per-robot-id cache file)")
    cal.add_argument("--no-recentre", action="store_true",
                     help="keep the servos' offsets; record their readings at zero instead")
    cal.set_defaults(func=_cmd_calibrate)

    demo = sub.add_parser("demo", help="the pickcup card for expert and random, scored")
    demo.add_argument("--card", default="benchmarks/pickcup-v0.yaml")
    demo.add_argument("--workers", type=int, default=2)
    demo.add_argument("--out", default="outputs/demo")
    demo.add_argument("--board", default="leaderboards/demo")
    demo.set_defaults(func=_cmd_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    import librobot_gym  # noqa: F401  (registers the envs)
    from librobot_gym.errors import LibrobotError

    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:2] == ["bridge", "serve"]:  # its own options (see `librobot bridge serve --help`)
        from librobot_gym.hardware.bridge.server import bridge_main

        return bridge_main(argv[2:], cell_of=_task_cell)
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
