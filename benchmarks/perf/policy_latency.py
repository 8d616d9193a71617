"""VLA policy latency on this CPU: `act()` for the `tiny` backbone with every framework.

For each framework (its default action model) on Franka-PickCup observations (two 128x128
cameras, 22-d proprioception, 7-d actions, chunks of 8):
  * act() at batch 1 and batch 8 with a prediction every step (temporal ensembling), and
  * the amortised cost per control step when chunks are executed open-loop for 8 steps
    (receding horizon), all measured side by side in one run.

Usage: python benchmarks/perf/policy_latency.py [--calls 20] [--text-encoder minilm|learned]
"""

from __future__ import annotations

import argparse
import time

import gymnasium as gym
import numpy as np
import torch

import librobot_gym  # noqa: F401  (registers the envs)
from librobot_gym.policies.vla.config import VLAConfig
from librobot_gym.policies.vla.policy import VLAPolicy
from librobot_gym.policies.vla.registry import list_vlas


def batch_of(obs: dict, n: int) -> dict:
    return {"images": {k: np.stack([v] * n) for k, v in obs["images"].items()},
            "state": np.stack([obs["state"]] * n), "instruction": [obs["instruction"]] * n}


def seconds_per_call(policy: VLAPolicy, obs: dict, calls: int) -> float:
    policy.reset(seed=0)
    policy.act(obs)  # warm-up
    start = time.perf_counter()
    for _ in range(calls):
        policy.act(obs)
    return (time.perf_counter() - start) / calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--text-encoder", default="minilm")
    args = parser.parse_args()
    torch.set_num_threads(1)
    env = gym.make("librobot/Franka-PickCup-v0", camera_size=128)
    obs, _ = env.reset(seed=0)
    print(f"tiny backbone ({args.text_encoder} text encoder), one CPU thread, "
          f"{args.calls} calls each; milliseconds")
    print(f"{'framework':10s} {'params':>9s} {'act b=1':>9s} {'act b=8':>9s} "
          f"{'per obs b=8':>12s} {'amortised/step (chunk 8)':>25s}")
    for framework in list_vlas():
        config = {"framework": framework,
                  "vlm": {"name": "tiny", "text_encoder": args.text_encoder},
                  "action_dim": 7, "proprio_dim": 22, "chunk_size": 8,
                  "policy": {"cameras": ["front", "wrist"], "image_size": [128, 128]}}
        ensemble = VLAPolicy(VLAConfig.from_dict({**config,
                                                  "chunking": {"mode": "ensemble"}}))
        receding = VLAPolicy(VLAConfig.from_dict({**config, "chunking": {
            "mode": "receding", "execute_steps": 8}}))
        one = seconds_per_call(ensemble, obs, args.calls)
        eight = seconds_per_call(ensemble, batch_of(obs, 8), max(args.calls // 4, 3))
        amortised = seconds_per_call(receding, obs, 8 * max(args.calls // 4, 3))
        params = ensemble.model.get_num_parameters()
        print(f"{framework:10s} {params / 1e6:8.2f}M {1e3 * one:9.1f} {1e3 * eight:9.1f} "
              f"{1e3 * eight / 8:12.1f} {1e3 * amortised:25.1f}")
    env.close()


if __name__ == "__main__":
    main()
