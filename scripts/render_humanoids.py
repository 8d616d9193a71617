"""Render the humanoids (Unitree H1, Fourier GR1, the Figure-class (unofficial) one) holding
their balance under a push, as a policy sees it and from outside, into one PNG (the README's):
one block of rows per robot, labelled.

The Stand task's expert (the balance law) runs one episode; at reset, as the first push lands,
at the episode's largest tilt after it and once it has recovered, the grid shows the `head`
and `chest` cameras at the policy's resolution (128x128 by default) and an overview from a
free camera 2.5 m off, each image scaled up by --zoom without smoothing. The moment is
written under each column.

Usage: python scripts/render_humanoids.py [--env ID ...] (default: every humanoid's Stand)
                                          [--seed 0]
                                          [--size 128] [--zoom 2]
                                          [--out docs/images/humanoids.png]
"""

from __future__ import annotations

import argparse
import math
import os
from pathlib import Path

os.environ.setdefault("MUJOCO_GL", "egl")

import gymnasium as gym  # noqa: E402
import mujoco  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image, ImageDraw  # noqa: E402

import librobot_gym  # noqa: E402, F401
from librobot_gym.policies import ExpertPolicy  # noqa: E402

CAPTION_HEIGHT = 22
LABEL_HEIGHT = 24
CAMERAS = ("head", "chest")
ROBOTS = {  # env id: the label over its block
    "librobot/H1-Stand-v0": "Unitree H1",
    "librobot/GR1-Stand-v0": "Fourier GR1 (T1)",
    "librobot/FigureClass-Stand-v0": "Figure-class (unofficial): ours, not Figure's",
}


class Overview:
    """A free camera that keeps the robot in frame: 2.5 m off (inside the room's 3 m walls),
    35 deg to the robot's left of its heading, looking 0.9 m above the floor."""

    def __init__(self, env, size: int):
        u = env.unwrapped
        self.model, self.data = u.sim.model, u.sim.data
        self.renderer = mujoco.Renderer(self.model, size, size)
        self.camera = mujoco.MjvCamera()
        self.camera.type = mujoco.mjtCamera.mjCAMERA_FREE
        self.camera.distance, self.camera.elevation = 2.5, -12.0

    def render(self, extras: dict) -> np.ndarray:
        self.camera.lookat[:] = (extras["base_x"], extras["base_y"], 0.9)
        self.camera.azimuth = math.degrees(extras["base_yaw"]) + 180.0 + 35.0
        self.renderer.update_scene(self.data, camera=self.camera)
        return self.renderer.render()

    def close(self) -> None:
        self.renderer.close()


def frames(env_id: str, seed: int, size: int) -> dict[str, list[np.ndarray]]:
    """{caption: [head, chest, overview]} at reset, the first push, the largest tilt after
    it, and its recovery."""
    env = gym.make(env_id, camera_size=size)
    overview = Overview(env, size)
    try:
        u = env.unwrapped
        expert = ExpertPolicy(env)
        obs, _ = env.reset(seed=seed)
        expert.reset()

        def shot(obs) -> list[np.ndarray]:
            extras = u.sim.world_state().extras
            return [obs["images"][c] for c in CAMERAS] + [overview.render(extras)]

        shots = {"at reset": shot(obs)}
        push = u.task.episode.pushes[0]
        impulse = math.hypot(*push.force[:2]) * push.duration
        worst, worst_shot, pushed = 0.0, None, f"pushed, {impulse:.0f} N s"
        while True:
            obs, _, terminated, truncated, info = env.step(expert.act(obs))
            time = u.sim.data.time
            if pushed not in shots and time >= push.start + push.duration:
                shots[pushed] = shot(obs)
            elif push.start < time < push.start + 1.5:
                tilt = u.sim.world_state().extras["tilt"]
                if tilt > worst:
                    worst, worst_shot = tilt, shot(obs)
            if info["task_metrics"].get("recoveries", 0) >= 1 and "recovered" not in shots:
                if worst_shot is not None:
                    shots[f"largest tilt, {math.degrees(worst):.0f} deg"] = worst_shot
                shots["recovered"] = shot(obs)
                break
            if terminated or truncated:
                break
        return shots
    finally:
        overview.close()
        env.close()


def grid(shots: dict[str, list], size: int, zoom: int) -> Image.Image:
    """Columns: moments; rows: head, chest, overview."""
    cell = size * zoom
    rows = len(CAMERAS) + 1
    image = Image.new("RGB", (cell * len(shots), rows * cell + CAPTION_HEIGHT), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    for column, (caption, images) in enumerate(shots.items()):
        for row, frame in enumerate(images):
            big = Image.fromarray(np.asarray(frame)).resize((cell, cell), Image.NEAREST)
            image.paste(big, (column * cell, row * cell))
        draw.text((column * cell + 6, rows * cell + 4), caption, fill=(0, 0, 0))
    return image


def stack(blocks: dict[str, Image.Image]) -> Image.Image:
    """The robots' grids one under another, each under its label."""
    width = max(b.width for b in blocks.values())
    height = sum(b.height + LABEL_HEIGHT for b in blocks.values())
    image = Image.new("RGB", (width, height), (255, 255, 255))
    draw, top = ImageDraw.Draw(image), 0
    for label, block in blocks.items():
        draw.text((6, top + 6), label, fill=(0, 0, 0))
        image.paste(block, (0, top + LABEL_HEIGHT))
        top += block.height + LABEL_HEIGHT
    return image


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", nargs="+", default=list(ROBOTS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--zoom", type=int, default=2)
    parser.add_argument("--out", default="docs/images/humanoids.png")
    args = parser.parse_args(argv)
    blocks = {ROBOTS.get(env_id, env_id): grid(frames(env_id, args.seed, args.size), args.size,
                                                args.zoom) for env_id in args.env}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    stack(blocks).save(out)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
