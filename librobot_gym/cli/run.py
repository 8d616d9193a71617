"""Commands that run policies: `librobot rollout` (success rate of a policy on an env), `collect`
(record demonstrations), `train` (behaviour cloning or RL), `serve` (a policy over websockets)
and `demo` (the pickcup card for the expert and random policies, scored and on a board)."""

from __future__ import annotations

import argparse
from pathlib import Path

from librobot_gym.cli.bench import bench_run, print_score
from librobot_gym.cli.board import build_board
from librobot_gym.cli.common import (
    CAMERA_HELP,
    OPERATOR_HELP,
    SuccessTally,
    abort_causes,
    add_listen_options,
    auto_label_note,
    camera_sources,
    client_url,
    console,
    driver_specs,
    policy_specs,
    progress,
)


# --- rollout ------------------------------------------------------------------------------------
def add_rollout(sub: argparse._SubParsersAction) -> None:
    ro = sub.add_parser("rollout", help="roll a policy out and report its success rate")
    ro.add_argument("env_id")
    ro.add_argument("--policy", default="expert", help=policy_specs())
    ro.add_argument("--episodes", type=int, default=10)
    ro.add_argument("--seed", type=int, default=0)
    ro.add_argument("--video", help="write an MP4 of every episode here")
    ro.add_argument("--results", help="append per-episode records (JSON lines) here")
    ro.add_argument("--obs-mode", help="rgb | state | state_dict (default: the env's)")
    ro.add_argument("--control-mode", help="e.g. ee_delta_pose, joint_pos")
    ro.add_argument("--camera-size", type=int, help="square camera images of this many pixels")
    ro.add_argument("--camera", action="append", metavar="NAME=SOURCE",
                    help=f"-Real- envs: {CAMERA_HELP}")
    ro.add_argument("--driver", help=f"-Real- envs: {driver_specs()}")
    ro.add_argument("--operator", metavar="SPEC", help=f"-Real- envs: {OPERATOR_HELP}")
    ro.set_defaults(func=_cmd_rollout)


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
        env_kwargs["cameras"] = camera_sources(args.camera)
    if args.operator:
        env_kwargs["operator"] = args.operator
    summary = _rollout(args.env_id, args.policy, args.episodes, args.seed, args.video,
                       args.results, env_kwargs)
    return 0 if summary.scored else 1  # every episode aborted: nothing was measured


def _rollout(env_id: str, policy: str, episodes: int, seed: int, video: str | None,
             results: str | None, env_kwargs: dict):
    """Roll out with a progress bar; print the success rate over the scored episodes and the
    aborted ones (hardware faults, the operator) apart, as `bench run` scores them."""
    from librobot_gym.benchmarks.rollout import check_seed, rollout

    check_seed(seed, "seed (--seed)")  # before the progress bar: the error prints alone
    bars, tally = progress(), SuccessTally()

    def on_episode(result):
        if not bars.task_ids:  # from the first episode on: a refusal (or a prompt) prints alone
            bars.add_task(f"{policy} on {env_id}", total=episodes, rate="-")
            bars.start()
        bars.update(bars.task_ids[0], advance=1,
                    rate=tally.add(result.aborted, result.success_once))

    try:
        summary = rollout(env_id, policy, episodes, seed, video, results, env_kwargs, on_episode)
    finally:
        if bars.live.is_started:
            bars.stop()
    scored, aborted = summary.scored, summary.aborted
    causes = abort_causes([e.abort_reason for e in aborted])
    if not scored:
        console.print(f"[bold]{policy}[/bold] on {env_id}: [red]no episode scored[/red]: all "
                      f"{len(aborted)} were aborted ({causes})")
    else:
        console.print(f"[bold]{policy}[/bold] on {env_id}: success rate "
                      f"[bold]{summary.success_rate:.2f}[/bold] over {len(scored)} episodes, "
                      f"mean return {summary.mean_return:.2f}"
                      + (f"; [yellow]{len(aborted)} aborted, not scored[/yellow] ({causes})"
                         if aborted else ""))
    note = auto_label_note([e.task_metrics for e in scored])
    if note:
        console.print(note)
    if summary.video_path:
        console.print(f"video: {summary.video_path}")
    if summary.results_path:
        console.print(f"results: {summary.results_path}")
    return summary


# --- collect, train, serve ----------------------------------------------------------------------
def add_collect(sub: argparse._SubParsersAction) -> None:
    col = sub.add_parser("collect", help="record demonstrations (LeRobot v3 layout)")
    col.add_argument("env_id")
    col.add_argument("--policy", default="expert", help=policy_specs())
    col.add_argument("--episodes", type=int, default=50)
    col.add_argument("--out", required=True)
    col.add_argument("--seed", type=int, default=0)
    col.add_argument("--camera-size", type=int, default=128)
    col.set_defaults(func=_cmd_collect)


def _cmd_collect(args: argparse.Namespace) -> int:
    from librobot_gym.training.data.collect import collect_main

    collect_main(args.env_id, args.policy, args.episodes, args.out, args.seed, args.camera_size)
    return 0


def add_train(sub: argparse._SubParsersAction) -> None:
    train = sub.add_parser("train", help="behaviour cloning (--config) or RL (--algo)")
    train.add_argument("--config", help="training YAML (see configs/train/)")
    train.add_argument("--algo", help="ppo | sac: stable-baselines3 on the env's state mode")
    train.add_argument("--env", help="env id for --algo")
    train.add_argument("--steps", type=int, default=20_000)
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--out", help="output folder (default: the config's `out`, or "
                                     "outputs/train for --algo)")
    train.add_argument("--curve", help="--algo: write the learning curve here (CSV: steps, "
                                       "episodes, mean_return, success_rate, mean_length, wall_s)")
    train.add_argument("--curve-every", type=int,
                       help="--algo: steps per curve point (default: a twentieth of --steps)")
    train.add_argument("--no-normalize", action="store_true",
                       help="--algo: train on raw observations and rewards (default: SB3's "
                            "VecNormalize, whose statistics are saved in the model)")
    train.set_defaults(func=_cmd_train)


def _cmd_train(args: argparse.Namespace) -> int:
    if args.algo:
        from librobot_gym.training.rl import train_sb3

        if not args.env:
            console.print("[red]error:[/red] --algo needs --env ENV_ID")
            return 2
        out = Path(args.out or "outputs/train")
        with progress() as bars:
            bar = bars.add_task(f"{args.algo} on {args.env}", total=args.steps, rate="-")

            def show(point):
                bars.update(bar, completed=min(point.steps, args.steps),  # "success ..."
                            rate=f"{point.success_rate:.2f}, return {point.mean_return:.2f}")

            path = train_sb3(args.env, args.algo, args.steps, out / f"{args.algo}_model",
                             seed=args.seed, normalize=not args.no_normalize, curve=args.curve,
                             curve_every=args.curve_every, on_point=show)
        console.print(f"trained {args.algo} on {args.env} for {args.steps} steps: {path} "
                      f"(use it as --policy {args.algo}:{path})")
        if args.curve:
            console.print(f"learning curve: {args.curve}")
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
    with progress() as bars:
        bar = bars.add_task("training", total=config.steps, rate="-")

        class ShowProgress(Callback):
            def on_step_end(self, trainer, metrics):
                bars.update(bar, completed=trainer.step, rate=f"loss {metrics['loss']:.3f}")

        result = train_from_config(config, [ShowProgress()])
    console.print(f"trained to step {result['step']}: checkpoint {result['checkpoint']} "
                  f"(use it as --policy vla:{result['checkpoint']}); evaluation {result['eval']}")
    return 0


def add_serve(sub: argparse._SubParsersAction) -> None:
    serve = sub.add_parser("serve", help="serve a policy over websockets (openpi-compatible)")
    serve.add_argument("--policy", required=True, help=policy_specs())
    add_listen_options(serve, 8000)
    serve.add_argument("--env", help="env id the policy is checked against (and built for)")
    serve.add_argument("--max-batch", type=int, default=64,
                       help="most observations one request may carry (default 64)")
    serve.add_argument("--max-frame-mb", type=float, default=64.0,
                       help="largest request frame in MiB (default 64: a batch of camera images)")
    serve.set_defaults(func=_cmd_serve)


def _cmd_serve(args: argparse.Namespace) -> int:
    from librobot_gym.serving.cli import serve_main
    from librobot_gym.wire.auth import ServerAuth

    auth = ServerAuth.configure(args.host, args.token_file, args.tls_cert, args.tls_key)
    return serve_main(args.policy, args.port, args.host, args.env,
                      on_ready=lambda url: console.print(
                          f"serving {args.policy} on {url} (health: GET /healthz); clients use "
                          f"--policy remote:{client_url(url, auth)}; Ctrl-C stops"),
                      auth=auth, max_batch=args.max_batch,
                      max_frame_bytes=int(args.max_frame_mb * 2**20))


# --- demo ---------------------------------------------------------------------------------------
def add_demo(sub: argparse._SubParsersAction) -> None:
    demo = sub.add_parser("demo", help="the pickcup card for expert and random, scored and on "
                                       "a board")
    demo.add_argument("--card", default="benchmarks/pickcup-v0.yaml",
                      help="suite card (default: benchmarks/pickcup-v0.yaml)")
    demo.add_argument("--workers", type=int, default=2, help="episodes at once (default: 2)")
    demo.add_argument("--out", default="outputs/demo",
                      help="where everything goes: results.db, videos/, board/ (default: "
                           "outputs/demo)")
    demo.set_defaults(func=_cmd_demo)


def _cmd_demo(args: argparse.Namespace) -> int:
    """The pickcup card for the expert and random policies, scored side by side, with a video
    of each and a board; everything under --out, afresh each time."""
    import shutil

    from librobot_gym.benchmarks.cards import load_card
    from librobot_gym.benchmarks.store import ResultsStore

    out = Path(args.out)
    db, board = out / "results.db", out / "board"
    if db.exists():
        db.unlink()  # the demo starts afresh each time
    if (board / "board.json").exists():
        shutil.rmtree(board)  # only a board (it holds board.json): never another folder
    out.mkdir(parents=True, exist_ok=True)
    store = ResultsStore(f"sqlite:///{db}")
    card = load_card(args.card)
    args.backend, args.executor, args.seed, args.videos = "sim", "local", 0, 1
    for policy in ("expert", "random"):
        run_id = bench_run(card, policy, store, args)
        print_score(store, run_id, f"{policy} on {card.name}")
    console.print(f"results: {db} (`librobot bench show --db sqlite:///{db}`); "
                  f"videos: {out / 'videos'}")
    page = build_board(card, store, str(board))
    console.print(f"leaderboard: open {Path(page).resolve()}")
    return 0
