"""Evaluate policies on a suite card from Python, store every episode, and score the runs.

Shows the benchmarks API that `librobot bench run` is built on: `load_card` (a validated,
hashed protocol), `run_suite` (every episode the store lacks, so rerunning resumes),
`ResultsStore` (SQLite here; a postgresql:// URL works the same) and `score_episodes`
(success per task with Wilson 95% intervals, the IQM across tasks with a bootstrap interval).

Run:
    python examples/02_evaluate_on_a_card.py         # expert and random on examples/mini-card.yaml
    python examples/02_evaluate_on_a_card.py --card benchmarks/pickcup-v0.yaml --policy expert
"""

from __future__ import annotations

import argparse
from pathlib import Path

import librobot_gym  # noqa: F401 - registers every librobot/* env id
from librobot_gym.benchmarks.cards import load_card
from librobot_gym.benchmarks.runner import run_suite
from librobot_gym.benchmarks.score import score_episodes
from librobot_gym.benchmarks.store import ResultsStore

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--card", default=str(HERE / "mini-card.yaml"), help="suite card YAML")
    parser.add_argument("--policy", action="append",
                        help="policy spec, repeatable (default: expert and random); any spec "
                             "`librobot policies` lists, e.g. vla:CHECKPOINT_DIR")
    parser.add_argument("--out", default="outputs/examples/bench",
                        help="folder for the results database and videos")
    parser.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    args = parser.parse_args()

    card = load_card(args.card)  # refuses unknown fields, bad seeds, a mismatched MuJoCo
    print(f"card {card.name} ({card.total_episodes} episodes), hash {card.content_hash[:12]}")
    for task in card.tasks:
        print(f"  {task.env}: seeds {task.seeds[0]}..{task.seeds[-1]}, "
              f"observations {list(task.obs_modes)}, {task.camera_size}px cameras")

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    store = ResultsStore(f"sqlite:///{out / 'results.db'}")
    for policy in args.policy or ["expert", "random"]:
        summary = run_suite(card, policy, store, workers=args.workers, out_dir=out,
                            on_episode=lambda r: print(f"    {r['env_id']} seed {r['seed']}: "
                                                       f"success {r['success_once']}"))
        print(f"{policy}: run {summary.run_id}, {summary.ran} episodes run now, "
              f"{summary.resumed_with} already stored")

        # Score from what the store holds: the same numbers `librobot bench show` prints.
        score = score_episodes(store.episodes_frame(summary.run_id))
        for task in score.tasks:
            print(f"  {task.env_id}: success {task.successes}/{task.episodes} = {task.rate:.2f} "
                  f"[{task.low:.2f}, {task.high:.2f}] (Wilson 95%), mean return "
                  f"{task.mean_return:.2f}")
        print(f"  aggregate: IQM {score.iqm:.2f} [{score.iqm_low:.2f}, {score.iqm_high:.2f}]")

    frame = store.episodes_frame()  # every episode of every run, as a pandas DataFrame
    print(f"{len(frame)} episodes in {store.url}")
    print(frame.groupby("policy")[["success_once", "episode_return", "length"]].mean())


if __name__ == "__main__":
    main()
