"""Training throughput: samples per second of behaviour cloning, the dataset streamed through a
DataLoader (the default) against held on the training device (`data_on_device: true`), side by
side in one run on one dataset, model and batch size.

The loader path pays per sample in Python (its chunk window, normalisation, a float copy of its
images, the stack); the device-held path decodes every image once and makes a batch from a few
gathers. Where the model's step is cheap (the tiny VLA, a GPU) the loader sets the pace.

Without --dataset it records a small one first (expert demos of Franka-PickCup-v1). Each path
runs --warmup steps untimed (the loader's first decodes, cudnn's autotuning), then --steps timed.

Usage: python benchmarks/perf/train_throughput.py [--config configs/train/tiny-octo-tabletop.yaml]
           [--dataset FOLDER ...] [--episodes 20] [--size 64] [--batch-size 64] [--steps 40]
           [--warmup 5] [--workers 0 2] [--device cpu|cuda] [--threads 2]
           [--states FILE]  (MiniLM text states exported by scripts/train_elsewhere.py, for a
                             machine without the MiniLM package)
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("MUJOCO_GL", "egl")

import torch  # noqa: E402
import yaml  # noqa: E402

import librobot_gym  # noqa: E402, F401  (registers the envs)
from librobot_gym.training.bc import Callback, TrainConfig  # noqa: E402
from librobot_gym.training.run import build_trainer  # noqa: E402

ENV_ID = "librobot/Franka-PickCup-v1"


class _Clock(Callback):
    """Wall time of the steps after the warm-up."""

    def __init__(self, warmup: int):
        self.warmup, self.started, self.ended = warmup, None, None

    def on_step_end(self, trainer, metrics) -> None:
        if trainer.step == self.warmup:
            if trainer.policy.device.type == "cuda":
                torch.cuda.synchronize()
            self.started = time.perf_counter()
        self.ended = time.perf_counter()


def samples_per_second(config: TrainConfig, warmup: int, steps: int) -> tuple[float, float]:
    """(samples/s of the timed steps, seconds spent building the trainer: the data's load)."""
    start = time.perf_counter()
    clock = _Clock(warmup)
    trainer = build_trainer(replace(config, steps=warmup + steps), [clock])
    built = time.perf_counter() - start
    trainer.train()
    return steps * config.batch_size / (clock.ended - clock.started), built


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", default="configs/train/tiny-octo-tabletop.yaml")
    parser.add_argument("--dataset", nargs="+", default=None)
    parser.add_argument("--episodes", type=int, default=20)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--workers", type=int, nargs="+", default=[0, 2],
                        help="DataLoader worker counts to time (the streamed rows)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--states", default=None)
    args = parser.parse_args(argv)
    if args.states:
        from librobot_gym.policies.vlm.tiny import preload_text_states

        preload_text_states(args.states)
    if args.device.startswith("cuda"):
        torch.backends.cudnn.benchmark = True
        torch.set_float32_matmul_precision("high")
    torch.set_num_threads(args.threads)
    os.environ["LIBROBOT_DEVICE"] = args.device
    with tempfile.TemporaryDirectory() as tmp:
        folders = args.dataset
        if folders is None:
            from librobot_gym.training.data.collect import collect

            folders = [str(Path(tmp) / "demos")]
            collect(ENV_ID, "expert", args.episodes, folders[0], camera_size=args.size)
        data = yaml.safe_load(Path(args.config).read_text())
        data["model"]["policy"]["image_size"] = [args.size, args.size]
        base = TrainConfig(**{**data, "dataset": folders, "out": str(Path(tmp) / "run"),
                              "batch_size": args.batch_size, "checkpoint_every": 10**9,
                              "log_every": 10**9, "eval_env": None, "time_limit_s": 0.0})
        rows = []
        for workers in args.workers:
            config = replace(base, num_workers=workers, data_on_device=False,
                             out=str(Path(tmp) / f"loader-{workers}"))
            rows.append((f"DataLoader, {workers} workers", *samples_per_second(
                config, args.warmup, args.steps)))
        config = replace(base, data_on_device=True, out=str(Path(tmp) / "held"))
        rows.append((f"held on {args.device}", *samples_per_second(config, args.warmup,
                                                                    args.steps)))
    reference = rows[0][1]
    print(f"{args.config}, batch {args.batch_size}, {args.size}x{args.size}, {args.steps} timed "
          f"steps after {args.warmup}, {args.device}, {args.threads} threads")
    print(f"{'data path':<28} {'samples/s':>10} {'x first':>8} {'build s':>8}")
    for name, rate, built in rows:
        print(f"{name:<28} {rate:>10.0f} {rate / reference:>8.2f} {built:>8.1f}")


if __name__ == "__main__":
    main()
