"""Evaluation throughput: episodes per hour of the tiny VLA on Franka-PickCup (two 64x64
cameras), by how it is run, side by side in one run:

  * one worker, K = 1, 4, 8 envs per worker (`--num-envs K`: one batched forward pass per step
    for every env whose chunk is spent);
  * the same with each env in its own process (`--async-envs`: the envs step on every core
    while the worker runs the model);
  * the dynamic-batching policy server (`bench run --serve`) with 1 and 2 workers of K envs.

The VLA is `configs/train/tiny-octo-pickcup.yaml`'s model with random weights (throughput does
not depend on what the weights learnt) executing each chunk open-loop for 4 steps, so the
model runs every fourth step per env. Every configuration runs the same seeds and steps.

Usage: python benchmarks/perf/eval_throughput.py [--episodes 16] [--steps 60] [--ks 1 4 8]
           [--async-ks 4 8] [--serve-workers 1 2] [--serve-k 4] [--threads 1]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch
import yaml

import librobot_gym  # noqa: F401  (registers the envs)
from librobot_gym.benchmarks.cards import load_card
from librobot_gym.benchmarks.runner import run_suite
from librobot_gym.benchmarks.store import ResultsStore
from librobot_gym.policies.vla.config import VLAConfig
from librobot_gym.policies.vla.policy import VLAPolicy

CONFIG = Path("configs/train/tiny-octo-pickcup.yaml")
ENV_ID = "librobot/Franka-PickCup-v0"


def make_checkpoint(folder: Path) -> str:
    model = yaml.safe_load(CONFIG.read_text())["model"]
    model["vlm"]["text_encoder"] = "learned"  # no MiniLM download in a benchmark
    VLAPolicy(VLAConfig.from_dict(model)).save_pretrained(folder)
    return f"vla:{folder}"


def make_card(folder: Path, episodes: int, steps: int):
    path = folder / "card.yaml"
    path.write_text(yaml.safe_dump({"suite": "eval-throughput", "version": 0, "tasks": [{
        "env": ENV_ID, "episodes": episodes, "seed_start": 0, "max_steps": steps,
        "obs_modes": ["rgb"], "control_mode": "ee_delta_pose", "camera_size": 64}]}))
    return load_card(path)


def episodes_per_hour(card, policy: str, folder: Path, name: str, **options) -> float:
    store = ResultsStore(f"sqlite:///{folder / (name + '.db')}")
    start = time.perf_counter()
    summary = run_suite(card, policy, store, out_dir=folder, **options)
    seconds = time.perf_counter() - start
    assert summary.ran == card.total_episodes
    return 3600.0 * summary.ran / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=16)
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--ks", type=int, nargs="+", default=[1, 4, 8])
    parser.add_argument("--async-ks", type=int, nargs="*", default=[4, 8])
    parser.add_argument("--serve-workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--serve-k", type=int, default=4)
    parser.add_argument("--threads", type=int, default=1, help="torch threads per process")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        policy = make_checkpoint(folder / "vla")
        card = make_card(folder, args.episodes, args.steps)
        rows = []
        for k in args.ks:
            rows.append((f"1 worker, K={k}",
                         episodes_per_hour(card, policy, folder, f"k{k}", num_envs=k)))
        for k in args.async_ks:
            rows.append((f"1 worker, K={k}, async envs",
                         episodes_per_hour(card, policy, folder, f"async{k}", num_envs=k,
                                           async_envs=True)))
        for workers in args.serve_workers:
            rows.append((f"server, {workers} worker(s), K={args.serve_k}",
                         episodes_per_hour(card, policy, folder, f"serve{workers}",
                                           workers=workers, num_envs=args.serve_k,
                                           serve_wait_ms=5.0)))
    base = rows[0][1]
    print(f"tiny VLA (octo, MLP head, chunks of 8 run 4 steps) on {ENV_ID}, 2 cameras 64x64, "
          f"{args.episodes} episodes of {args.steps} steps, torch threads {args.threads}")
    print(f"{'configuration':32s} {'episodes/h':>11s} {'x K=1':>7s}")
    for name, rate in rows:
        print(f"{name:32s} {rate:11.0f} {rate / base:7.2f}")


if __name__ == "__main__":
    main()
