"""Render the tabletop scenes as a policy sees them, into one grid PNG (the README's picture).

One row per task, one column per arm (x seed): for each env id the front and wrist cameras at
reset (top) and at the expert's moment of action (bottom: when it closes the gripper on its
target, or, for tasks without a grasp, two thirds into its episode), at the policy's
resolution (128x128 by default; --size 64 for the small one), scaled up by --zoom without
smoothing so pixels stay pixels. The instruction is written under each cell. By default the
ids are the tabletop card's (benchmarks/tabletop-v0.yaml), so a new arm or task shows up here
as soon as the card lists it.

Usage: python scripts/render_scenes.py [--env ID ...] [--seeds 0] [--size 128]
                                       [--zoom 1] [--out docs/images/tabletop-scenes.png]
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
from librobot_gym.benchmarks.cards import load_card  # noqa: E402
from librobot_gym.policies import ExpertPolicy  # noqa: E402

CARD = Path(__file__).resolve().parents[1] / "benchmarks" / "tabletop-v0.yaml"
CAPTION_HEIGHT = 46
HEADER_HEIGHT = 22
FONT_SIZE = 13
BACKGROUND = (255, 255, 255)


def robot_and_task(env_id: str) -> tuple[str, str]:
    """("Franka", "PickCup-v1") from "librobot/Franka-PickCup-v1"."""
    robot, _, task = env_id.split("/")[-1].partition("-")
    return robot, task


def frames(env_id: str, seed: int, size: int, max_steps: int = 300):
    """(instruction, [front, wrist at reset, front, wrist at the expert's moment of action])."""
    env = gym.make(env_id, camera_size=size)
    try:
        expert = ExpertPolicy(env)
        obs, info = env.reset(seed=seed)
        expert.reset()
        shots = [obs["images"]["front"], obs["images"]["wrist"]]
        history = []
        for _ in range(max_steps):
            obs, _, terminated, truncated, _ = env.step(expert.act(obs))
            history.append([obs["images"]["front"], obs["images"]["wrist"]])
            skill = getattr(expert.expert, "skill", None)
            if hasattr(skill, "CLOSE") and getattr(skill, "phase", None) == skill.CLOSE:
                return info["instruction"], shots + history[-1]
            if terminated or truncated:
                break
        action = history[(2 * len(history)) // 3] if history else shots
        return info["instruction"], shots + action
    finally:
        env.close()


def _font(size: int):
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow before 10.1: the small bitmap font
        return ImageFont.load_default()


def grid(env_ids, seeds, size: int, zoom: int) -> Image.Image:
    """Rows: tasks; columns: arm x seed; each cell 2x2 (front, wrist) x (reset, action)."""
    tasks = list(dict.fromkeys(robot_and_task(e)[1] for e in env_ids))
    robots = list(dict.fromkeys(robot_and_task(e)[0] for e in env_ids))
    columns = [(r, s) for r in robots for s in seeds]
    cell = size * zoom
    gap = max(4, zoom * 3)
    width = len(columns) * (2 * cell + gap) + gap
    height = HEADER_HEIGHT + len(tasks) * (2 * cell + CAPTION_HEIGHT + gap) + gap
    canvas = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(canvas)
    font, header = _font(FONT_SIZE), _font(FONT_SIZE + 3)
    for col, (robot, seed) in enumerate(columns):
        title = robot if len(seeds) == 1 else f"{robot}, seed {seed}"
        draw.text((gap + col * (2 * cell + gap) + 2, 3), title, fill=(0, 0, 0), font=header)
    chars = max(16, 2 * cell // (FONT_SIZE // 2 + 1))
    for row, task in enumerate(tasks):
        top = HEADER_HEIGHT + gap + row * (2 * cell + CAPTION_HEIGHT + gap)
        for col, (robot, seed) in enumerate(columns):
            env_id = next((e for e in env_ids if robot_and_task(e) == (robot, task)), None)
            if env_id is None:  # this arm has no row for this task
                continue
            instruction, images = frames(env_id, seed, size)
            left = gap + col * (2 * cell + gap)
            for k, image in enumerate(images):
                big = np.repeat(np.repeat(image, zoom, 0), zoom, 1)
                canvas.paste(Image.fromarray(big), (left + (k % 2) * cell, top + (k // 2) * cell))
            label = f"{task}: {instruction}"
            wrapped = "\n".join(textwrap.wrap(label, chars)[:3])
            draw.multiline_text((left + 2, top + 2 * cell + 2), wrapped, fill=(0, 0, 0),
                                font=font)
    return canvas


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", action="append",
                        help="env id (repeat; default: every id of benchmarks/tabletop-v0.yaml)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--size", type=int, default=128, help="camera size (pixels)")
    parser.add_argument("--zoom", type=int, default=1, help="pixel scale-up in the PNG")
    parser.add_argument("--out", type=Path, default=Path("docs/images/tabletop-scenes.png"))
    args = parser.parse_args()
    env_ids = args.env or [t.env for t in load_card(CARD).tasks]
    image = grid(env_ids, args.seeds, args.size, args.zoom)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    image.save(args.out)
    print(f"wrote {args.out} ({image.width}x{image.height})")


if __name__ == "__main__":
    main()
