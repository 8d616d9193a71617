"""VLA policy latency on this CPU: `act()` for the `tiny` backbone with every framework.

For each framework (its default action model) on Franka-PickCup observations (two 128x128
cameras, 22-d proprioception, 7-d actions, chunks of 8):
  * act() at batch 1 and batch 8 with a prediction every step (temporal ensembling), and
  * the amortised cost per control step when chunks are executed open-loop for 8 steps
    (receding horizon), all measured side by side in one run.

Then the cost of serving: one framework's policy behind a `PolicyServer` on loopback, the
round trip of one request from a `RemotePolicy` (msgpack of two 128x128 images, websocket,
prediction, reply) against the same policy's local act(), interleaved call by call so that
drift in CPU speed hits both alike; the difference is what serving adds.

Usage: python benchmarks/perf/policy_latency.py [--calls 20] [--text-encoder minilm|learned]
           [--serve-framework octo] [--serve-calls 50]
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
from librobot_gym.serving import PolicyServer, RemotePolicy


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


def vla_config(framework: str, text_encoder: str, chunking: dict) -> VLAConfig:
    return VLAConfig.from_dict({
        "framework": framework, "vlm": {"name": "tiny", "text_encoder": text_encoder},
        "action_dim": 7, "proprio_dim": 22, "chunk_size": 8, "chunking": chunking,
        "policy": {"cameras": ["front", "wrist"], "image_size": [128, 128]}})


def serving_overhead(framework: str, text_encoder: str, obs: dict, calls: int) -> None:
    """Print mean/p50/p95 of the loopback round trip, the local act() and their difference."""
    policy = VLAPolicy(vla_config(framework, text_encoder, {"mode": "ensemble"}))
    with PolicyServer(policy) as server, RemotePolicy(server.url, timeout=60) as remote:
        policy.act(obs)  # warm-up, both ways
        remote.infer(obs)
        local, round_trip, infer = [], [], []
        for _ in range(calls):
            start = time.perf_counter()
            policy.act(obs)  # ensemble mode: a prediction every call, like each request
            middle = time.perf_counter()
            reply = remote.infer(obs)
            round_trip.append(time.perf_counter() - middle)
            local.append(middle - start)
            infer.append(reply["server_timing"]["infer_ms"] / 1e3)
    rows = {"round trip": round_trip, "local act()": local,
            "difference": np.subtract(round_trip, local), "(server infer_ms)": infer}
    print(f"\nserving {framework} on loopback (two 128x128 images per request), "
          f"{calls} interleaved calls; milliseconds")
    print(f"{'':18s} {'mean':>8s} {'p50':>8s} {'p95':>8s}")
    for name, seconds in rows.items():
        ms = 1e3 * np.asarray(seconds)
        print(f"{name:18s} {ms.mean():8.2f} {np.percentile(ms, 50):8.2f} "
              f"{np.percentile(ms, 95):8.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--text-encoder", default="minilm")
    parser.add_argument("--serve-framework", default="octo", choices=list_vlas())
    parser.add_argument("--serve-calls", type=int, default=50)
    args = parser.parse_args()
    torch.set_num_threads(1)
    env = gym.make("librobot/Franka-PickCup-v0", camera_size=128)
    obs, _ = env.reset(seed=0)
    print(f"tiny backbone ({args.text_encoder} text encoder), one CPU thread, "
          f"{args.calls} calls each; milliseconds")
    print(f"{'framework':10s} {'params':>9s} {'act b=1':>9s} {'act b=8':>9s} "
          f"{'per obs b=8':>12s} {'amortised/step (chunk 8)':>25s}")
    for framework in list_vlas():
        ensemble = VLAPolicy(vla_config(framework, args.text_encoder, {"mode": "ensemble"}))
        receding = VLAPolicy(vla_config(framework, args.text_encoder,
                                        {"mode": "receding", "execute_steps": 8}))
        one = seconds_per_call(ensemble, obs, args.calls)
        eight = seconds_per_call(ensemble, batch_of(obs, 8), max(args.calls // 4, 3))
        amortised = seconds_per_call(receding, obs, 8 * max(args.calls // 4, 3))
        params = ensemble.model.get_num_parameters()
        print(f"{framework:10s} {params / 1e6:8.2f}M {1e3 * one:9.1f} {1e3 * eight:9.1f} "
              f"{1e3 * eight / 8:12.1f} {1e3 * amortised:25.1f}")
    serving_overhead(args.serve_framework, args.text_encoder, obs, args.serve_calls)
    env.close()


if __name__ == "__main__":
    main()
