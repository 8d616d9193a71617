"""`librobot bench ab|plan` and `bench run --until-width`: adaptive evaluation, which stops when
the answer is known and says beforehand how many episodes a question needs. The tests and
intervals are in `benchmarks/sequential/`; this module parses, shows progress and prints."""

from __future__ import annotations

import argparse
import math

from rich.table import Table

from librobot_gym.cli.common import (
    BENCH_OUT,
    CAMERA_HELP,
    DEFAULT_DB,
    OPERATOR_HELP,
    Interrupted,
    camera_sources,
    console,
    driver_specs,
    policy_specs,
    progress,
    step_bar,
    stop,
)
from librobot_gym.errors import ConfigError

PLAN_RUNS = 2000  # simulated sequential tests per planner row


def add_adaptive(bench: argparse._SubParsersAction) -> None:
    """`bench ab` and `bench plan` (`--until-width` is an option of `bench run`)."""
    ab = bench.add_parser("ab", help="policy A vs policy B on paired seeds, stopping as soon "
                                     "as an anytime-valid test decides")
    ab.add_argument("card", help="suite card YAML, e.g. benchmarks/pickcup-ab-v0.yaml")
    ab.add_argument("--policy", action="append", dest="policies", required=True, metavar="SPEC",
                    help=f"give twice: A, then B ({policy_specs()})")
    ab.add_argument("--alpha", type=float, default=0.05,
                    help="the chance of declaring a winner between equal policies")
    ab.add_argument("--max-episodes", type=int, metavar="N",
                    help="episodes per policy at most (default: every episode of the card)")
    ab.add_argument("--score", default="success", choices=("success", "progress"),
                    help="success, or progress: partial credit in [0, 1] (the task's progress "
                         "metric; the operator's 0-100 label on hardware)")
    ab.add_argument("--backend", default="sim", help="sim | real")
    ab.add_argument("--driver", help=f"real backend (required there; default: none): "
                                     f"{driver_specs()}")
    ab.add_argument("--camera", action="append", metavar="NAME=SOURCE",
                    help=f"real backend: {CAMERA_HELP} (default: the driver's own cameras)")
    ab.add_argument("--operator", metavar="SPEC", help=f"real backend: {OPERATOR_HELP}")
    ab.add_argument("--executor", default="local", help="local | ray")
    ab.add_argument("--workers", type=int, default=1, help="episodes run in parallel")
    ab.add_argument("--seed", type=int, default=0, help="offset added to the card's seeds")
    ab.add_argument("--out", default=BENCH_OUT, metavar="DIR",
                    help="where the episodes go (DIR/results.db unless --db says otherwise)")
    ab.add_argument("--db", metavar="URL", help="results database (default: "
                                                "sqlite:///DIR/results.db in --out)")
    ab.set_defaults(func=_cmd_bench_ab)

    plan = bench.add_parser("plan", help="episodes a comparison needs: fixed-size test vs the "
                                         "sequential one (by simulation), and the robot time")
    plan.add_argument("--p-a", type=float, required=True, help="A's expected success rate")
    plan.add_argument("--p-b", type=float, required=True, help="B's expected success rate")
    plan.add_argument("--alpha", type=float, default=0.05, help="two-sided test level")
    plan.add_argument("--power", type=float, default=0.8, help="the fixed-size test's power")
    plan.add_argument("--card", help="suite card YAML: per task and for the whole card, with "
                                     "robot time at its step limits (default: one task)")
    plan.add_argument("--max-episodes", type=int, metavar="N",
                      help="the sequential test's budget per policy and task (default: twice "
                           "the fixed-size test's episodes)")
    plan.add_argument("--runs", type=int, default=PLAN_RUNS, help="simulated tests per row")
    plan.set_defaults(func=_cmd_bench_plan)


def add_width_options(run: argparse.ArgumentParser) -> None:
    """`bench run --until-width W [--alpha A] [--score S]`."""
    run.add_argument("--until-width", type=float, metavar="W",
                     help="stop each task (and variant) once its anytime-valid interval is "
                          "narrower than W, e.g. 0.3 (default: play every episode)")
    run.add_argument("--alpha", type=float,
                     help="--until-width: 1 - the interval's confidence (default: 0.05)")
    run.add_argument("--score", choices=("success", "progress"),
                     help="--until-width: the interval of success or of progress (default: "
                          "success)")


def check_width_options(args: argparse.Namespace) -> None:
    """`--alpha` and `--score` only with `--until-width` (else they would be ignored)."""
    if args.until_width is None:
        given = [name for name in ("alpha", "score") if getattr(args, name) is not None]
        if given:
            raise ConfigError(f"--{' and --'.join(given)} set{'s' if len(given) == 1 else ''} "
                              f"the interval of --until-width; add --until-width W (e.g. 0.3) "
                              f"or leave {'it' if len(given) == 1 else 'them'} out")
    else:
        args.alpha = 0.05 if args.alpha is None else args.alpha
        args.score = args.score or "success"


def _store(args):
    from librobot_gym.benchmarks.store import ResultsStore, default_url

    return ResultsStore(args.db or default_url(args.out))


def _cmd_bench_ab(args: argparse.Namespace) -> int:
    from librobot_gym.benchmarks.cards import load_card
    from librobot_gym.benchmarks.sequential.ab import run_ab

    if len(args.policies) != 2:
        raise ConfigError(f"bench ab compares two policies: give --policy A --policy B "
                          f"(got {len(args.policies)})")
    card = load_card(args.card)
    store = _store(args)
    bars, latest, realtime = progress(args.backend == "real"), [None], args.backend == "real"

    def on_round(result) -> None:
        latest[0] = result
        if not bars.task_ids:
            bars.add_task(f"{args.policies[0]} vs {args.policies[1]} on {card.name}",
                          total=result.max_episodes * 2, rate="-")
            bars.start()
        bars.update(bars.task_ids[0], completed=result.episodes,
                    rate=f"e-value {result.e_value:.2f} of {1 / args.alpha:g}", refresh=True)

    try:
        result = run_ab(card, args.policies[0], args.policies[1], store, args.alpha,
                        args.max_episodes, args.score, args.backend, args.executor,
                        args.workers, args.out, args.seed, args.driver,
                        camera_sources(args.camera or []), args.operator, on_round=on_round,
                        on_step=step_bar(bars, "  episode steps") if realtime else None)
    except KeyboardInterrupt:
        stop(bars)
        used = latest[0].episodes if latest[0] else 0
        raise Interrupted(f"after {used} episodes of the test (every finished episode is "
                          f"stored in {store.url}): rerun the same command to resume") from None
    finally:
        stop(bars)
    print_ab(result)
    if store.url != DEFAULT_DB:
        console.print(f"results: {store.url} (`librobot bench show --db {store.url}`)")
    return 0


def print_ab(result) -> None:
    """The decision, the episodes it took and what a fixed-size test would have needed."""
    unit = "success" if result.score == "success" else "progress"
    table = Table(title=f"sequential A/B on {result.card} ({unit}, alpha {result.alpha:g})")
    for column in ("policy", "episodes", f"mean {unit}"):
        table.add_column(column)
    per_policy = result.episodes // 2
    table.add_row(f"A: {result.policy_a}", str(per_policy), f"{result.mean_a:.2f}")
    table.add_row(f"B: {result.policy_b}", str(per_policy), f"{result.mean_b:.2f}")
    table.caption = (f"A - B: {result.mean_a - result.mean_b:+.2f}, anytime-valid "
                     f"{1 - result.alpha:.0%} interval [{result.diff_low:+.2f}, "
                     f"{result.diff_high:+.2f}]; e-value {result.e_value:.2f} (decides at "
                     f"{1 / result.alpha:g}); runs {result.run_a}, {result.run_b}")
    console.print(table)
    after = "" if result.decision.startswith("no difference") else \
        f" after {result.episodes} episodes"
    console.print(f"decision: [bold]{result.verdict}[/bold]{after} ({per_policy} per policy, "
                  f"budget {result.max_episodes} per policy)")
    if result.fixed_per_policy is None:
        console.print("fixed-size test: no gap observed, so no fixed size has power against it")
    else:
        console.print(f"fixed-size test planned for the observed means ({result.mean_a:.2f} vs "
                      f"{result.mean_b:.2f}, power 80%): {2 * result.fixed_per_policy} episodes "
                      f"({result.fixed_per_policy} per policy), fixed in advance")
    if not result.finished:
        console.print("[yellow]undecided[/yellow]: some episodes aborted; rerun the same "
                      "command to replay them and go on")


def print_decisions(store, run_id: str) -> None:
    """`bench show --run`: what the sequential runs this run took part in decided."""
    from librobot_gym.benchmarks.sequential.record import decisions_of
    from librobot_gym.leaderboards.sequential import decision_text

    for decision in decisions_of(store, run_id):
        console.print(f"sequential: {decision_text(decision)}", highlight=False, markup=False)


def bench_run_until_width(card, policy: str, store, args) -> str:
    """`bench run --until-width`: each cell until its interval is narrow enough, with a bar;
    returns the run id (scored by the caller like any run)."""
    from librobot_gym.benchmarks.sequential.width import run_until_width

    realtime = args.backend == "real"
    bars, cells = progress(realtime), []

    def on_episode(record: dict) -> None:
        if not bars.task_ids:
            bars.add_task(f"{policy} on {card.name} until width < {args.until_width:g}",
                          total=card.total_episodes, rate="-")
            bars.start()
        bars.update(bars.task_ids[0], advance=1, refresh=True)

    def on_cell(cell) -> None:
        cells.append(cell)
        if bars.task_ids:
            bars.update(bars.task_ids[0], rate=f"{len(cells)} cells done")

    try:
        result = run_until_width(card, policy, store, args.until_width, args.alpha, args.score,
                                 args.backend, args.executor, args.workers, args.videos,
                                 args.out, args.seed, getattr(args, "driver", None),
                                 camera_sources(getattr(args, "camera", None) or []),
                                 getattr(args, "operator", None), on_cell=on_cell,
                                 on_episode=on_episode,
                                 on_step=step_bar(bars, "  episode steps") if realtime else None)
    except KeyboardInterrupt:
        stop(bars)
        raise Interrupted(f"after {len(cells)} cells (every finished episode is stored in "
                          f"{store.url}): rerun the same command to resume") from None
    finally:
        stop(bars)
    table = Table(title=f"anytime-valid {1 - result.alpha:.0%} intervals of {result.score}, "
                        f"until narrower than {result.target:g}")
    for column in ("task", "variant", "episodes", f"{result.score} [interval]", "width",
                   "reached"):
        table.add_column(column, no_wrap=column in ("task", "variant"))
    for cell in result.cells:
        table.add_row(cell.env_id, cell.variant, f"{cell.episodes} of {cell.available}",
                      f"{cell.mean:.2f} [{cell.low:.3f}, {cell.high:.3f}]", f"{cell.width:.3f}",
                      "yes" if cell.reached else "no: seeds ran out")
    table.caption = (f"{result.episodes} of the card's {result.card_episodes} episodes used "
                     f"(betting confidence sequence, Waudby-Smith & Ramdas 2024)")
    console.print(table)
    return result.run_id


def _cmd_bench_plan(args: argparse.Namespace) -> int:
    from librobot_gym.benchmarks.sequential.design import fixed_sample_size, simulate_sequential

    try:
        fixed = fixed_sample_size(args.p_a, args.p_b, args.alpha, args.power)
    except ValueError as exc:
        raise ConfigError(f"bench plan: {exc} (give --p-a and --p-b in [0, 1], different; "
                          f"--alpha and --power in (0, 1))") from None
    budget = args.max_episodes or 2 * fixed
    if budget < 1 or args.runs < 1:
        raise ConfigError("--max-episodes and --runs must be at least 1")
    rows = [("one task", 1, None)]
    if args.card:
        rows = _card_rows(args.card)
    table = Table(title=f"episodes to tell p_a={args.p_a:g} from p_b={args.p_b:g} "
                        f"(alpha {args.alpha:g})")
    for column in ("scope", "fixed", "seq. mean", "seq. 90th", "seq. decides",
                   "robot time: fixed / mean / 90th"):
        table.add_column(column, justify="left" if column == "scope" else "right",
                         no_wrap=True)
    plans = {}
    for name, cells, seconds in rows:
        if cells not in plans:
            rounds = max(1, math.ceil(budget / cells)) if cells > 1 else budget
            plans[cells] = simulate_sequential(args.p_a, args.p_b, args.alpha, rounds, cells,
                                               args.runs)
        plan = plans[cells]
        fixed_total = 2 * cells * math.ceil(fixed / cells)  # the pooled test, spread on cells
        time = "-" if seconds is None else " / ".join(
            _hours(n * seconds) for n in (fixed_total, plan.mean_episodes, plan.p90_episodes))
        table.add_row(name, f"{fixed_total}", f"{plan.mean_episodes:.0f}",
                      f"{plan.p90_episodes:.0f}", f"{plan.rejected:.0%}", time)
    table.caption = (
        f"episodes of both policies together; seq. decides: the share of runs that decided "
        f"within the budget. Fixed-size: two-sided two-proportion z-test at power "
        f"{args.power:g}, {fixed} per policy, run to the end. Sequential: `bench ab`'s test "
        f"over {args.runs} simulated runs, budget {budget} per policy; it stops as soon as it "
        f"decides and needs no gap fixed in advance. Robot time: at most max_steps x control "
        f"period per episode (resets not counted)")
    console.print(table)
    return 0


def _card_rows(path: str) -> list[tuple[str, int, float]]:
    """(scope, cells, seconds per episode) per task of the card (its variants are its cells)
    and for the whole card (seconds: the mean over its cells)."""
    from librobot_gym.benchmarks.cards import load_card
    from librobot_gym.envs.registration import env_entry
    from librobot_gym.robots import get_robot

    card = load_card(path)
    rows, total, cells = [], 0.0, 0
    for task in card.tasks:
        seconds = task.max_steps / get_robot(env_entry(task.env).robot).control_hz
        rows.append((task.env.rsplit("/", 1)[-1], len(task.variants), seconds))
        total += seconds * len(task.variants)
        cells += len(task.variants)
    if len(card.tasks) > 1 or cells > 1:
        rows.append((f"whole card ({cells} cells, one test)", cells, total / cells))
    return rows


def _hours(seconds: float) -> str:
    return f"{seconds / 3600:.1f} h" if seconds >= 3600 else f"{seconds / 60:.0f} min"
