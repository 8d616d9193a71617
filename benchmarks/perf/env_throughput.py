"""Env throughput, measured side by side in one run on one core.

For every registered simulated env (or those named with --env):
  * state mode: env steps/s and the real-time factor (simulated seconds per wall second), and
    the same per CPU second of this process (pinned to one core: on a machine other jobs load,
    wall time counts their share of the core, CPU time does not);
  * raw MuJoCo: the same model replaying the exact control sequence the env produced, with
    `mj_step(nstep=substeps)` and nothing else. The overhead ratio is env time / raw time, timed
    in alternating rounds (median), so it counts only what the env adds (IK, validation,
    observations, reward, info), not physics;
  * rgb mode: env steps/s with every camera at 128x128; with --variant V (repeatable, e.g.
    lighting:dark, table:checker), also under each variant (set at make, so every reset of the
    run applies it), side by side with the default;
  * the peer, gymnasium-robotics FetchPickAndPlace-v4, in state and rgb (128x128) modes. It needs
    another MuJoCo release than ours, so it runs in its own venv (benchmarks/perf/.peer-venv,
    built on first use and kept; gitignored) in a subprocess on the same core, timed by the same
    functions (timing.py) with the same step counts, warm-ups and medians.

Usage: python benchmarks/perf/env_throughput.py [--steps 2000] [--env ID ...] [--json PATH]
                                                [--no-peer] [--peer-venv PATH]
                                                [--variant V ...] [--rgb-only]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import gymnasium as gym
import mujoco
import numpy as np
from timing import pin_to_one_core, random_actions, rgb_steps, time_env, time_rgb

import librobot_gym  # noqa: F401  (registers the envs)

PERF = Path(__file__).resolve().parent
PEER_VENV = PERF / ".peer-venv"
# gymnasium-robotics works with this MuJoCo release, not with the one librobot-gym pins.
PEER_PACKAGES = ("gymnasium-robotics==1.4.2", "mujoco==3.11.0")


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


def measure_rgb(env_id: str, actions: np.ndarray, seed: int, variant: str = "default",
                cpu: dict | None = None):
    """rgb steps/s at 128x128 under `variant`, and the number of cameras. `cpu` (if given)
    gets the steps per CPU second of this process too: on a machine other jobs load, wall
    time counts their share of the core, CPU time does not."""
    env = gym.make(env_id, obs_mode="rgb", camera_size=128, variant=variant)
    try:
        # The first steps make the GL context and upload the textures (tens of ms, once per
        # env): they are no steady-state rate, so the CPU clock starts after them.
        time_env(env, actions[:5], seed)
        start = time.process_time()
        rate = time_rgb(env, actions, seed)
        if cpu is not None:  # time_rgb steps 20 warm-up steps, then 3 timed runs
            cpu[variant] = (20 + 3 * rgb_steps(len(actions))) / (time.process_time() - start)
        return rate, len(env.unwrapped.cameras)
    finally:
        env.close()


def measure_variants(env_id: str, steps: int, seed: int, variants: list[str]) -> dict:
    """--rgb-only: the default's and each variant's rgb steps/s, nothing else."""
    env = gym.make(env_id, obs_mode="state")
    actions = random_actions(env, steps, seed)
    env.close()
    cpu: dict[str, float] = {}
    rate, cameras = measure_rgb(env_id, actions, seed, cpu=cpu)
    rates = {v: measure_rgb(env_id, actions, seed, v, cpu)[0] for v in variants}
    return {"env": env_id, "rgb_steps_per_s": rate, "rgb_cameras": cameras,
            "rgb_variants": rates, "rgb_cpu_steps_per_s": cpu}


def measure_librobot(env_id: str, steps: int, seed: int, rounds: int,
                     variants: list[str] = ()) -> dict:
    """Env and raw MuJoCo timed in alternation, `rounds` times; medians resist machine noise."""
    env = gym.make(env_id, obs_mode="state")
    actions = random_actions(env, steps, seed)
    control_dt = 1.0 / env.metadata["render_fps"]
    raw_run, substeps = raw_mujoco_timer(env_id, actions, seed)
    time_env(env, actions[:50], seed)  # warm-up
    env_times, raw_times, env_cpu = [], [], []
    for _ in range(rounds):
        cpu_start = time.process_time()
        env_times.append(time_env(env, actions, seed))
        env_cpu.append(time.process_time() - cpu_start)
        raw_times.append(raw_run())
    env.close()
    ratios = [e / r for e, r in zip(env_times, raw_times, strict=True)]
    cpu: dict[str, float] = {}
    rgb_rate, cameras = measure_rgb(env_id, actions, seed, cpu=cpu)
    env_rate = steps / float(np.median(env_times))
    cpu_rate = steps / float(np.median(env_cpu))
    return {
        "state_cpu_steps_per_s": cpu_rate, "real_time_factor_cpu": cpu_rate * control_dt,
        "rgb_cpu_steps_per_s": cpu,
        "env": env_id, "substeps": substeps, "state_steps_per_s": env_rate,
        "raw_mujoco_control_steps_per_s": steps / float(np.median(raw_times)),
        "overhead_ratio": float(np.median(ratios)),
        "overhead_ratio_range": [float(min(ratios)), float(max(ratios))],
        "real_time_factor": env_rate * control_dt,
        "rgb_steps_per_s": rgb_rate, "rgb_cameras": cameras,
        "rgb_variants": {v: measure_rgb(env_id, actions, seed, v)[0] for v in variants},
    }


def print_variant_rates(row: dict) -> None:
    cpu = row.get("rgb_cpu_steps_per_s", {})
    for variant, rate in row.get("rgb_variants", {}).items():
        extra = f", {cpu[variant]:.0f} per CPU s" if variant in cpu else ""
        print(f"  rgb {variant:<20} {rate:6.0f} steps/s   (x{rate / row['rgb_steps_per_s']:.2f} "
              f"of the default{extra})")


def print_variants(rows: list[dict], steps: int) -> None:
    print(f"one core, rgb mode 128x128, {max(steps // 4, 50)} random-action steps per timed "
          f"run (median of 3), MuJoCo {mujoco.__version__}")
    for row in rows:
        print(f"\n{row['env']}  ({row['rgb_cameras']} cameras)")
        print(f"  rgb default              {row['rgb_steps_per_s']:6.0f} steps/s   "
              f"({row['rgb_cpu_steps_per_s']['default']:.0f} per CPU s)")
        print_variant_rates(row)


def peer_requirements() -> list[str]:
    """The peer's packages, with our gymnasium and numpy releases: only the env and the MuJoCo
    under it differ between the two sides."""
    return [*PEER_PACKAGES, f"gymnasium=={gym.__version__}", f"numpy=={np.__version__}"]


def peer_python(venv: Path) -> Path:
    """The peer venv's python, building the venv first when it is absent or its requirements
    changed (the list is kept in the venv)."""
    requirements = peer_requirements()
    python, stamp = venv / "bin" / "python", venv / "librobot-peer-requirements.txt"
    if python.exists() and stamp.exists() and stamp.read_text().split() == requirements:
        return python
    print(f"building the peer's venv {venv} (once): {' '.join(requirements)}", file=sys.stderr)
    shutil.rmtree(venv, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                    *requirements], check=True)
    stamp.write_text("\n".join(requirements) + "\n")
    return python


def measure_peer(steps: int, seed: int, rounds: int, venv: Path) -> dict:
    """FetchPickAndPlace-v4 measured by peer_fetch.py in the peer's venv, on this process's core
    (the subprocess inherits the affinity) while this process waits."""
    python = peer_python(venv)
    done = subprocess.run([str(python), str(PERF / "peer_fetch.py"), "--steps", str(steps),
                           "--seed", str(seed), "--rounds", str(rounds)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"the peer's run failed ({python}):\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rounds", type=int, default=5, help="alternating env/raw timings")
    parser.add_argument("--env", action="append", help="env id (default: every registered one)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--no-peer", action="store_true", help="skip gymnasium-robotics")
    parser.add_argument("--variant", action="append", default=[],
                        help="also time rgb mode under this variant (e.g. lighting:dark)")
    parser.add_argument("--rgb-only", action="store_true",
                        help="time rgb mode only (default and --variant): no state, raw, peer")
    parser.add_argument("--peer-venv", type=Path, default=PEER_VENV,
                        help=f"the peer's venv, built on first use (default: {PEER_VENV})")
    args = parser.parse_args()
    pin_to_one_core()
    # Hardware envs have no MuJoCo model to replay: simulated envs only.
    env_ids = args.env or sorted(i for i in gym.registry
                                 if i.startswith("librobot/") and "-Real-" not in i)
    if args.rgb_only:
        rows = [measure_variants(env_id, args.steps, args.seed, args.variant)
                for env_id in env_ids]
        print_variants(rows, args.steps)
        if args.json:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps({"mujoco": mujoco.__version__, "librobot": rows},
                                            indent=2))
        return
    rows = [measure_librobot(env_id, args.steps, args.seed, args.rounds, args.variant)
            for env_id in env_ids]
    fetch, peer_error = None, None
    if not args.no_peer:
        try:
            fetch = measure_peer(args.steps, args.seed, args.rounds, args.peer_venv)
        except (OSError, RuntimeError, subprocess.CalledProcessError, ValueError) as exc:
            peer_error = str(exc)

    print(f"one core, {args.steps} random-action steps per measurement, "
          f"MuJoCo {mujoco.__version__}")
    for row in rows:
        print(f"\n{row['env']}  ({row['substeps']} physics substeps per control step)")
        print(f"  state mode       {row['state_steps_per_s']:8.0f} steps/s   "
              f"real-time factor {row['real_time_factor']:6.1f}   (per CPU second: "
              f"{row['state_cpu_steps_per_s']:.0f} steps, factor "
              f"{row['real_time_factor_cpu']:.1f})")
        print(f"  raw mj_step      {row['raw_mujoco_control_steps_per_s']:8.0f} control steps/s "
              f"(same model, same controls)")
        low, high = row["overhead_ratio_range"]
        print(f"  overhead ratio   {row['overhead_ratio']:8.2f}   (median of {args.rounds} "
              f"alternating rounds, range {low:.2f}-{high:.2f}; env time / raw time, 1.0 = free)")
        print(f"  rgb mode         {row['rgb_steps_per_s']:8.0f} steps/s   "
              f"({row['rgb_cameras']} cameras at 128x128; "
              f"{row['rgb_cpu_steps_per_s']['default']:.0f} per CPU second)")
        print_variant_rates(row)
    if fetch:
        print(f"\n{fetch['env']}  (own venv {args.peer_venv.name}: MuJoCo {fetch['mujoco']}, "
              f"gymnasium {fetch['gymnasium']}; same timing code and step counts)")
        print(f"  state mode       {fetch['state_steps_per_s']:8.0f} steps/s   "
              f"real-time factor {fetch['real_time_factor']:6.1f}")
        print(f"  rgb mode         {fetch['rgb_steps_per_s']:8.0f} steps/s   (1 camera at 128x128)")
        for row in rows:
            print(f"  {row['env']} / Fetch: real-time factor x"
                  f"{row['real_time_factor'] / fetch['real_time_factor']:.2f}, rgb steps/s x"
                  f"{row['rgb_steps_per_s'] / fetch['rgb_steps_per_s']:.2f}")
    elif args.no_peer:
        print("\n--no-peer: no gymnasium-robotics comparison")
    else:
        print(f"\nno peer comparison: {peer_error}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"mujoco": mujoco.__version__, "librobot": rows,
                                         "fetch": fetch}, indent=2))
    if peer_error:
        sys.exit(1)


if __name__ == "__main__":
    main()
