"""VLA policy latency on this CPU: `act()` for the `tiny` backbone with every framework.

For each framework (its default action model) on Franka-PickCup observations (two 128x128
cameras, 22-d proprioception, 7-d actions, chunks of 8):
  * act() at batch 1 and batch 8 with a prediction every step (temporal ensembling), on the
    plain path (`VLAPolicy(fast=False)`, what act() did before the fast paths) and on the fast
    path, side by side: the two share the weights and are called alternately, so drift in CPU
    speed (a shared machine) hits both alike; medians of the per-call times, and
  * the amortised cost per control step when chunks are executed open-loop for 8 steps
    (receding horizon, fast path).
With --profile, where one act() at batch 1 spends its time, plain and fast: cProfile's
cumulative time per stage (inputs, image encoder, text, projection + state token, the
framework's trunk and action model), and torch.profiler's five costliest operators.

Then the cost of serving: one framework's policy behind a `PolicyServer` on loopback, the
round trip of one request from a `RemotePolicy` (msgpack of two 128x128 images, websocket,
prediction, reply) against the same policy's local act(), interleaved call by call so that
drift in CPU speed hits both alike; the difference is what serving adds.

Usage: python benchmarks/perf/policy_latency.py [--calls 20] [--text-encoder minilm|learned]
           [--profile] [--frameworks rt2,octo] [--serve-framework octo] [--serve-calls 50|0]
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
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


def plain_and_fast(fast: VLAPolicy, obs: dict, calls: int) -> tuple[float, float]:
    """Median seconds per act() of the plain and the fast path, called alternately."""
    plain = VLAPolicy(fast.config, model=fast.model, fast=False)
    times: dict[bool, list[float]] = {False: [], True: []}
    for policy in (plain, fast):
        policy.reset(seed=0)
        policy.act(obs)  # warm-up (and the fast path's caches)
    for _ in range(calls):
        for policy in (plain, fast):
            start = time.perf_counter()
            policy.act(obs)
            times[policy.fast].append(time.perf_counter() - start)
    return float(np.median(times[False])), float(np.median(times[True]))


# Profile stages: (label, function names whose cumulative time is the stage; minus those of
# the stages listed after the bar). cProfile adds per-call overhead to Python-heavy stages.
STAGES = (("inputs (numpy -> torch)", ("_inputs",), ()),
          ("image encoder", ("encode_image",), ()),
          ("text tokens", ("_text",), ()),
          ("projection + state token", ("encode_observation",), ("run_vlm",)),
          ("trunk + action model", ("predict_action",), ("encode_observation",)))


def profile_breakdown(policy: VLAPolicy, obs: dict, calls: int) -> list[tuple[str, float]]:
    """(stage, ms per act()) from cProfile over `calls` calls, and the total."""
    policy.reset(seed=0)
    policy.act(obs)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(calls):
        policy.act(obs)
    profiler.disable()
    cumulative: dict[str, float] = {}
    for (_, _, name), (_, _, _, total, _) in pstats.Stats(profiler).stats.items():
        cumulative[name] = cumulative.get(name, 0.0) + total
    rows = []
    for label, names, minus in STAGES:
        seconds = sum(cumulative.get(n, 0.0) for n in names)
        seconds -= sum(cumulative.get(n, 0.0) for n in minus)
        rows.append((label, 1e3 * seconds / calls))
    rows.append(("act() total", 1e3 * cumulative.get("act", 0.0) / calls))
    return rows


def top_operators(policy: VLAPolicy, obs: dict, calls: int, count: int = 5) -> list[str]:
    """The `count` aten operators with the most self CPU time, as 'name ms/act (calls/act)'."""
    from torch.profiler import ProfilerActivity, profile

    policy.act(obs)
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(calls):
            policy.act(obs)
    events = sorted(prof.key_averages(), key=lambda e: e.self_cpu_time_total, reverse=True)
    return [f"{e.key} {e.self_cpu_time_total / 1e3 / calls:.2f} ms ({e.count // calls}x)"
            for e in events[:count]]


def print_profiles(framework: str, fast: VLAPolicy, obs: dict, calls: int) -> None:
    plain = VLAPolicy(fast.config, model=fast.model, fast=False)
    before, after = profile_breakdown(plain, obs, calls), profile_breakdown(fast, obs, calls)
    print(f"\n{framework}: one act() at batch 1 under cProfile, ms (plain -> fast)")
    for (label, old), (_, new) in zip(before, after, strict=True):
        print(f"  {label:26s} {old:7.2f} -> {new:6.2f}")
    for name, policy in (("plain", plain), ("fast", fast)):
        print(f"  top operators, {name}: " + "; ".join(top_operators(policy, obs, calls)))


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
    parser.add_argument("--profile", action="store_true",
                        help="also print each framework's profile breakdown, plain and fast")
    parser.add_argument("--frameworks", default=",".join(list_vlas()),
                        help="comma-separated frameworks (default: all)")
    parser.add_argument("--serve-framework", default="octo", choices=list_vlas())
    parser.add_argument("--serve-calls", type=int, default=50, help="0: skip serving")
    args = parser.parse_args()
    torch.set_num_threads(1)
    env = gym.make("librobot/Franka-PickCup-v0", camera_size=128)
    obs, _ = env.reset(seed=0)
    frameworks = [f for f in args.frameworks.split(",") if f]
    print(f"tiny backbone ({args.text_encoder} text encoder), one CPU thread, "
          f"{args.calls} calls each; medians in milliseconds, plain path -> fast path")
    print(f"{'framework':10s} {'params':>9s} {'act b=1':>16s} {'act b=8':>16s} "
          f"{'per obs b=8':>12s} {'amortised/step (chunk 8)':>25s}")
    profiles = []
    for framework in frameworks:
        ensemble = VLAPolicy(vla_config(framework, args.text_encoder, {"mode": "ensemble"}))
        receding = VLAPolicy(vla_config(framework, args.text_encoder,
                                        {"mode": "receding", "execute_steps": 8}))
        one = plain_and_fast(ensemble, obs, args.calls)
        eight = plain_and_fast(ensemble, batch_of(obs, 8), max(args.calls // 4, 3))
        amortised = seconds_per_call(receding, obs, 8 * max(args.calls // 4, 3))
        params = ensemble.model.get_num_parameters()
        print(f"{framework:10s} {params / 1e6:8.2f}M {1e3 * one[0]:7.1f} -> {1e3 * one[1]:5.1f} "
              f"{1e3 * eight[0]:7.1f} -> {1e3 * eight[1]:5.1f} {1e3 * eight[1] / 8:12.1f} "
              f"{1e3 * amortised:25.1f}")
        profiles.append((framework, ensemble))
    if args.profile:
        for framework, policy in profiles:
            print_profiles(framework, policy, obs, args.calls)
    if args.serve_calls > 0:
        serving_overhead(args.serve_framework, args.text_encoder, obs, args.serve_calls)
    env.close()


if __name__ == "__main__":
    main()
