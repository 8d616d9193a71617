"""Env throughput, measured side by side in one run on one core.

For every registered simulated env (or those named with --env):
  * state mode: env steps/s and the real-time factor (simulated seconds per wall second);
  * raw MuJoCo: the same model replaying the exact control sequence the env produced, with
    `mj_step(nstep=substeps)` and nothing else. The overhead ratio is env time / raw time, timed
    in alternating rounds (median), so it counts only what the env adds (IK, validation,
    observations, reward, info), not physics;
  * rgb mode: env steps/s with every camera at 128x128;
  * gymnasium-robotics FetchPickAndPlace-v4, when installed, in state and rgb (128x128) modes.

Usage: python benchmarks/perf/env_throughput.py [--steps 2000] [--env ID ...] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import gymnasium as gym
import mujoco
import numpy as np

import librobot_gym  # noqa: F401  (registers the envs)


def pin_to_one_core() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})


def random_actions(env: gym.Env, steps: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    space = env.action_space
    return rng.uniform(space.low, space.high, (steps, *space.shape)).astype(space.dtype)


def time_env(env: gym.Env, actions: np.ndarray, seed: int, render: bool = False) -> float:
    """Wall seconds for stepping through `actions`, resetting when an episode ends."""
    env.reset(seed=seed)
    start = time.perf_counter()
    for action in actions:
        _, _, terminated, truncated, _ = env.step(action)
        if render:
            env.render()
        if terminated or truncated:
            env.reset()
    return time.perf_counter() - start


def record_controls(env_id: str, actions: np.ndarray, seed: int):
    """Replay the same run untimed, keeping the actuator controls and the physics state at
    every reset, so raw MuJoCo can redo exactly the same physics."""
    env = gym.make(env_id, obs_mode="state")
    sim = env.unwrapped.sim
    spec = mujoco.mjtState.mjSTATE_FULLPHYSICS
    size = mujoco.mj_stateSize(sim.model, spec)

    def snapshot():
        state = np.empty(size)
        mujoco.mj_getState(sim.model, sim.data, state, spec)
        return state

    env.reset(seed=seed)
    resets, controls = {0: snapshot()}, []
    for i, action in enumerate(actions):
        _, _, terminated, truncated, _ = env.step(action)
        controls.append(sim.data.ctrl.copy())
        if terminated or truncated:
            env.reset()
            resets[i + 1] = snapshot()
    env.close()
    return np.array(controls), resets


def raw_mujoco_timer(env_id: str, actions: np.ndarray, seed: int):
    """A function timing raw MuJoCo over the same physics as the env run, and the substeps."""
    controls, resets = record_controls(env_id, actions, seed)
    env = gym.make(env_id, obs_mode="state")
    model, substeps = env.unwrapped.sim.model, env.unwrapped.sim.substeps
    env.close()
    data = mujoco.MjData(model)
    spec = mujoco.mjtState.mjSTATE_FULLPHYSICS

    def run() -> float:
        start = time.perf_counter()
        for i, ctrl in enumerate(controls):
            if i in resets:
                mujoco.mj_setState(model, data, resets[i], spec)
                mujoco.mj_forward(model, data)
            data.ctrl[:] = ctrl
            mujoco.mj_step(model, data, nstep=substeps)
        return time.perf_counter() - start

    return run, substeps


def measure_librobot(env_id: str, steps: int, seed: int, rounds: int) -> dict:
    """Env and raw MuJoCo timed in alternation, `rounds` times; medians resist machine noise."""
    env = gym.make(env_id, obs_mode="state")
    actions = random_actions(env, steps, seed)
    control_dt = 1.0 / env.metadata["render_fps"]
    raw_run, substeps = raw_mujoco_timer(env_id, actions, seed)
    time_env(env, actions[:50], seed)  # warm-up
    env_times, raw_times = [], []
    for _ in range(rounds):
        env_times.append(time_env(env, actions, seed))
        raw_times.append(raw_run())
    env.close()
    ratios = [e / r for e, r in zip(env_times, raw_times, strict=True)]
    rgb_env = gym.make(env_id, obs_mode="rgb", camera_size=128)
    rgb_steps = max(steps // 4, 50)
    time_env(rgb_env, actions[:20], seed)
    rgb_s = float(np.median([time_env(rgb_env, actions[:rgb_steps], seed) for _ in range(3)]))
    cameras = len(rgb_env.unwrapped.cameras)
    rgb_env.close()
    env_rate = steps / float(np.median(env_times))
    return {
        "env": env_id, "substeps": substeps, "state_steps_per_s": env_rate,
        "raw_mujoco_control_steps_per_s": steps / float(np.median(raw_times)),
        "overhead_ratio": float(np.median(ratios)),
        "overhead_ratio_range": [float(min(ratios)), float(max(ratios))],
        "real_time_factor": env_rate * control_dt,
        "rgb_steps_per_s": rgb_steps / rgb_s, "rgb_cameras": cameras,
    }


def measure_fetch(steps: int, seed: int) -> dict | None:
    try:
        import gymnasium_robotics
    except ImportError:
        return None
    gym.register_envs(gymnasium_robotics)
    env = gym.make("FetchPickAndPlace-v4")
    actions = random_actions(env, steps, seed)
    time_env(env, actions[:50], seed)
    state_s = float(np.median([time_env(env, actions, seed) for _ in range(3)]))
    dt = env.unwrapped.dt
    env.close()
    rgb = gym.make("FetchPickAndPlace-v4", render_mode="rgb_array", width=128, height=128)
    rgb_steps = max(steps // 4, 50)
    time_env(rgb, actions[:20], seed, render=True)
    rgb_s = time_env(rgb, actions[:rgb_steps], seed, render=True)
    rgb.close()
    return {"env": "FetchPickAndPlace-v4 (gymnasium-robotics)",
            "state_steps_per_s": steps / state_s,
            "real_time_factor": steps / state_s * dt, "rgb_steps_per_s": rgb_steps / rgb_s,
            "rgb_cameras": 1}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rounds", type=int, default=5, help="alternating env/raw timings")
    parser.add_argument("--env", action="append", help="env id (default: every registered one)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    pin_to_one_core()
    # Hardware envs have no MuJoCo model to replay: simulated envs only.
    env_ids = args.env or sorted(i for i in gym.registry
                                 if i.startswith("librobot/") and "-Real-" not in i)
    rows = [measure_librobot(env_id, args.steps, args.seed, args.rounds) for env_id in env_ids]
    fetch = measure_fetch(args.steps, args.seed)

    print(f"one core, {args.steps} random-action steps per measurement, "
          f"MuJoCo {mujoco.__version__}")
    for row in rows:
        print(f"\n{row['env']}  ({row['substeps']} physics substeps per control step)")
        print(f"  state mode       {row['state_steps_per_s']:8.0f} steps/s   "
              f"real-time factor {row['real_time_factor']:6.1f}")
        print(f"  raw mj_step      {row['raw_mujoco_control_steps_per_s']:8.0f} control steps/s "
              f"(same model, same controls)")
        low, high = row["overhead_ratio_range"]
        print(f"  overhead ratio   {row['overhead_ratio']:8.2f}   (median of {args.rounds} "
              f"alternating rounds, range {low:.2f}-{high:.2f}; env time / raw time, 1.0 = free)")
        print(f"  rgb mode         {row['rgb_steps_per_s']:8.0f} steps/s   "
              f"({row['rgb_cameras']} cameras at 128x128)")
    if fetch:
        print(f"\n{fetch['env']}")
        print(f"  state mode       {fetch['state_steps_per_s']:8.0f} steps/s   "
              f"real-time factor {fetch['real_time_factor']:6.1f}")
        print(f"  rgb mode         {fetch['rgb_steps_per_s']:8.0f} steps/s   (1 camera at 128x128)")
        for row in rows:
            print(f"  {row['env']} / Fetch: real-time factor x"
                  f"{row['real_time_factor'] / fetch['real_time_factor']:.2f}, rgb steps/s x"
                  f"{row['rgb_steps_per_s'] / fetch['rgb_steps_per_s']:.2f}")
    else:
        print("\ngymnasium-robotics not installed: no peer comparison")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"librobot": rows, "fetch": fetch}, indent=2))


if __name__ == "__main__":
    main()
