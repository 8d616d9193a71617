"""Train a `tiny`-backbone VLA on a machine that lacks the MiniLM package (a rented GPU):
export the frozen text encoder's states of every instruction here, carry them with the dataset,
train there with the normal trainer, bring the checkpoint back.

    # here: every instruction the datasets say -> one small torch file
    python scripts/train_elsewhere.py export --dataset data/pickcup-64 --out states.pt
    # there (LIBROBOT_DEVICE=cuda or --device cuda): `librobot train` with those states
    python scripts/train_elsewhere.py train --config configs/train/tiny-octo-pickcup.yaml \
        --states states.pt --device cuda --steps 3000 --num-workers 8

The trained weights are the same kind as `librobot train`'s: the checkpoint holds the trainable
parts, and loading it here (`vla:OUT/last`) uses the real MiniLM, whose states the file holds.
Videos decode through OpenCV where imageio-ffmpeg is missing (`lerobot.video.decode_video`).
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import replace

os.environ.setdefault("MUJOCO_GL", "egl")


def export(datasets: list[str], out: str) -> None:
    from librobot_gym.policies.vlm.tiny import export_text_states
    from librobot_gym.training.data.lerobot import LeRobotDataset

    said: list[str] = []
    for folder in datasets:
        said += LeRobotDataset(folder, cache_mb=0).task_texts.values()
    print(f"{out}: {export_text_states(said, out)} instructions from {len(datasets)} dataset(s)")


def train(args: argparse.Namespace) -> None:
    from librobot_gym.policies.vlm.tiny import preload_text_states
    from librobot_gym.training.bc import TrainConfig
    from librobot_gym.training.run import train_from_config

    if args.device:
        os.environ["LIBROBOT_DEVICE"] = args.device
    print(f"{preload_text_states(args.states)} instruction states from {args.states}")
    config = TrainConfig.from_yaml(args.config)
    changes = {key: value for key, value in (
        ("dataset", args.dataset), ("out", args.out), ("steps", args.steps),
        ("num_workers", args.num_workers), ("batch_size", args.batch_size),
        ("precision", args.precision), ("checkpoint_every", args.checkpoint_every))
        if value is not None}
    config = replace(config, eval_env=None, **changes)  # no simulator there: score it here
    result = train_from_config(config)
    print(f"trained to step {result['step']}: {result['checkpoint']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    verbs = parser.add_subparsers(dest="verb", required=True)
    out = verbs.add_parser("export", help="MiniLM states of every instruction of the datasets")
    out.add_argument("--dataset", action="append", required=True, metavar="FOLDER")
    out.add_argument("--out", required=True, metavar="FILE")
    run = verbs.add_parser("train", help="train a config with exported states")
    run.add_argument("--config", required=True)
    run.add_argument("--states", required=True, metavar="FILE")
    run.add_argument("--dataset")
    run.add_argument("--out")
    run.add_argument("--steps", type=int)
    run.add_argument("--batch-size", type=int)
    run.add_argument("--num-workers", type=int)
    run.add_argument("--precision", choices=["fp32", "bf16", "fp16"])
    run.add_argument("--checkpoint-every", type=int)
    run.add_argument("--device", help="cpu, cuda, cuda:N (default $LIBROBOT_DEVICE or cpu)")
    args = parser.parse_args(argv)
    if args.verb == "export":
        export(args.dataset, args.out)
    else:
        train(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
