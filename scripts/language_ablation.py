"""Language matters: train one tiny VLA on expert demos of several tasks, then score it per task
with the true instruction and with instructions shuffled across episodes (the README's table).

Records the multi-task dataset (OUT/data), trains (OUT/train/last), evaluates, and writes
OUT/report.json and OUT/report.md; every stage resumes after a kill. See
`librobot_gym/training/language_ablation.py` for what "shuffled" means exactly.

Usage: python scripts/language_ablation.py [--env ID ...] [--demos 200] [--steps N]
           [--episodes 50] [--config configs/train/tiny-octo-tabletop.yaml]
           [--out outputs/language-ablation] [--eval-seed 10000] [--donor-seed 20000]
           [--trained DIR]  (evaluate only: a run recorded and trained elsewhere)
"""

from __future__ import annotations

import argparse
import os
import sys

os.environ.setdefault("MUJOCO_GL", "egl")

import librobot_gym  # noqa: E402, F401
from librobot_gym.errors import LibrobotError  # noqa: E402
from librobot_gym.training.language_ablation import (  # noqa: E402
    DONOR_SEED,
    AblationSpec,
    run_ablation,
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--env", action="append", dest="envs", metavar="ID",
                        help="a task to train and score (repeat; default: "
                             "librobot/Franka-PickCup-v1)")
    parser.add_argument("--demos", type=int, default=200, help="expert demos per task")
    parser.add_argument("--steps", type=int, default=None,
                        help="optimiser steps (default: the config's)")
    parser.add_argument("--episodes", type=int, default=50,
                        help="evaluation episodes per task and condition")
    parser.add_argument("--config", default="configs/train/tiny-octo-tabletop.yaml")
    parser.add_argument("--out", default="outputs/language-ablation")
    parser.add_argument("--data", default=None, help="dataset folder (default: OUT/data)")
    parser.add_argument("--trained", default=None, metavar="DIR",
                        help="evaluate a run recorded and trained elsewhere (its last/, "
                             "budget.json, collect.json: scripts/language_elsewhere.sh)")
    parser.add_argument("--eval-seed", type=int, default=10_000)
    parser.add_argument("--donor-seed", type=int, default=DONOR_SEED,
                        help="first seed of the episodes shuffled instructions come from")
    args = parser.parse_args(argv)
    try:
        spec = AblationSpec(env_ids=args.envs or ["librobot/Franka-PickCup-v1"],
                            config=args.config, out=args.out, data=args.data, demos=args.demos,
                            steps=args.steps, episodes=args.episodes, eval_seed=args.eval_seed,
                            donor_seed=args.donor_seed, trained=args.trained)
        report = run_ablation(spec, log=lambda line: print(line, flush=True))
    except LibrobotError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    from librobot_gym.training.language_ablation import report_markdown

    print(report_markdown(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
