"""Benchmark-runner throughput, measured side by side in one run.

The same seeded episodes (the pickcup card's task, `--policy`, `--episodes` of them):
  * a bare rollout loop: one env, one policy, `run_episode` per seed, nothing stored;
  * the runner with 1 worker (in-process), storing every episode in SQLite: its overhead;
  * the runner with 2 spawned worker processes: the scaling ratio over 1 worker
    (worker start-up included, as a user pays it).

Usage: python benchmarks/perf/bench_throughput.py [--episodes 100] [--policy random]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import gymnasium as gym
import yaml

import librobot_gym  # noqa: F401  (registers the envs)
from librobot_gym.benchmarks.cards import load_card
from librobot_gym.benchmarks.rollout import run_episode
from librobot_gym.benchmarks.runner import choose_obs_mode, run_suite
from librobot_gym.benchmarks.store import ResultsStore
from librobot_gym.policies import make_policy

ROOT = Path(__file__).resolve().parents[2]


def card_with(episodes: int, directory: Path) -> Path:
    raw = yaml.safe_load((ROOT / "benchmarks" / "pickcup-v0.yaml").read_text())
    raw["tasks"][0]["episodes"] = episodes
    path = directory / "pickcup-perf.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def bare_loop(card, policy: str) -> float:
    task = card.tasks[0]
    env = gym.make(task.env, obs_mode=choose_obs_mode(policy, task.obs_modes),
                   control_mode=task.control_mode, camera_size=task.camera_size)
    actor = make_policy(policy, env)
    run_episode(env, actor, task.seeds[0], task.env)  # warm-up, untimed
    start = time.perf_counter()
    for seed in task.seeds:
        run_episode(env, actor, seed, task.env)
    elapsed = time.perf_counter() - start
    env.close()
    return elapsed


def runner(card, policy: str, workers: int, directory: Path) -> float:
    store = ResultsStore(f"sqlite:///{directory}/w{workers}.db")
    start = time.perf_counter()
    run_suite(card, policy, store, workers=workers, out_dir=directory)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=100)
    parser.add_argument("--policy", default="random", help="random: full 200-step episodes")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        card = load_card(card_with(args.episodes, directory))
        bare = bare_loop(card, args.policy)
        one = runner(card, args.policy, 1, directory)
        two = runner(card, args.policy, 2, directory)
    n = args.episodes
    print(f"{args.policy} on {card.tasks[0].env}, {n} episodes")
    print(f"  bare rollout loop     {60 * n / bare:7.1f} episodes/min")
    print(f"  runner, 1 worker      {60 * n / one:7.1f} episodes/min   "
          f"overhead x{one / bare:.3f} over the bare loop (SQLite store, one commit/episode)")
    print(f"  runner, 2 workers     {60 * n / two:7.1f} episodes/min   "
          f"scaling x{one / two:.2f} over 1 worker (spawned workers, start-up included)")


if __name__ == "__main__":
    main()
