"""Which image augmentations help the tiny VLA at 64 px: train the same config for a small budget
under each set of transforms, then measure the action loss (the config's head loss on
normalised actions, what training minimises) on held-out episodes: demonstrations from seeds
training never saw, in the default scene and under visual variants (other lighting, table,
background, cup shade and camera pose: `collect --randomize`).

Each condition trains into OUT/CONDITION (resumable: a rerun continues it) with every other
setting of the config unchanged and no evaluation rollouts; OUT/augmentations.json and .md hold
the table.

Usage: python scripts/augmentations.py --train data/pickcup-64
           --val default=data/pickcup-64-val --val visual=data/pickcup-64-val-visual
           [--config configs/train/tiny-octo-pickcup.yaml] [--steps 250] [--batch-size 32]
           [--condition none] [--condition jitter] ... [--val-stride 4]
           [--out outputs/augmentations]
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

import librobot_gym  # noqa: E402, F401
from librobot_gym.errors import LibrobotError  # noqa: E402

# name -> the transforms a config would list
CONDITIONS = {
    "none": [],
    "shift": [{"name": "random_shift", "pad": 4}],
    "shift2": [{"name": "random_shift", "pad": 2}],
    "jitter": [{"name": "color_jitter", "brightness": 0.3, "contrast": 0.3,
                "saturation": 0.3}],
    "crop": [{"name": "random_resized_crop", "scale": [0.9, 1.0]}],
    "jitter+crop": [{"name": "color_jitter", "brightness": 0.3, "contrast": 0.3,
                     "saturation": 0.3},
                    {"name": "random_resized_crop", "scale": [0.9, 1.0]}],
}
DEFAULT_CONDITIONS = ("none", "shift", "jitter", "crop", "jitter+crop")


def held_out_loss(trainer, data, stride: int = 1, batch_size: int = 64) -> float:
    """Mean loss of the trained model on every `stride`-th window of a held-out
    `ActionChunkDataset`, normalised with the training statistics (as the policy acts)."""
    import torch

    data.set_normalizers(trainer.policy.action_norm, trainer.policy.proprio_norm)
    some = torch.utils.data.Subset(data, range(0, len(data), stride))
    loader = torch.utils.data.DataLoader(some, batch_size=batch_size, shuffle=False,
                                         collate_fn=data.collate)
    model = trainer.model
    model.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for batch in loader:
            losses = model(batch["images"], batch["instruction"], batch["proprio"],
                           batch["actions"])
            n = len(batch["proprio"])
            total, count = total + float(losses["loss"]) * n, count + n
    model.train()
    return total / count


def run(config_path: str, train: str, vals: dict[str, str], conditions, steps: int,
        batch_size: int, out: str | Path, stride: int = 4, log=print) -> dict:
    from librobot_gym.training.bc import TrainConfig, Trainer
    from librobot_gym.training.data.transforms import Compose
    from librobot_gym.training.data.windows import ActionChunkDataset

    out = Path(out)
    base = TrainConfig.from_yaml(config_path)
    vla = base.vla_config()

    def windows(path: str) -> ActionChunkDataset:  # decoded once, shared by every condition
        return ActionChunkDataset(path, chunk_size=vla.chunk_size,
                                  cameras=vla.policy.get("cameras"))

    dataset = windows(train)
    held_out = {label: windows(path) for label, path in vals.items()}
    rows = []
    for name in conditions:
        config = replace(base, dataset=train, out=str(out / name.replace("+", "-")),
                         steps=steps, batch_size=batch_size, transforms=CONDITIONS[name],
                         eval_env=None, checkpoint_every=max(50, steps // 4),
                         warmup_steps=min(base.warmup_steps, steps // 10))
        start = time.perf_counter()
        dataset.transform = Compose(config.transforms) if config.transforms else None
        trainer = Trainer(config, dataset)
        trainer.train()
        row = {"condition": name, "transforms": CONDITIONS[name], "steps": trainer.step,
               "train_s": round(time.perf_counter() - start, 1)}
        row.update({f"loss_{label}": held_out_loss(trainer, data, stride)
                    for label, data in held_out.items()})
        rows.append(row)
        log(json.dumps(row))
    report = {"config": config_path, "train": train, "val": vals, "steps": steps,
              "batch_size": batch_size, "val_stride": stride, "rows": rows}
    out.mkdir(parents=True, exist_ok=True)
    (out / "augmentations.json").write_text(json.dumps(report, indent=2))
    (out / "augmentations.md").write_text(markdown(report))
    return report


def markdown(report: dict) -> str:
    labels = list(report["val"])
    head = "| transforms | " + " | ".join(f"held-out loss, {x}" for x in labels) + " |"
    lines = [head, "|---|" + "---|" * len(labels)]
    for row in report["rows"]:
        lines.append(f"| {row['condition']} | "
                     + " | ".join(f"{row[f'loss_{x}']:.4f}" for x in labels) + " |")
    return "\n".join(lines) + "\n"


def labelled(text: str) -> tuple[str, str]:
    label, sep, path = text.partition("=")
    if not sep:
        raise argparse.ArgumentTypeError(f"--val {text!r}: write LABEL=DATASET")
    return label, path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--config", default="configs/train/tiny-octo-pickcup.yaml")
    parser.add_argument("--train", required=True, help="training dataset folder")
    parser.add_argument("--val", type=labelled, action="append", required=True,
                        metavar="LABEL=DATASET", help="a held-out dataset (repeatable)")
    parser.add_argument("--condition", action="append", choices=sorted(CONDITIONS),
                        help=f"transforms to compare (repeatable; default: "
                             f"{', '.join(DEFAULT_CONDITIONS)})")
    parser.add_argument("--steps", type=int, default=250)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--val-stride", type=int, default=4,
                        help="score every N-th held-out window (neighbours are alike)")
    parser.add_argument("--out", default="outputs/augmentations")
    args = parser.parse_args(argv)
    try:
        report = run(args.config, args.train, dict(args.val),
                     args.condition or DEFAULT_CONDITIONS, args.steps, args.batch_size,
                     args.out, args.val_stride)
    except LibrobotError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(markdown(report), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
