"""Train a `tiny`-backbone VLA on a machine that lacks the MiniLM package (a rented GPU):
export the frozen text encoder's states of every instruction here, carry them with the dataset
(or record the dataset there), train there with the normal trainer, bring the checkpoint back.

    # here: every instruction the datasets say -> one small torch file
    python scripts/train_elsewhere.py export --dataset data/pickcup-64 --out states.pt
    #   or every instruction the envs give on seeds 0..N-1 (to record the dataset there)
    python scripts/train_elsewhere.py export --env librobot/Franka-PickCup-v1 --seeds 200 \
        --out states.pt
    # there: record in parallel (one process per shard), one folder per shard
    python scripts/train_elsewhere.py collect --env librobot/Franka-PickCup-v1 --demos 200 \
        --shards 2 --camera-size 128 --out data/shards
    # there (LIBROBOT_DEVICE=cuda or --device cuda): `librobot train` with those states
    python scripts/train_elsewhere.py train --config configs/train/tiny-octo-pickcup.yaml \
        --states states.pt --device cuda --steps 3000 --num-workers 8
    python scripts/train_elsewhere.py train --config CONFIG --states states.pt --device cuda \
        --dataset data/shards/* --data-on-device --time-limit 300

The trained weights are the same kind as `librobot train`'s: the checkpoint holds the trainable
parts, and loading it here (`vla:OUT/last`) uses the real MiniLM, whose states the file holds.
Videos decode through OpenCV where imageio-ffmpeg is missing (`lerobot.video.decode_video`).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("MUJOCO_GL", "egl")


def instructions_of(env_id: str, seeds: int) -> list[str]:
    """The instruction of each of the env's episodes on seeds 0..seeds-1 (state mode: the
    episode's draw, and so its words, do not depend on the cameras)."""
    import gymnasium as gym

    import librobot_gym  # noqa: F401

    env = gym.make(env_id, obs_mode="state")
    try:
        return [env.reset(seed=seed)[1]["instruction"] for seed in range(seeds)]
    finally:
        env.close()


def export(datasets: list[str], env_ids: list[str], seeds: int, out: str) -> None:
    from librobot_gym.policies.vlm.tiny import export_text_states
    from librobot_gym.training.data.lerobot import LeRobotDataset

    said: list[str] = []
    for folder in datasets:
        said += LeRobotDataset(folder, cache_mb=0).task_texts.values()
    for env_id in env_ids:
        said += instructions_of(env_id, seeds)
    print(f"{out}: {export_text_states(said, out)} instructions from {len(datasets)} "
          f"dataset(s) and {len(env_ids)} env(s)")


def collect(args: argparse.Namespace) -> None:
    from librobot_gym.training.data.multitask import collect_multitask_parallel

    start = time.perf_counter()
    folders = collect_multitask_parallel(args.env, args.demos, args.out, args.shards,
                                         args.workers, seed=args.seed,
                                         camera_size=args.camera_size,
                                         log=lambda line: print(line, flush=True))
    summary = {"collect_s": round(time.perf_counter() - start, 1), "demos_per_task": args.demos,
               "env_ids": args.env, "shards": folders}
    (Path(args.out) / "collect.json").write_text(json.dumps(summary, indent=2))
    print(f"{len(folders)} shard(s) under {args.out} in {summary['collect_s']} s")


def check_states_cover(folders: list[str]) -> None:
    """Refuse, before training starts, a dataset saying an instruction the states file lacks
    (the machine has no MiniLM to encode it: the run would fail at its first batch)."""
    from librobot_gym.errors import ConfigError
    from librobot_gym.policies.vlm import tiny
    from librobot_gym.training.data.lerobot import LeRobotDataset

    missing = sorted({text for folder in folders
                      for text in LeRobotDataset(folder, cache_mb=0).task_texts.values()}
                     - set(tiny._PRELOADED))
    if missing:
        raise ConfigError(f"{len(missing)} instruction(s) of the dataset are not in the states "
                          f"file, e.g. {missing[0]!r}: export them with --env/--seeds or "
                          f"--dataset here")


def train(args: argparse.Namespace) -> None:
    from librobot_gym.policies.vlm.tiny import preload_text_states
    from librobot_gym.training.bc import TrainConfig
    from librobot_gym.training.language_ablation import machine
    from librobot_gym.training.run import build_trainer

    if args.device:
        os.environ["LIBROBOT_DEVICE"] = args.device
    import torch

    torch.backends.cudnn.benchmark = True  # fixed frame sizes: pick the fastest convolutions
    torch.set_float32_matmul_precision("high")  # TF32 matrix products on a GPU that has them
    print(f"{preload_text_states(args.states)} instruction states from {args.states}")
    config = TrainConfig.from_yaml(args.config)
    changes = {key: value for key, value in (
        ("dataset", args.dataset), ("out", args.out), ("steps", args.steps),
        ("num_workers", args.num_workers), ("batch_size", args.batch_size),
        ("precision", args.precision), ("checkpoint_every", args.checkpoint_every),
        ("time_limit_s", args.time_limit), ("data_on_device", args.data_on_device or None))
        if value is not None}
    config = replace(config, eval_env=None, **changes)  # no simulator there: score it here
    vlm = config.vla_config().vlm
    if vlm["name"] in ("tiny", "tiny-cnn") and vlm.get("text_encoder", "minilm") == "minilm":
        check_states_cover(config.dataset_folders())
    trainer = build_trainer(config)
    result = trainer.train()
    budget = {"steps": result["step"], "batch_size": config.batch_size,
              "frames": len(trainer.dataset), "train_s": round(trainer.elapsed_s(), 1),
              "camera_size": list(trainer.policy.card.image_size or []),
              "config": args.config, "machine": machine()}
    (Path(config.out) / "budget.json").write_text(json.dumps(budget, indent=2))
    print(f"trained to step {result['step']}: {result['checkpoint']} ({budget})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    verbs = parser.add_subparsers(dest="verb", required=True)
    out = verbs.add_parser("export", help="MiniLM states of every instruction of the datasets")
    out.add_argument("--dataset", action="append", default=[], metavar="FOLDER")
    out.add_argument("--env", action="append", default=[], metavar="ID",
                     help="also the instructions of this env's episodes on --seeds seeds")
    out.add_argument("--seeds", type=int, default=200)
    out.add_argument("--out", required=True, metavar="FILE")
    record = verbs.add_parser("collect", help="record expert demos of several tasks in parallel")
    record.add_argument("--env", action="append", required=True, metavar="ID")
    record.add_argument("--demos", type=int, default=200, help="episodes per task")
    record.add_argument("--shards", type=int, default=1, help="processes per task")
    record.add_argument("--workers", type=int, default=None, help="default: one per CPU")
    record.add_argument("--camera-size", type=int, default=128)
    record.add_argument("--seed", type=int, default=0)
    record.add_argument("--out", required=True, metavar="FOLDER")
    run = verbs.add_parser("train", help="train a config with exported states")
    run.add_argument("--config", required=True)
    run.add_argument("--states", required=True, metavar="FILE")
    run.add_argument("--dataset", nargs="+", help="one folder, or several read as one")
    run.add_argument("--out")
    run.add_argument("--steps", type=int)
    run.add_argument("--batch-size", type=int)
    run.add_argument("--num-workers", type=int)
    run.add_argument("--precision", choices=["fp32", "bf16", "fp16"])
    run.add_argument("--checkpoint-every", type=int)
    run.add_argument("--time-limit", type=float, help="seconds of training at most")
    run.add_argument("--data-on-device", action="store_true",
                     help="decode every image once onto the device (a GPU's memory)")
    run.add_argument("--device", help="cpu, cuda, cuda:N (default $LIBROBOT_DEVICE or cpu)")
    args = parser.parse_args(argv)
    from librobot_gym.errors import LibrobotError

    try:
        if args.verb == "export":
            if not args.dataset and not args.env:
                parser.error("export needs --dataset or --env")
            export(args.dataset, args.env, args.seeds, args.out)
        elif args.verb == "collect":
            collect(args)
        else:
            train(args)
    except LibrobotError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
