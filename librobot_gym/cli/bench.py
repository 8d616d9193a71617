"""`librobot bench run|show|compare|export`: run a suite card, inspect and compare its runs, and
export one as a result bundle (`bench ab|plan` and `run --until-width`: `adaptive.py`). The
runner, store and statistics are in `benchmarks/`; this module parses, shows progress and
prints the score tables."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.table import Table

from librobot_gym.cli.adaptive import (
    add_adaptive,
    add_width_options,
    bench_run_until_width,
    check_width_options,
    print_decisions,
)
from librobot_gym.cli.common import (
    BENCH_OUT,
    CAMERA_HELP,
    DEFAULT_DB,
    OPERATOR_HELP,
    Interrupted,
    SuccessTally,
    abort_causes,
    add_db_option,
    add_device_option,
    auto_label_note,
    camera_sources,
    console,
    db_url,
    driver_specs,
    open_store,
    policy_specs,
    progress,
    step_bar,
    stop,
)
from librobot_gym.errors import ConfigError

TRAINERS = ("ppo", "sac", "bc")
RL_STEPS = 20_000  # --train ppo|sac's default budget


def add_bench(sub: argparse._SubParsersAction) -> None:
    bench = sub.add_parser("bench", help="run and inspect benchmarks").add_subparsers(
        dest="bench_command", required=True, metavar="COMMAND")
    run = bench.add_parser("run", help="train (optional), roll out and score a policy on a card")
    run.add_argument("card", help="suite card YAML, e.g. benchmarks/pickcup-v0.yaml")
    run.add_argument("--policy", default="expert", help=f"the policy: {policy_specs()}")
    run.add_argument("--name", help="how boards show this run (default: the policy spec with "
                                    "paths cut to file names)")
    run.add_argument("--backend", default="sim", help="sim | real")
    run.add_argument("--driver", help=f"real backend (required there; default: none): "
                                      f"{driver_specs()}")
    run.add_argument("--camera", action="append", metavar="NAME=SOURCE",
                     help=f"real backend: {CAMERA_HELP} (default: the driver's own cameras, "
                          "if any)")
    run.add_argument("--operator", metavar="SPEC", help=f"real backend: {OPERATOR_HELP}")
    run.add_argument("--executor", default="local", help="local | ray")
    add_device_option(run)
    run.add_argument("--workers", type=int, default=1, help="episodes run in parallel")
    run.add_argument("--num-envs", type=int, default=1, metavar="K",
                     help="simulation: each worker steps K envs and calls the policy once per "
                          "step on all of them (same records as 1; faster for a VLA)")
    run.add_argument("--async-envs", action="store_true",
                     help="with --num-envs K and a vla: policy: each env steps in its own "
                          "process, on as many cores as there are")
    run.add_argument("--serve", nargs="?", type=float, const=5.0, metavar="WAIT_MS",
                     help="vla:DIR: one policy server on loopback holds the model and batches "
                          "the workers' requests arriving within WAIT_MS (default 5)")
    run.add_argument("--videos", type=int, default=0, help="record the first K episodes/task")
    run.add_argument("--seed", type=int, default=0, help="offset added to the card's seeds")
    run.add_argument("--train", choices=TRAINERS, metavar="ALGO",
                     help="ppo | sac: train with stable-baselines3 first, on the card's single "
                          "task; bc: record expert demonstrations on the card's training seeds "
                          "and train a VLA by behaviour cloning (--config) on all its tasks "
                          "(default: none, evaluate --policy)")
    run.add_argument("--config", metavar="TRAIN.yaml",
                     help="--train bc: the training config, its model and optimiser (e.g. "
                          "configs/train/tiny-octo-card-tabletop.yaml; default: none)")
    run.add_argument("--train-steps", type=int,
                     help=f"--train: env steps (ppo, sac; default {RL_STEPS:,}) or optimiser "
                          f"steps (bc; default: the config's)")
    run.add_argument("--out", default=BENCH_OUT, metavar="DIR",
                     help="where the run writes: videos/, models/ and, unless --db says "
                          "otherwise, results.db")
    run.add_argument("--db", metavar="URL", help="results database: sqlite:///FILE or "
                                                 "postgresql://... (default: "
                                                 "sqlite:///DIR/results.db in --out)")
    add_width_options(run)
    run.set_defaults(func=_cmd_bench_run)

    show = bench.add_parser("show", help="list runs, or print one run's scores")
    show.add_argument("--run", help="run id (default: list every run)")
    add_db_option(show, legacy="--out")
    show.add_argument("--export", metavar="FILE",
                      help="write the episodes (of --run, or all) to this parquet file "
                           "(default: none)")
    show.set_defaults(func=_cmd_bench_show)

    cmp = bench.add_parser("compare", help="sim vs real success per policy, Pearson r, MMRV")
    cmp.add_argument("card", help="suite card YAML the runs were made with")
    add_db_option(cmp, legacy="--out")
    cmp.set_defaults(func=_cmd_bench_compare)

    export = bench.add_parser("export", help="write a run as a result bundle")
    export.add_argument("run", help="run id (see `librobot bench show`)")
    export.add_argument("--out", required=True, metavar="DIR", help="bundle folder to write")
    add_db_option(export, legacy="--results")
    export.set_defaults(func=_cmd_bench_export)
    add_adaptive(bench)


def print_score(store, run_id: str, title: str) -> int:
    """One run's scores as a table: per task, and the aggregate in the caption, with the
    aborted episodes (hardware faults, the operator) counted apart; returns how many episodes
    were scored. Every per-episode column is a mean over the task's scored episodes."""
    from librobot_gym.benchmarks.score import score_episodes

    frame = store.episodes_frame(run_id)
    score = score_episodes(frame)
    aborted = frame[frame["aborted"].astype(bool)] if len(frame) else frame
    table = Table(title=title)
    table.add_column("task", no_wrap=True)
    for column in ("episodes", "success [95% CI]", "return", "length", "safety events",
                   "task metrics"):
        table.add_column(column)
    for task in score.tasks:
        metrics = ", ".join(f"{k}={v:.3g}" for k, v in list(task.metrics.items())[:6])
        table.add_row(task.env_id, str(task.episodes),
                      f"{task.rate:.2f} [{task.low:.2f}, {task.high:.2f}]",
                      f"{task.mean_return:.2f}", f"{task.mean_length:.0f}",
                      f"{task.safety_events / max(task.episodes, 1):.1f}", metrics)
    table.caption = (f"aggregate: IQM of task success {score.iqm:.2f} "
                     f"[{score.iqm_low:.2f}, {score.iqm_high:.2f}] (stratified bootstrap, 95%) "
                     f"over {score.episodes} episodes; return, length, safety events (steps "
                     f"with a safety flag raised) and task metrics are means per episode; "
                     f"run {run_id}")
    if len(aborted):
        table.caption += (f"; {len(aborted)} aborted, not scored "
                          f"({abort_causes(list(aborted['abort_reason']))}): rerun the same "
                          f"command to replay them")
    console.print(table)
    if score.variants is not None:
        console.print(variant_table(score.variants))
    scored = frame[~frame["aborted"].astype(bool)] if len(frame) else frame
    note = auto_label_note(list(scored["task_metrics"])) if len(scored) else None
    if note:
        console.print(note)
    return score.episodes


def _drop(row) -> str:
    """"+0.40 [+0.05, +0.70]" (positive: success lost to the variant), "-" for the default."""
    if row.pairs == 0:
        return "-"
    return f"{row.drop:+.2f} [{row.drop_low:+.2f}, {row.drop_high:+.2f}]"


def variant_table(report) -> Table:
    """A run's success per factor (over its levels and tasks) and per (task, variant), with
    the drop from default over the seeds both played, and SimplerEnv's aggregate."""
    table = Table(title="per variant: success and the drop from default")
    for column in ("task", "variant", "episodes", "success [95% CI]",
                   "drop from default [95% CI]"):
        table.add_column(column, no_wrap=column in ("task", "variant"))
    for row in report.factors:
        table.add_row("all tasks", row.variant if row.variant == "default" else
                      f"{row.variant}:*", str(row.episodes),
                      f"{row.rate:.2f} [{row.low:.2f}, {row.high:.2f}]", _drop(row))
    for row in report.variants:
        table.add_row(row.env_id, row.variant, str(row.episodes),
                      f"{row.rate:.2f} [{row.low:.2f}, {row.high:.2f}]", _drop(row))
    means = ", ".join(f"{env.rsplit('/', 1)[-1]} {m:.2f}" for env, (m, _, _) in
                      report.task_means.items())
    table.caption = (f"variant aggregate (SimplerEnv: plain mean over each task's variants, "
                     f"then over tasks) {report.mean:.2f} [{report.mean_low:.2f}, "
                     f"{report.mean_high:.2f}]; per task: {means}. The drop is default's "
                     f"success minus the variant's on the same seeds (Newcombe's paired "
                     f"interval)")
    return table


def bench_run(card, policy: str, store, args, resume_hint: str = "") -> str:
    """Run `card` for `policy` into `store` with a progress bar (and, on hardware, a bar of the
    running episode's steps); returns the run id. Ctrl-C raises `Interrupted` saying how many
    episodes ran and are stored, then `resume_hint`."""
    from librobot_gym.benchmarks.runner import run_suite

    realtime = args.backend == "real"
    bars, tally, stored = progress(realtime), SuccessTally(), [0, 0]

    def on_start(total: int, done: int) -> None:
        # The bar starts once the run is checked and recorded: a refusal prints alone.
        stored[:] = [done, total]
        bars.add_task(f"{policy} on {card.name}", total=total, completed=done,
                      rate="resumed" if done else "-")
        bars.start()

    def on_episode(result: dict) -> None:
        stored[0] += 1
        bars.update(bars.task_ids[0], advance=1,
                    rate=tally.add(result["aborted"], result["success_once"]), refresh=True)

    try:
        summary = run_suite(card, policy, store, backend=args.backend, executor=args.executor,
                            workers=args.workers, videos=args.videos, out_dir=args.out,
                            seed_offset=args.seed, driver=getattr(args, "driver", None),
                            cameras=camera_sources(getattr(args, "camera", None) or []),
                            operator=getattr(args, "operator", None),
                            on_start=on_start, on_episode=on_episode,
                            num_envs=getattr(args, "num_envs", 1),
                            serve_wait_ms=getattr(args, "serve", None),
                            async_envs=getattr(args, "async_envs", False),
                            on_step=step_bar(bars, "  episode steps") if realtime else None)
    except KeyboardInterrupt:
        stop(bars)
        done, total = stored
        raise Interrupted(f"after {tally.ran} episodes ({done} of {total} stored in "
                          f"{store.url})" + (f": {resume_hint}" if resume_hint else "")
                          ) from None
    finally:
        stop(bars)
    if summary.resumed_with:
        console.print(f"resumed run {summary.run_id}: {summary.resumed_with} episodes were "
                      f"already stored, ran {summary.ran}")
    return summary.run_id


# What a short RL budget gives, said before training: a score of 0 is what the README measured.
RL_EXPECTATIONS = {
    "pick_cup": "PPO at 100,000 steps scored 0/50 on PickCup (it learns the reach, not yet the "
                "grasp; README, 'Train with reinforcement learning'), so expect a success of 0 "
                "from a budget like this",
}


def _write_eval_info(store, run_id: str, folder: Path) -> None:
    """LeRobot's eval_info.json for the run, from its episodes as the store holds them (made
    again from the store on every call: not an artifact of its own)."""
    from librobot_gym.benchmarks.lerobot_eval import write_lerobot_eval_info

    frame = store.episodes_frame(run_id)
    videos = [path for kind, path in store.artifacts(run_id) if kind == "video"]
    console.print(f"LeRobot eval_info: "
                  f"{write_lerobot_eval_info(folder, frame.to_dict('records'), videos)}")


def _cmd_bench_run(args: argparse.Namespace) -> int:
    from librobot_gym.benchmarks.cards import load_card
    from librobot_gym.benchmarks.rollout import check_seed
    from librobot_gym.benchmarks.store import ResultsStore, check_run_name, default_url

    check_width_options(args)
    card = load_card(args.card)
    name = check_run_name(args.name) if args.name else None  # before any episode runs
    check_seed(args.seed, "seed offset (--seed)")  # before --train seeds anything with it
    if bool(args.config) != (args.train == "bc"):
        raise ConfigError("--train bc needs --config TRAIN.yaml (e.g. configs/train/"
                          "tiny-octo-card-tabletop.yaml)" if args.config is None else
                          "--config TRAIN.yaml is for --train bc (ppo and sac take "
                          "--train-steps)")
    store = ResultsStore(args.db or default_url(args.out))
    policy, made = args.policy, {}
    if args.train == "bc":
        policy, made = _train_bc_for_card(card, args)
    elif args.train:
        policy = _train_for_card(card, args)
        made = {"model": policy.partition(":")[2]}
    if args.until_width is not None:  # each task until its interval is narrow enough
        run_id = bench_run_until_width(card, policy, store, args)
    else:
        run_id = bench_run(card, policy, store, args, "rerun the same command to resume")
    if name:
        store.set_run_name(run_id, name)
    recorded = set(store.artifacts(run_id))
    for kind, path in made.items():  # what training made, named by the run (once)
        if (kind, path) not in recorded:
            store.add_artifact(run_id, kind, path)
    scored = print_score(store, run_id, f"{policy} on {card.name} ({args.backend})")
    _write_eval_info(store, run_id, Path(args.out) / "runs" / run_id)
    if store.url != DEFAULT_DB:  # where `bench show` and friends do not look by themselves
        console.print(f"results: {store.url} (`librobot bench show --db {store.url}`)")
    if not scored:
        console.print("[red]no episode scored[/red]: every episode of the run was aborted")
        return 1
    return 0


def _train_for_card(card, args: argparse.Namespace) -> str:
    """`--train ppo|sac`: train on the card's single task (with a bar and what to expect), or
    reuse the model an earlier run of the same command trained (its name carries the budget
    and seed), so a rerun after Ctrl-C resumes the same run; returns the policy spec."""
    from librobot_gym.envs.registration import env_entry

    if len(card.tasks) != 1:
        raise ConfigError(f"--train {args.train} needs a single-task card; {card.name} has "
                          f"{len(card.tasks)} tasks (--train bc trains one model on them all)")
    task = card.tasks[0]
    steps = args.train_steps = args.train_steps or RL_STEPS
    model = (Path(args.out) / "models" /
             f"{args.train}_{card.name}_{steps}steps_seed{args.seed}.zip")
    if model.is_file():
        console.print(f"using {model}, trained by an earlier run of this command (delete it to "
                      f"train again)")
        return f"{args.train}:{model}"
    expect = RL_EXPECTATIONS.get(env_entry(task.env).task,
                                 "a short budget often scores 0; the README's RL section has "
                                 "measured curves")
    console.print(f"training {args.train} on {task.env} for {args.train_steps} steps (state "
                  f"mode, then the card's episodes); {expect}")
    train_rl(task.env, args.train, args.train_steps, model, control_mode=task.control_mode,
             seed=args.seed)
    return f"{args.train}:{model}"


def _train_bc_for_card(card, args: argparse.Namespace) -> tuple[str, dict[str, str]]:
    """`--train bc`: record expert demonstrations on the card's training seeds and train a VLA
    on them, one per robot (`training/from_card.py`), each stage with its bar and resumed by a
    rerun; returns the policy spec and what was made ({kind: path}) for the run to name."""
    from librobot_gym.training.from_card import (
        plan_card_training,
        record_demos,
        train_robot,
        write_record,
    )

    training = plan_card_training(card, args.config, args.out, args.train_steps, args.seed)
    if training.notes:
        console.print(f"note: {args.config} sets {', '.join(training.notes)}; --train bc sets "
                      f"them itself (the card's demonstrations, a folder under --out, the "
                      f"card's episodes as the evaluation)")
    robots = ", ".join(f"{plan.robot} ({len(plan.tasks)} tasks)" for plan in training.robots)
    console.print(f"--train bc on {card.name}: {training.total_demos} expert demonstrations, "
                  f"then one model per robot: {robots}")
    for plan in training.robots:
        _record_demos(plan, record_demos)
    write_record(training)
    for plan in training.robots:
        if plan.trained:
            console.print(f"using {plan.checkpoint}, trained by an earlier run of this command "
                          f"(delete it to train again)")
            continue
        show = train_progress(plan.config.steps)
        try:
            train_robot(plan, [show])
        except KeyboardInterrupt:
            stop(show.bars)
            raise Interrupted(f"at training step {show.step} of {plan.config.steps} for "
                              f"{plan.robot}; the last checkpoint (step {show.checkpoint}) is "
                              f"kept: rerun the same command to resume from it") from None
        finally:
            stop(show.bars)
    console.print(f"trained: {training.model_dir} (use it as --policy {training.policy})")
    return training.policy, {"checkpoint": str(training.model_dir),
                             "train_config": str(training.model_dir / "train.yaml"),
                             "demos": str(training.robots[0].demos.parent)}


def _record_demos(plan, record) -> None:
    """One robot's demonstrations with a bar; Ctrl-C says how many are kept."""
    import numpy as np

    bars, successes, held = progress(), [], [0]

    def on_start(total: int, done: int) -> None:
        held[0] = done
        if done < total:
            bars.add_task(f"expert demos of {plan.robot}", total=total, completed=done,
                          rate="resumed" if done else "-")
            bars.start()

    def on_episode(record) -> None:
        successes.append(record.success)
        held[0] = record.episode_index + 1
        bars.update(bars.task_ids[0], completed=held[0],
                    rate=f"success {np.mean(successes):.0%}")

    try:
        record(plan, on_start, on_episode)
    except KeyboardInterrupt:
        stop(bars)
        raise Interrupted(f"while recording demonstrations ({held[0]} of "
                          f"{len(plan.episodes)} are in {plan.demos}): rerun the same command "
                          f"to continue") from None
    finally:
        stop(bars)


def train_progress(steps: int):
    """The display of behaviour cloning (`librobot train --config`, `bench run --train bc`), a
    training callback (see `TrainProgress`)."""
    from librobot_gym.training.bc import Callback

    class TrainProgress(Callback):
        """A bar of the optimiser steps with the loss, and a bar of each evaluation's
        episodes with their success; remembers the last checkpoint for what Ctrl-C says."""

        def __init__(self):
            self.bars, self.step, self.checkpoint = progress(), 0, 0
            self.evaluation, self.successes = None, 0

        def on_train_start(self, trainer) -> None:  # once the dataset and model are built
            self.step = self.checkpoint = trainer.step  # a resumed run starts at its checkpoint
            self.bars.add_task("training", total=steps, completed=trainer.step,
                               rate="resumed" if trainer.step else "-")
            self.bars.start()

        def on_step_end(self, trainer, metrics: dict) -> None:
            self.step = trainer.step
            self.bars.update(self.bars.task_ids[0], completed=trainer.step,
                             rate=f"loss {metrics['loss']:.3f}")

        def on_checkpoint(self, trainer, path) -> None:
            self.checkpoint = trainer.step

        def on_evaluate_start(self, trainer, episodes: int) -> None:
            self.successes = 0
            if self.evaluation is not None:
                self.bars.remove_task(self.evaluation)
            self.evaluation = self.bars.add_task(
                f"  evaluating on {trainer.config.eval_env} (step {trainer.step})",
                total=episodes, rate="-")

        def on_evaluate_episode(self, trainer, done: int, result) -> None:
            self.successes += int(bool(result.success_once))
            self.bars.update(self.evaluation, completed=done,
                             rate=f"success {self.successes}/{done}")

    return TrainProgress()


def train_rl(env_id: str, algo: str, steps: int, out_path: Path, **options) -> Path:
    """`train_sb3` with a bar of its steps and what the training episodes give (the bar
    starts with the training: a refused setting prints alone); Ctrl-C says that nothing was
    saved (SB3 saves the model when training ends)."""
    from librobot_gym.envs.registration import check_env_id
    from librobot_gym.training.rl import train_sb3

    check_env_id(env_id)
    bars, reached = progress(), [0]
    bar = bars.add_task(f"training {algo} on {env_id}", total=steps, rate="-")

    def show(point) -> None:  # each learning-curve point: what the episodes gave
        bars.update(bar, rate=f"return {point.mean_return:.2f}, success "
                              f"{point.success_rate:.2f}")

    def advance(done: int) -> None:
        if not bars.live.is_started:
            bars.reset(bar)  # its clock starts with the training, not with the imports
            bars.start()
        reached[0] = done
        bars.update(bar, completed=min(done, steps))

    try:
        path = train_sb3(env_id, algo, steps, out_path, on_point=show, on_steps=advance,
                         **options)
        bars.update(bar, completed=steps)
        return path
    except KeyboardInterrupt:
        stop(bars)
        raise Interrupted(f"while training {algo} (step {reached[0]} of {steps}); the model "
                          f"is saved only when training ends, so nothing was: rerun the same "
                          f"command to train again") from None
    finally:
        stop(bars)


def _cmd_bench_compare(args: argparse.Namespace) -> int:
    from librobot_gym.benchmarks.cards import load_card
    from librobot_gym.benchmarks.compare import compare

    card = load_card(args.card)
    result = compare(open_store(db_url(args, "--out")), card)
    table = Table(title=f"sim vs real on {result.card}")
    for column in ("policy", "sim", "real", "gap", "sim eps", "real eps", "aborted",
                   "unjudged"):
        table.add_column(column, justify="left" if column == "policy" else "right")
    for pair in result.pairs:
        table.add_row(pair.policy, f"{pair.sim:.2f}", f"{pair.real:.2f}", f"{pair.gap:+.2f}",
                      str(pair.sim_episodes), str(pair.real_episodes), str(pair.aborted),
                      str(pair.unjudged))
    table.caption = f"Pearson r {result.pearson_r:.3f}, MMRV {result.mmrv:.3f}"
    console.print(table)
    if any(pair.sim_factors for pair in result.pairs):
        console.print(_factor_comparison(result))
    if result.caveat:
        console.print(f"[yellow]warning:[/yellow] {result.caveat}")
    return 0


def _factor_comparison(result) -> Table:
    """Sim vs real success per factor and policy, with r and MMRV per factor."""
    table = Table(title=f"sim vs real per variant factor on {result.card}")
    for column in ("factor", "policy", "sim", "real", "gap"):
        table.add_column(column, justify="left" if column in ("factor", "policy") else "right")
    factors = sorted({f for p in result.pairs for f in p.sim_factors},
                     key=lambda f: (f != "default", f))
    for factor in factors:
        for pair in result.pairs:
            sim, real = pair.sim_factors.get(factor), pair.real_factors.get(factor)
            if sim is None:
                continue
            table.add_row(factor, pair.policy, f"{sim:.2f}",
                          "-" if real is None else f"{real:.2f}",
                          "-" if real is None else f"{sim - real:+.2f}")
    table.caption = "; ".join(f"{factor}: r {r:.3f}, MMRV {m:.3f}"
                              for factor, (r, m) in result.factors.items()) or \
        "no factor ran on both backends for two policies"
    return table


def _cmd_bench_show(args: argparse.Namespace) -> int:
    store = open_store(db_url(args, "--out"))
    if args.export:
        path = store.export_parquet(args.export, args.run)
        console.print(f"wrote {path}")
    if args.run:
        run = store.get_run(args.run)
        if run is None:
            console.print(f"[red]error:[/red] no run {args.run!r} in {store.url}")
            return 2
        print_score(store, run.id, f"{run.policy} on {run.suite} ({run.backend})")
        for kind, path in store.artifacts(run.id):
            if kind != "video":  # what trained the policy: its checkpoint, config, demos
                console.print(f"{kind.replace('_', ' ')}: {path}")
        print_decisions(store, run.id)
        return 0
    runs = store.runs()
    if not runs:
        console.print(f"no runs in {store.url} yet: `librobot bench run CARD` makes one")
        return 0
    table = Table(title=f"runs in {store.url}")
    for column in ("run", "suite", "policy", "backend", "episodes", "card hash", "started"):
        table.add_column(column)
    frame = store.episodes_frame()
    for run in runs:
        count = int((frame["run_id"] == run.id).sum()) if len(frame) else 0
        table.add_row(run.id, run.suite, run.policy, run.backend, str(count),
                      run.card_hash[:12], run.created_at.strftime("%Y-%m-%d %H:%M"))
    console.print(table)
    return 0


def _cmd_bench_export(args: argparse.Namespace) -> int:
    from librobot_gym.leaderboards.bundle import export_bundle

    store = open_store(db_url(args, "--results"))
    path = export_bundle(store, args.run, args.out)
    console.print(f"bundle of run {args.run}: {path}")
    return 0
