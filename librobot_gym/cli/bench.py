"""`librobot bench run|show|compare|export`: run a suite card, inspect and compare its runs, and
export one as a result bundle. The runner, store and statistics are in `benchmarks/`; this
module parses, shows progress and prints the score tables."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.table import Table

from librobot_gym.cli.common import (
    CAMERA_HELP,
    OPERATOR_HELP,
    SuccessTally,
    abort_causes,
    auto_label_note,
    camera_sources,
    console,
    driver_specs,
    policy_specs,
    progress,
)


def add_bench(sub: argparse._SubParsersAction) -> None:
    bench = sub.add_parser("bench", help="run and inspect benchmarks").add_subparsers(
        dest="bench_command", required=True)
    run = bench.add_parser("run", help="train (optional), roll out and score a policy on a card")
    run.add_argument("card", help="suite card YAML, e.g. benchmarks/pickcup-v0.yaml")
    run.add_argument("--policy", default="expert", help=policy_specs())
    run.add_argument("--name", help="how boards show this run (default: the policy spec with "
                                    "paths cut to file names)")
    run.add_argument("--backend", default="sim", help="sim | real")
    run.add_argument("--driver", help=f"real backend: {driver_specs()}")
    run.add_argument("--camera", action="append", metavar="NAME=SOURCE",
                     help=f"real backend: {CAMERA_HELP}")
    run.add_argument("--operator", metavar="SPEC", help=f"real backend: {OPERATOR_HELP}")
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


def print_score(store, run_id: str, title: str) -> int:
    """One run's scores as a table: per task, and the aggregate in the caption, with the
    aborted episodes (hardware faults, the operator) counted apart; returns how many episodes
    were scored."""
    from librobot_gym.benchmarks.score import score_episodes

    frame = store.episodes_frame(run_id)
    score = score_episodes(frame)
    aborted = frame[frame["aborted"].astype(bool)] if len(frame) else frame
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
    if len(aborted):
        table.caption += (f"; {len(aborted)} aborted, not scored "
                          f"({abort_causes(list(aborted['abort_reason']))}): rerun the same "
                          f"command to replay them")
    console.print(table)
    scored = frame[~frame["aborted"].astype(bool)] if len(frame) else frame
    note = auto_label_note(list(scored["task_metrics"])) if len(scored) else None
    if note:
        console.print(note)
    return score.episodes


def bench_run(card, policy: str, store, args) -> str:
    """Run `card` for `policy` into `store` with a progress bar; returns the run id."""
    from librobot_gym.benchmarks.runner import run_suite

    bars, tally = progress(), SuccessTally()

    def on_start(total: int, done: int) -> None:
        # The bar starts once the run is checked and recorded: a refusal prints alone.
        bars.add_task(f"{policy} on {card.name}", total=total, completed=done, rate="-")
        bars.start()

    def on_episode(result: dict) -> None:
        bars.update(bars.task_ids[0], advance=1,
                    rate=tally.add(result["aborted"], result["success_once"]))

    try:
        summary = run_suite(card, policy, store, backend=args.backend, executor=args.executor,
                            workers=args.workers, videos=args.videos, out_dir=args.out,
                            seed_offset=args.seed, driver=getattr(args, "driver", None),
                            cameras=camera_sources(getattr(args, "camera", None) or []),
                            operator=getattr(args, "operator", None),
                            on_start=on_start, on_episode=on_episode)
    finally:
        if bars.live.is_started:
            bars.stop()
    if summary.resumed_with:
        console.print(f"resumed run {summary.run_id}: {summary.resumed_with} episodes were "
                      f"already stored, ran {summary.ran}")
    return summary.run_id


def _cmd_bench_run(args: argparse.Namespace) -> int:
    from librobot_gym.benchmarks.cards import load_card
    from librobot_gym.benchmarks.rollout import check_seed
    from librobot_gym.benchmarks.store import ResultsStore, check_run_name, default_url

    card = load_card(args.card)
    name = check_run_name(args.name) if args.name else None  # before any episode runs
    check_seed(args.seed, "seed offset (--seed)")  # before --train seeds anything with it
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
    run_id = bench_run(card, policy, store, args)
    if name:
        store.set_run_name(run_id, name)
    if not print_score(store, run_id, f"{policy} on {card.name} ({args.backend})"):
        console.print("[red]no episode scored[/red]: every episode of the run was aborted")
        return 1
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
        print_score(store, run.id, f"{run.policy} on {run.suite} ({run.backend})")
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
