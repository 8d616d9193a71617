"""Commands that run policies: `librobot rollout` (success rate of a policy on an env), `collect`
(record demonstrations), `train` (behaviour cloning or RL), `serve` (a policy over websockets)
and `demo` (the pickcup and tabletop cards for the expert and random policies, scored and on
boards)."""

from __future__ import annotations

import argparse
from pathlib import Path

from librobot_gym.cli.bench import bench_run, print_score, train_progress, train_rl
from librobot_gym.cli.board import build_board
from librobot_gym.cli.common import (
    CAMERA_HELP,
    OPERATOR_HELP,
    Interrupted,
    SuccessTally,
    abort_causes,
    add_device_option,
    add_env_options,
    add_listen_options,
    auto_label_note,
    camera_size,
    camera_sources,
    client_url,
    console,
    deprecated,
    driver_specs,
    env_options,
    policy_specs,
    progress,
    step_bar,
    stop,
)
from librobot_gym.errors import ConfigError

# --- rollout ------------------------------------------------------------------------------------
ROLLOUT_RECORDS = "episodes.jsonl"  # under --out


def add_rollout(sub: argparse._SubParsersAction) -> None:
    ro = sub.add_parser("rollout", help="roll a policy out and report its success rate")
    ro.add_argument("env_id", help="a registered env id (`librobot envs` lists them)")
    ro.add_argument("--policy", default="expert", help=f"the policy: {policy_specs()}")
    ro.add_argument("--episodes", type=int, default=10, help="episodes to run")
    ro.add_argument("--num-envs", type=int, default=1, metavar="K",
                    help="simulation: step K envs side by side and call the policy once per "
                         "step on all of them (same records as 1; faster for a VLA)")
    ro.add_argument("--async-envs", action="store_true",
                    help="with --num-envs K and a vla: policy: each env steps in its own "
                         "process, on as many cores as there are")
    ro.add_argument("--seed", type=int, default=0,
                    help="seed of the first episode; episode i gets seed + i")
    ro.add_argument("--out", metavar="DIR",
                    help=f"append per-episode records (JSON lines) to DIR/{ROLLOUT_RECORDS}; "
                         "rerunning the same command resumes, running only the seeds not yet "
                         "recorded (default: no records)")
    ro.add_argument("--video", nargs="?", const="", metavar="FILE",
                    help="write an MP4 of the episodes run: to FILE, or DIR/video.mp4 with "
                         "--out DIR (default: no video)")
    ro.add_argument("--results", help=argparse.SUPPRESS)  # deprecated: --out DIR
    add_env_options(ro)
    add_device_option(ro)
    ro.add_argument("--camera", action="append", metavar="NAME=SOURCE",
                    help=f"-Real- envs: {CAMERA_HELP} (default: the driver's own cameras, if "
                         "any)")
    ro.add_argument("--driver", help=f"-Real- envs (required there; default: none): "
                                     f"{driver_specs()}")
    ro.add_argument("--operator", metavar="SPEC", help=f"-Real- envs: {OPERATOR_HELP}")
    ro.set_defaults(func=_cmd_rollout)


def _cmd_rollout(args: argparse.Namespace) -> int:
    from librobot_gym.policies.registry import required_obs_mode

    env_kwargs = env_options(args)
    needed = required_obs_mode(args.policy)  # ppo:, sac: read state; vla: rgb
    if needed and "obs_mode" not in env_kwargs:
        env_kwargs["obs_mode"] = needed
    if args.driver:
        env_kwargs["driver"] = args.driver
    if args.camera:
        env_kwargs["cameras"] = camera_sources(args.camera)
    results = Path(args.out) / ROLLOUT_RECORDS if args.out else None
    if args.results:
        deprecated("--results FILE", "--out DIR (records go to DIR/episodes.jsonl)")
        results = Path(args.results)
    video = args.video
    if video == "":
        if not args.out:
            raise ConfigError("--video without a FILE writes DIR/video.mp4: give --out DIR too "
                              "(or --video FILE)")
        video = str(Path(args.out) / "video.mp4")
    if args.operator:
        env_kwargs["operator"] = args.operator
    summary = _rollout(args.env_id, args.policy, args.episodes, args.seed, video,
                       results, env_kwargs, args.num_envs, args.async_envs)
    if args.out:  # LeRobot's eval_info.json beside our records, for LeRobot users' scripts
        from librobot_gym.benchmarks.lerobot_eval import write_lerobot_eval_info

        videos = [str(summary.video_path)] if summary.video_path else []
        console.print(f"LeRobot eval_info: "
                      f"{write_lerobot_eval_info(args.out, summary.episodes, videos)}")
    return 0 if summary.scored else 1  # every episode aborted: nothing was measured


def _is_real(env_id: str) -> bool:
    """Whether `env_id` runs on hardware (episodes take real time: show their steps)."""
    from librobot_gym.envs.registration import ENVS

    return env_id in ENVS and ENVS.get(env_id).real


def _rollout(env_id: str, policy: str, episodes: int, seed: int, video: str | None,
             results: Path | None, env_kwargs: dict, num_envs: int = 1,
             async_envs: bool = False):
    """Roll out with a progress bar (and, on hardware, a bar of the episode's steps); print
    the success rate over the scored episodes and the aborted ones (hardware faults, the
    operator) apart, as `bench run` scores them. Ctrl-C says what was kept."""
    from librobot_gym.benchmarks.rollout import (
        check_seed,
        recorded_episodes,
        rollout,
        rollout_key,
    )

    check_seed(seed, "seed (--seed)")  # before the progress bar: the error prints alone
    tally = SuccessTally()
    bars = progress(realtime=_is_real(env_id))

    def on_start(total: int, done: int) -> None:
        # The bar is made once the env and policy are built, and shown from the first step
        # or episode on: a refusal, or an operator prompt that cannot be answered, prints alone.
        bars.add_task(f"{policy} on {env_id}", total=total, completed=done,
                      rate="resumed" if done else "-")

    def on_episode(result) -> None:
        if not bars.live.is_started:
            bars.start()
        bars.update(bars.task_ids[0], advance=1,
                    rate=tally.add(result.aborted, result.success_once), refresh=True)

    on_step = None
    if _is_real(env_id):
        draw_steps = step_bar(bars, "  episode steps")

        def on_step(steps: int, limit: int) -> None:
            if not bars.live.is_started:
                bars.start()
            draw_steps(steps, limit)

    try:
        summary = rollout(env_id, policy, episodes, seed, video, results, env_kwargs,
                          on_episode, on_start, on_step, num_envs=num_envs,
                          async_envs=async_envs)
    except KeyboardInterrupt:
        stop(bars)
        where = "; nothing was recorded (with --out DIR finished episodes are kept, and " \
                "rerunning resumes)"
        if results is not None:  # what the file holds, whenever the signal came
            found = recorded_episodes(results, rollout_key(env_id, policy, env_kwargs))
            kept = sum(seed <= s < seed + episodes for s in found)
            where = f"; {results} holds {kept} of the {episodes}: rerun the same command to resume"
        raise Interrupted(f"after {tally.ran} of {episodes} episodes{where}") from None
    finally:
        stop(bars)
    scored, aborted = summary.scored, summary.aborted
    causes = abort_causes([e.abort_reason for e in aborted])
    if summary.resumed_with:
        console.print(f"resumed: {summary.resumed_with} episodes were already in {results}, "
                      f"ran {episodes - summary.resumed_with}")
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
    col.add_argument("env_id", help="a registered env id (`librobot envs` lists them)")
    col.add_argument("--policy", default="expert", help=f"the demonstrator: {policy_specs()}")
    col.add_argument("--episodes", type=int, default=50,
                     help="episodes the dataset holds when done (a rerun continues a folder)")
    col.add_argument("--out", required=True, metavar="DIR", help="the dataset folder")
    col.add_argument("--seed", type=int, default=0,
                     help="seed of the first episode; episode i gets seed + i")
    col.add_argument("--camera-size", type=camera_size, default=128, metavar="N|HxW",
                     help="camera images of N x N pixels, or H x W")
    col.add_argument("--randomize", metavar="FACTOR[,FACTOR...]",
                     help="domain randomisation: each episode draws one level per factor from "
                          "its seed ('all': every factor the env supports but language, "
                          "see README 'Variants'; default: none)")
    col.set_defaults(func=_cmd_collect)


def _cmd_collect(args: argparse.Namespace) -> int:
    import numpy as np

    from librobot_gym.training.data.collect import collect

    bars, successes, in_dataset = progress(), [], [0]

    def on_start(total: int, done: int) -> None:
        in_dataset[0] = done
        bars.add_task(f"collect {args.env_id}", total=total, completed=min(done, total),
                      rate="resumed" if done else "-")
        bars.start()

    def on_episode(record) -> None:
        successes.append(record.success)
        in_dataset[0] = record.episode_index + 1
        bars.update(bars.task_ids[0], completed=in_dataset[0],
                    rate=f"success {np.mean(successes):.0%}")

    try:
        summary = collect(args.env_id, args.policy, args.episodes, args.out, args.seed,
                          args.camera_size, on_episode=on_episode, on_start=on_start,
                          randomize=args.randomize)
    except KeyboardInterrupt:
        stop(bars)
        raise Interrupted(f"after {len(successes)} episodes ({in_dataset[0]} of "
                          f"{args.episodes} are in {args.out}): rerun the same command to "
                          f"continue") from None
    finally:
        stop(bars)
    per_min = 60 * len(summary.episodes) / summary.wall_time_s if summary.wall_time_s else 0.0
    console.print(f"{summary.path}: {summary.total_episodes} episodes, {summary.total_frames} "
                  f"frames; recorded {len(summary.episodes)} now "
                  f"(success {summary.success_rate:.0%}, {per_min:.1f} episodes/min)")
    return 0


def add_train(sub: argparse._SubParsersAction) -> None:
    train = sub.add_parser("train", help="behaviour cloning (--config) or RL (--algo)")
    train.add_argument("--config", help="training YAML for behaviour cloning (see "
                                        "configs/train/; default: none, give it or --algo)")
    train.add_argument("--algo", help="ppo | sac: stable-baselines3 on the env's state mode "
                                      "(default: none, give it or --config)")
    train.add_argument("--env", help="env id for --algo (required with it; default: none)")
    train.add_argument("--steps", type=int, default=20_000, help="--algo: env steps to train")
    train.add_argument("--seed", type=int, default=0, help="--algo: training seed")
    train.add_argument("--out", metavar="DIR",
                       help="output folder (default: the config's `out`, or outputs/train for "
                            "--algo)")
    train.add_argument("--curve", help="--algo: write the learning curve here (CSV: steps, "
                                       "episodes, mean_return, success_rate, mean_length, "
                                       "wall_s; default: none)")
    train.add_argument("--curve-every", type=int,
                       help="--algo: steps per curve point (default: a twentieth of --steps)")
    train.add_argument("--no-normalize", action="store_true",
                       help="--algo: train on raw observations and rewards (default: SB3's "
                            "VecNormalize, whose statistics are saved in the model)")
    add_device_option(train)
    train.set_defaults(func=_cmd_train)


def _cmd_train(args: argparse.Namespace) -> int:
    if args.algo:
        if not args.env:
            console.print("[red]error:[/red] --algo needs --env ENV_ID")
            return 2
        out = Path(args.out or "outputs/train")
        path = train_rl(args.env, args.algo, args.steps, out / f"{args.algo}_model",
                        seed=args.seed, normalize=not args.no_normalize, curve=args.curve,
                        curve_every=args.curve_every)
        console.print(f"trained {args.algo} on {args.env} for {args.steps} steps: {path} "
                      f"(use it as --policy {args.algo}:{path})")
        if args.curve:
            console.print(f"learning curve: {args.curve}")
        return 0
    if not args.config:
        console.print("[red]error:[/red] give --config TRAIN.yaml (behaviour cloning) or "
                      "--algo ppo|sac --env ENV_ID (reinforcement learning)")
        return 2
    from librobot_gym.training.bc import TrainConfig
    from librobot_gym.training.run import train_from_config

    config = TrainConfig.from_yaml(args.config)
    if args.out:
        config.out = args.out
    show = train_progress(config.steps)
    try:
        result = train_from_config(config, [show])
    except KeyboardInterrupt:
        stop(show.bars)
        saved = (f"the last checkpoint ({config.out}/last, step {show.checkpoint}) is kept: "
                 f"rerun the same command to resume from it" if show.checkpoint else
                 f"no checkpoint yet (one every {config.checkpoint_every} steps): rerun the "
                 f"same command to start again")
        raise Interrupted(f"at training step {show.step} of {config.steps}; {saved}") from None
    finally:
        stop(show.bars)
    console.print(f"trained to step {result['step']}: checkpoint {result['checkpoint']} "
                  f"(use it as --policy vla:{result['checkpoint']}); evaluation {result['eval']}")
    return 0


def add_serve(sub: argparse._SubParsersAction) -> None:
    serve = sub.add_parser("serve", help="serve a policy over websockets (openpi-compatible)")
    serve.add_argument("--policy", required=True, help=f"the policy: {policy_specs()}")
    add_listen_options(serve, 8000)
    serve.add_argument("--env", help="env id the policy is checked against and built for "
                                     "(default: none; only vla:DIR can be served without one)")
    add_env_options(serve)
    add_device_option(serve)
    serve.add_argument("--max-batch", type=int, default=64,
                       help="most observations one request may carry")
    serve.add_argument("--max-frame-mb", type=float, default=64.0,
                       help="largest request frame in MiB (64: a batch of camera images)")
    serve.add_argument("--batch-wait-ms", type=float, default=0.0,
                       help="dynamic batching: requests of all clients arriving within this "
                            "wait (up to --max-batch observations) share one forward pass "
                            "(default 0: each request alone)")
    serve.set_defaults(func=_cmd_serve)


def _cmd_serve(args: argparse.Namespace) -> int:
    from librobot_gym.serving.cli import serve_main
    from librobot_gym.wire.auth import ServerAuth

    env_kwargs = env_options(args)
    if env_kwargs and not args.env:
        raise ConfigError("--obs-mode, --control-mode and --camera-size set up the env of "
                          "--env ENV_ID: give it too")
    auth = ServerAuth.configure(args.host, args.token_file, args.tls_cert, args.tls_key)
    return serve_main(args.policy, args.port, args.host, args.env, env_kwargs,
                      on_ready=lambda url: console.print(
                          f"serving {args.policy} on {url} (health: GET /healthz); clients use "
                          f"--policy remote:{client_url(url, auth)}; Ctrl-C stops"),
                      auth=auth, max_batch=args.max_batch,
                      max_frame_bytes=int(args.max_frame_mb * 2**20),
                      batch_wait_s=args.batch_wait_ms / 1e3)


# --- demo ---------------------------------------------------------------------------------------
# The cards `make demo` scores: pickcup (one task, the README's first table) and the tabletop
# suite (every arm x task id; tests/benchmarks/test_tabletop_card.py keeps it complete).
DEMO_CARDS = ("benchmarks/pickcup-v0.yaml", "benchmarks/tabletop-v0.yaml")


def add_demo(sub: argparse._SubParsersAction) -> None:
    demo = sub.add_parser("demo", help="the pickcup and tabletop cards for expert and random, "
                                       "scored and on boards")
    demo.add_argument("--card", action="append", metavar="CARD",
                      help=f"suite card; repeat for several (default: {' and '.join(DEMO_CARDS)})")
    demo.add_argument("--workers", type=int, default=2, help="episodes at once (default: 2)")
    demo.add_argument("--out", default="outputs/demo",
                      help="where everything goes: results.db, videos/, board/CARD/ (default: "
                           "outputs/demo)")
    demo.set_defaults(func=_cmd_demo)


def _fresh_boards(root: Path) -> None:
    """Remove the boards an earlier demo left under `root`: each folder that holds a
    board.json (the old layout had one board in `root` itself), never another folder."""
    import shutil

    if (root / "board.json").exists():
        shutil.rmtree(root)
        return
    for board in root.glob("*/board.json"):
        shutil.rmtree(board.parent)


def _cmd_demo(args: argparse.Namespace) -> int:
    """Each card (default: pickcup and tabletop) for the expert and random policies, scored
    side by side, with a video of each per task and a board per card; everything under --out,
    afresh each time."""
    from librobot_gym.benchmarks.cards import load_card
    from librobot_gym.benchmarks.store import ResultsStore

    cards = [load_card(path) for path in args.card or DEMO_CARDS]  # all checked before any run
    out = Path(args.out)
    db, boards = out / "results.db", out / "board"
    if db.exists():
        db.unlink()  # the demo starts afresh each time
    _fresh_boards(boards)
    out.mkdir(parents=True, exist_ok=True)
    store = ResultsStore(f"sqlite:///{db}")
    args.backend, args.executor, args.seed, args.videos = "sim", "local", 0, 1
    for card in cards:
        for policy in ("expert", "random"):
            run_id = bench_run(card, policy, store, args)
            print_score(store, run_id, f"{policy} on {card.name}")
    console.print(f"results: {db} (`librobot bench show --db sqlite:///{db}`); "
                  f"videos: {out / 'videos'}")
    for card in cards:
        page = build_board(card, store, str(boards / card.name))
        console.print(f"leaderboard of {card.name}: open {Path(page).resolve()}")
    return 0
