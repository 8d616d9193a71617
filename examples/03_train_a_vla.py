"""Record expert demonstrations, train a tiny VLA on them by behaviour cloning, roll it out.

Shows the three steps of `librobot collect` / `librobot train` / `librobot rollout` from
Python, small enough for a laptop CPU: demonstrations in the LeRobotDataset v3 layout at 32x32,
a VLA built from a config mapping (the `tiny` backbone, the Octo-style framework, an MLP head
predicting 4-step chunks), a few hundred AdamW steps, then seeded episodes of the checkpoint
against the random policy. The defaults take a few minutes; the README's "Train your first VLA"
(configs/train/tiny-octo-pickcup.yaml) is the full recipe (66% success after ~15 min).

Run:
    python examples/03_train_a_vla.py                                   # 10 demos, 300 steps
    python examples/03_train_a_vla.py --demos 3 --steps 50 --episodes 1 # a quick smoke run
"""

from __future__ import annotations

import argparse
from pathlib import Path

import librobot_gym  # noqa: F401 - registers every librobot/* env id
from librobot_gym.benchmarks.rollout import rollout
from librobot_gym.training.bc import TrainConfig
from librobot_gym.training.data.collect import collect
from librobot_gym.training.run import train_from_config

ENV_ID = "librobot/Franka-PickCup-v0"


def model_config(size: int) -> dict:
    """A VLA small enough to train on a CPU in minutes. Every name comes from a registry
    (`librobot_gym.policies.vla.registry`), so `framework: pi0` or `head: {name: flow}` swap
    parts; the same mapping can live in a YAML file (configs/vla/)."""
    return {
        "framework": "octo",  # transformer over observation tokens with readout tokens
        "vlm": {
            "name": "tiny",  # a small conv encoder, trained from scratch with the rest
            # "learned": a byte embedding of the instruction; "minilm", the pretrained sentence
            # encoder the shipped config uses, understands more and trains slower
            "text_encoder": "learned",
            "embed_dim": 64,
            "channels": [16, 32, 64],
            "keypoints": 16,  # spatial-softmax tokens: where the cup is in each image
            "keypoint_block": 1,  # read from the 16x16 feature map of a 32x32 frame
        },
        "head": {"name": "mlp", "loss": "l1"},  # regression: the scripted expert is unimodal
        "action_dim": 7,  # ee_delta_pose: dx dy dz droll dpitch dyaw gripper
        "proprio_dim": 22,  # the Franka's proprioception
        "chunk_size": 8,  # actions predicted per observation ...
        "hidden_dim": 128,
        # what the policy needs from an env: checked before the first step of any rollout
        "policy": {"control_mode": "ee_delta_pose", "cameras": ["front", "wrist"],
                   "image_size": [size, size], "control_hz": 20},
        "chunking": {"mode": "receding", "execute_steps": 4},  # ... and executed before the next
        "normalization": "quantile",  # actions and state scaled by their 1st/99th percentiles
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--demos", type=int, default=10, help="expert episodes to record")
    parser.add_argument("--steps", type=int, default=300, help="optimiser steps")
    parser.add_argument("--episodes", type=int, default=5, help="evaluation episodes")
    parser.add_argument("--size", type=int, default=32, help="camera pixels (square)")
    parser.add_argument("--out", default="outputs/examples/vla", help="folder for everything")
    args = parser.parse_args()
    out = Path(args.out)

    # 1. Record: `librobot collect ENV --policy expert --episodes N --camera-size S --out DIR`.
    # Each episode is saved before the next starts; rerunning tops the folder up to N.
    data = out / f"demos-{args.size}"
    recorded = collect(ENV_ID, "expert", args.demos, data, seed=0, camera_size=args.size)
    print(f"recorded {recorded.total_episodes} demonstrations ({recorded.total_frames} frames) "
          f"in {data}")

    # 2. Train: `librobot train --config TRAIN.yaml` takes the same fields as a YAML file.
    # Checkpoints go to out/last (and resume from there if the run is killed).
    config = TrainConfig(model=model_config(args.size), dataset=str(data),
                         out=str(out / "train"), steps=args.steps, batch_size=32, lr=1e-3,
                         warmup_steps=min(10, args.steps), log_every=max(1, args.steps // 5),
                         checkpoint_every=args.steps)
    result = train_from_config(config)
    checkpoint = result["checkpoint"]
    print(f"trained {result['step']} steps: checkpoint {checkpoint}")

    # 3. Evaluate: `librobot rollout ENV --policy vla:CHECKPOINT --camera-size S`, on seeds
    # the demonstrations never used (they were 0..demos-1), against the random policy.
    for policy in (f"vla:{checkpoint}", "random"):
        summary = rollout(ENV_ID, policy, episodes=args.episodes, seed=10_000,
                          env_kwargs={"camera_size": args.size})
        print(f"{policy}: success {summary.success_rate:.2f}, mean return "
              f"{summary.mean_return:.2f} over {args.episodes} episodes")


if __name__ == "__main__":
    main()
