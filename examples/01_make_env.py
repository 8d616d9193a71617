"""Make an env, look at its spaces, step it and save what its cameras see.

Shows: `gym.make("librobot/Franka-PickCup-v0")`, the observation and action spaces (every
action dimension with its unit), stepping with the task's scripted expert and with random
actions, what `info` carries, and the camera images written as a PNG.

Run:
    python examples/01_make_env.py                      # 200 steps, writes outputs/examples/
    python examples/01_make_env.py --steps 20 --out /tmp/env-example
"""

from __future__ import annotations

import argparse
from pathlib import Path

import gymnasium as gym
import imageio.v3 as iio
import numpy as np

import librobot_gym  # noqa: F401 - registers every librobot/* env id
from librobot_gym.policies import make_policy

ENV_ID = "librobot/Franka-PickCup-v0"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200, help="steps per policy (default 200)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="outputs/examples", help="folder for the PNG")
    args = parser.parse_args()

    # rgb observations (two 128x128 cameras + proprioception + instruction), ee_delta_pose
    # control; gym.make(ENV_ID, obs_mode="state", camera_size=64, ...) changes either.
    env = gym.make(ENV_ID)
    print("observation space:", env.observation_space)
    print("action space:     ", env.action_space)
    for row in env.unwrapped.action_spec.table():  # what -1 and +1 mean, per dimension
        print(f"  action[{row['index']}] {row['name']:8s} {row['low']:+.3g} .. {row['high']:+.3g}"
              f" {row['unit']:5s} {row['description']}")

    obs, info = env.reset(seed=args.seed)
    print("instruction:", obs["instruction"])
    print("state:", obs["state"].shape,
          "images:", {name: image.shape for name, image in obs["images"].items()})

    # Save the first frame of every camera side by side: what a VLA policy sees.
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    png = out / "cameras.png"
    iio.imwrite(png, np.concatenate(list(obs["images"].values()), axis=1))
    print(f"cameras at reset: {png}")

    # The task's scripted expert (privileged state) against random actions, same seed.
    for name in ("expert", "random"):
        obs, info = env.reset(seed=args.seed)
        policy = make_policy(name, env, seed=args.seed)
        steps, total, done = 0, 0.0, False
        while steps < args.steps and not done:  # an episode ends on success, failure or time
            obs, reward, terminated, truncated, info = env.step(policy.act(obs))
            steps, total, done = steps + 1, total + reward, terminated or truncated
        print(f"{name:6s}: {steps} steps, return {total:.2f}, success {info['success_once']}, "
              f"metrics { {k: round(v, 3) for k, v in info['task_metrics'].items()} }, "
              f"safety {info['safety']}")
        # Where it ended: for the expert, the cup lifted in the gripper.
        end = out / f"cameras_{name}_end.png"
        iio.imwrite(end, np.concatenate(list(obs["images"].values()), axis=1))
        print(f"        cameras at the end: {end}")
    env.close()


if __name__ == "__main__":
    main()
