"""Render one scene under every variant factor level, into one grid PNG (the README's picture).

One row per factor that changes what a camera sees (and language, whose tiles carry the
instruction), one column per level, the default first: the front camera at reset, at the
policy's resolution (128x128), each tile labelled with its level. Factors that change nothing
visible (mass, friction, state noise) are listed under the grid.

Usage: python scripts/render_variants.py [--env ID] [--seed 0] [--camera front] [--size 128]
                                         [--out docs/images/variants-grid.png]
"""

from __future__ import annotations

import argparse
import os
import textwrap
from pathlib import Path

os.environ.setdefault("MUJOCO_GL", "egl")

import gymnasium as gym  # noqa: E402
from PIL import Image, ImageDraw, ImageFont  # noqa: E402

import librobot_gym  # noqa: E402, F401
from librobot_gym.envs.variants import DEFAULT, FACTORS, supported_variants  # noqa: E402

ROW_LABEL = 118
CAPTION = 30
GAP = 4
FONT_SIZE = 13
BACKGROUND = (255, 255, 255)
# The arm's start shows in the camera it carries; the front camera sees little of it.
ROW_CAMERA = {"joint_noise": "wrist"}


def tiles(env_id: str, seed: int, camera: str, size: int):
    """{factor: [(level, image, instruction)]} for every variant the env supports, the
    default under "default"; and the factors that change nothing visible."""
    env = gym.make(env_id, camera_size=size)
    rows: dict[str, list] = {}
    hidden: list[str] = []
    try:
        for name in supported_variants(env_id):
            obs, info = env.reset(seed=seed, options={"variant": name})
            factor = DEFAULT if name == DEFAULT else name.split(":")[0]
            level = name.split(":")[-1]
            if factor != DEFAULT and not FACTORS.get(factor).visual and factor != "language":
                if factor not in hidden:
                    hidden.append(factor)
                continue
            rows.setdefault(factor, []).append((level, obs["images"], info["instruction"]))
    finally:
        env.close()
    return rows, hidden


def grid(env_id: str, seed: int, camera: str, size: int) -> Image.Image:
    rows, hidden = tiles(env_id, seed, camera, size)
    default = rows.pop(DEFAULT)[0]
    columns = 1 + max(len(levels) for levels in rows.values())
    width = ROW_LABEL + columns * (size + GAP) + GAP
    footer = 3 * CAPTION
    height = GAP + len(rows) * (size + CAPTION + GAP) + footer
    canvas = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(canvas)
    try:
        font = ImageFont.load_default(size=FONT_SIZE)
    except TypeError:  # Pillow before 10.1: the small bitmap font
        font = ImageFont.load_default()
    for r, (factor, levels) in enumerate(rows.items()):
        top = GAP + r * (size + CAPTION + GAP)
        view = ROW_CAMERA.get(factor, camera)
        label = factor if view == camera else f"{factor}\n({view} camera)"
        draw.multiline_text((4, top + size // 2 - FONT_SIZE), label, fill=(0, 0, 0), font=font)
        for c, (level, images, instruction) in enumerate([("default", *default[1:])] + levels):
            left = ROW_LABEL + GAP + c * (size + GAP)
            canvas.paste(Image.fromarray(images[view]), (left, top))
            label = level if factor != "language" else f"{level}: {instruction}"
            text = "\n".join(textwrap.wrap(label, size // 7)[:2])
            draw.multiline_text((left + 1, top + size + 1), text, fill=(0, 0, 0), font=font,
                                spacing=1)
    note = (f"{env_id}, seed {seed}, {camera} camera {size}x{size}, at reset. Not visible: "
            f"{', '.join(hidden)}.")
    draw.multiline_text((4, height - footer + 6), "\n".join(textwrap.wrap(note, width // 7)),
                        fill=(0, 0, 0), font=font)
    return canvas


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="librobot/Franka-PickCup-v1")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--camera", default="front")
    parser.add_argument("--size", type=int, default=128, help="camera size (pixels)")
    parser.add_argument("--out", type=Path, default=Path("docs/images/variants-grid.png"))
    args = parser.parse_args()
    image = grid(args.env, args.seed, args.camera, args.size)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    image.save(args.out)
    print(f"wrote {args.out} ({image.width}x{image.height})")


if __name__ == "__main__":
    main()
