"""Render the tabletop scenes as a policy sees them, into one grid PNG (the README's picture).

For each env id and seed: the front and wrist cameras at reset, and again at the moment the
scripted expert closes the gripper on its target, at the policy's resolution (128x128 by
default; --size 64 for the small one), each image scaled up by --zoom without smoothing so
pixels stay pixels. The instruction is written under each column.

Usage: python scripts/render_scenes.py [--env ID ...] [--seeds 0 1 2 3] [--size 128]
                                       [--zoom 2] [--out docs/images/tabletop-scenes.png]
"""

from __future__ import annotations

import argparse
import os
import textwrap
from pathlib import Path

os.environ.setdefault("MUJOCO_GL", "egl")

import gymnasium as gym  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image, ImageDraw, ImageFont  # noqa: E402

import librobot_gym  # noqa: E402, F401
from librobot_gym.policies import ExpertPolicy  # noqa: E402

ENVS = ("librobot/Franka-PickCup-v1", "librobot/SO100-PickCup-v1")
ENVS += ("librobot/Franka-PushToTarget-v0", "librobot/SO100-PushToTarget-v0",
         "librobot/Franka-PressButton-v0", "librobot/SO100-PressButton-v0")
CAPTION_HEIGHT = 44
FONT_SIZE = 15
BACKGROUND = (255, 255, 255)


def frames(env_id: str, seed: int, size: int, max_steps: int = 200):
    """(instruction, [front at reset, wrist at reset, front at grasp, wrist at grasp])."""
    env = gym.make(env_id, camera_size=size)
    try:
        expert = ExpertPolicy(env)
        obs, info = env.reset(seed=seed)
        expert.reset()
        shots = [obs["images"]["front"], obs["images"]["wrist"]]
        grasp = shots
        for _ in range(max_steps):
            obs, _, terminated, truncated, _ = env.step(expert.act(obs))
            skill = getattr(expert.expert, "skill", None)
            if skill is not None and skill.phase == skill.CLOSE:
                grasp = [obs["images"]["front"], obs["images"]["wrist"]]
                break
            if terminated or truncated:
                break
        return info["instruction"], shots + grasp
    finally:
        env.close()


def grid(env_ids, seeds, size: int, zoom: int) -> Image.Image:
    """Rows: env x (reset, grasp); columns: seed x (front, wrist)."""
    cell = size * zoom
    gap = max(2, zoom * 2)
    width = len(seeds) * (2 * cell + gap) + gap
    height = len(env_ids) * (2 * cell + CAPTION_HEIGHT + gap) + gap
    canvas = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(canvas)
    try:
        font = ImageFont.load_default(size=FONT_SIZE)
    except TypeError:  # Pillow before 10.1: the small bitmap font
        font = ImageFont.load_default()
    for row, env_id in enumerate(env_ids):
        top = gap + row * (2 * cell + CAPTION_HEIGHT + gap)
        for col, seed in enumerate(seeds):
            instruction, images = frames(env_id, seed, size)
            left = gap + col * (2 * cell + gap)
            for k, image in enumerate(images):
                big = np.repeat(np.repeat(image, zoom, 0), zoom, 1)
                canvas.paste(Image.fromarray(big), (left + (k % 2) * cell, top + (k // 2) * cell))
            label = f"{env_id.split('/')[-1]} seed {seed}: {instruction}"
            wrapped = "\n".join(textwrap.wrap(label, max(20, 2 * cell // (FONT_SIZE // 2 + 1))))
            draw.multiline_text((left + 2, top + 2 * cell + 2), wrapped, fill=(0, 0, 0),
                                font=font)
    return canvas


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", action="append", help="env id (default: the tabletop ids)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3])
    parser.add_argument("--size", type=int, default=128, help="camera size (pixels)")
    parser.add_argument("--zoom", type=int, default=2, help="pixel scale-up in the PNG")
    parser.add_argument("--out", type=Path, default=Path("docs/images/tabletop-scenes.png"))
    args = parser.parse_args()
    image = grid(args.env or ENVS, args.seeds, args.size, args.zoom)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    image.save(args.out)
    print(f"wrote {args.out} ({image.width}x{image.height})")


if __name__ == "__main__":
    main()
