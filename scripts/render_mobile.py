"""Render the mobile robots' NavigateTo as a policy sees it, into one grid PNG (the README's).

For each env and seed: the scripted expert drives one episode; the robot's two cameras (the
Jackal's `front`, Fetch's and TIAGo's `head`, and `overhead`) are captured at the policy's
resolution (128x128 by default) at reset, halfway, and at the end, each scaled up by --zoom
without smoothing, the instruction and outcome written above the row.

Usage: python scripts/render_mobile.py [--env ID ...] [--seeds 0 1] [--size 128] [--zoom 2]
                                       [--out docs/images/mobile.png]
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

os.environ.setdefault("MUJOCO_GL", "egl")

import gymnasium as gym  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image, ImageDraw  # noqa: E402

import librobot_gym  # noqa: E402, F401
from librobot_gym.policies import ExpertPolicy  # noqa: E402

CAPTION_HEIGHT = 20


def episode_frames(env_id: str, seed: int, size: int) -> tuple[str, list[np.ndarray]]:
    """(caption, [front, overhead] at reset, halfway and the end)."""
    env = gym.make(env_id, camera_size=size)
    try:
        expert = ExpertPolicy(env)
        obs, _ = env.reset(seed=seed)
        expert.reset()
        shots, info, steps = [obs["images"]], {}, 0
        done = False
        while not done:
            obs, _, terminated, truncated, info = env.step(expert.act(obs))
            shots.append(obs["images"])
            steps += 1
            done = terminated or truncated
        picks = [shots[0], shots[len(shots) // 2], shots[-1]]
        metrics = info["task_metrics"]
        caption = (f"{env_id.split('/')[-1]} seed {seed}: \"{env.unwrapped.instruction}\"  "
                   f"{'success' if info['is_success'] else 'failure'} in {steps} steps, "
                   f"SPL {metrics['spl']:.2f}")
        cameras = env.unwrapped.cameras
        return caption, [np.hstack([p[c] for c in cameras]) for p in picks]
    finally:
        env.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", action="append", help="env id (repeatable; default: the "
                        "Jackal's, Fetch's and TIAGo's NavigateTo)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--zoom", type=int, default=2)
    parser.add_argument("--out", default="docs/images/mobile.png")
    args = parser.parse_args()
    rows = []
    envs = args.env or ["librobot/Jackal-NavigateTo-v0", "librobot/Fetch-NavigateTo-v0",
                        "librobot/Tiago-NavigateTo-v0"]
    for env_id, seed in [(e, s) for e in envs for s in args.seeds]:
        caption, tiles = episode_frames(env_id, seed, args.size)
        row = Image.fromarray(np.hstack(tiles)).resize(
            (args.zoom * 6 * args.size, args.zoom * args.size), Image.NEAREST)
        canvas = Image.new("RGB", (row.width, row.height + CAPTION_HEIGHT), "white")
        canvas.paste(row, (0, CAPTION_HEIGHT))
        ImageDraw.Draw(canvas).text((4, 4), caption + "   (robot camera | overhead: start, "
                                    "halfway, end)", fill="black")
        rows.append(canvas)
    grid = Image.new("RGB", (rows[0].width, sum(r.height for r in rows)), "white")
    y = 0
    for row in rows:
        grid.paste(row, (0, y))
        y += row.height
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    grid.save(args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
