"""The peer's side of env_throughput.py: gymnasium-robotics' FetchPickAndPlace-v4, timed with the
same functions (timing.py) and the same step counts, printed as one JSON object on stdout.

It runs in its own venv (benchmarks/perf/.peer-venv, built by env_throughput.py) because
gymnasium-robotics needs a MuJoCo release other than the one librobot-gym pins. Not run by hand.
"""

from __future__ import annotations

import argparse
import json
import sys
from importlib.metadata import version

import gymnasium as gym
import numpy as np
from timing import random_actions, time_env, time_rgb

ENV_ID = "FetchPickAndPlace-v4"


def measure(steps: int, seed: int, rounds: int) -> dict:
    import gymnasium_robotics
    import mujoco

    gym.register_envs(gymnasium_robotics)
    env = gym.make(ENV_ID)
    actions = random_actions(env, steps, seed)
    time_env(env, actions[:50], seed)  # warm-up, as on our side
    state_s = float(np.median([time_env(env, actions, seed) for _ in range(rounds)]))
    dt = env.unwrapped.dt
    env.close()
    rgb = gym.make(ENV_ID, render_mode="rgb_array", width=128, height=128)
    rgb_rate = time_rgb(rgb, actions, seed, render=True)
    rgb.close()
    return {"env": f"{ENV_ID} (gymnasium-robotics {version('gymnasium-robotics')})",
            "mujoco": mujoco.__version__, "gymnasium": gym.__version__,
            "state_steps_per_s": steps / state_s, "real_time_factor": steps / state_s * dt,
            "rgb_steps_per_s": rgb_rate, "rgb_cameras": 1}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, required=True)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--rounds", type=int, required=True)
    args = parser.parse_args()
    result = measure(args.steps, args.seed, args.rounds)
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
