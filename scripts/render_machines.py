"""Render the heavy machines at work, as a policy sees them, into one grid PNG (the README's).

For each env: the scripted expert runs one episode; the `cab` and `external` cameras are
captured at the policy's resolution (128x128 by default) at reset and at the task's moments,
each image scaled up by --zoom without smoothing. The moment is written under each column.
The wheel loader (LoadHauler): the first full bucket, the first dump, backing off after the
last dump but one (the load in the hauler's body shows). The hauler (HaulDump): on the ramp,
tipping, lowering the emptied body (the heap in the bay shows).

Usage: python scripts/render_machines.py [--env librobot/WheelLoader-LoadHauler-v0]
                                         [--seed 0] [--size 128] [--zoom 2]
                                         [--out docs/images/wheel-loader.png]
       python scripts/render_machines.py --env librobot/Hauler-HaulDump-v0 \
                                         --out docs/images/hauler.png
       python scripts/render_machines.py --env librobot/Excavator-DigDump-v1 \
                                         --out docs/images/excavator.png
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

CAPTION_HEIGHT = 22
# Task -> {(expert phase, steps into it): caption of the frame taken there}.
MOMENTS = {
    "load_hauler": {("reverse_out", 0): "bucket full", ("dump", 12): "dumping",
                    ("reverse_away", 30): "backing off"},
    "haul_dump": {("drive", 80): "on the ramp", ("raise", 75): "tipping",
                  ("lower", 30): "lowering, load in the bay"},
    "dig_dump_v1": {("lift", 5): "bucket full", ("dump", 8): "dumping",
                    ("return", 10): "swinging back"},
}
# Moments taken at their last occurrence, captioned with the tonnes delivered by then.
LAST = ("backing off", "swinging back")


def frames(env_id: str, seed: int, size: int, max_steps: int = 2400) -> dict[str, list]:
    """{caption: [cab, external]} at reset and at the MOMENTS (the first of each, but the
    last "backing off", captioned with the tonnes in the body)."""
    env = gym.make(env_id, camera_size=size)
    try:
        expert = ExpertPolicy(env)
        obs, _ = env.reset(seed=seed)
        expert.reset()
        shots = {"at reset": [obs["images"]["cab"], obs["images"]["external"]]}
        moments = MOMENTS[env.unwrapped.task.name]
        last_shot = None
        in_phase, last = 0, None
        for _ in range(max_steps):
            obs, _, terminated, truncated, info = env.step(expert.act(obs))
            phase = expert.expert.phase
            in_phase, last = (in_phase + 1 if phase == last else 0), phase
            caption = moments.get((phase, in_phase))
            pair = [obs["images"]["cab"], obs["images"]["external"]]
            if caption in LAST:
                tonnes = info["task_metrics"]["delivered_t"]
                last_shot = (f"{caption}, {tonnes:.1f} t in the body", pair)
            elif caption is not None and caption not in shots:
                shots[caption] = pair
            if terminated or truncated:
                break
        if last_shot is not None:
            shots[last_shot[0]] = last_shot[1]
        return shots
    finally:
        env.close()


def grid(shots: dict[str, list], size: int, zoom: int) -> Image.Image:
    """Columns: moments; rows: cab, external."""
    cell = size * zoom
    image = Image.new("RGB", (cell * len(shots), 2 * cell + CAPTION_HEIGHT), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    for column, (caption, pair) in enumerate(shots.items()):
        for row, frame in enumerate(pair):
            big = Image.fromarray(np.asarray(frame)).resize((cell, cell), Image.NEAREST)
            image.paste(big, (column * cell, row * cell))
        draw.text((column * cell + 6, 2 * cell + 4), caption, fill=(0, 0, 0))
    return image


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="librobot/WheelLoader-LoadHauler-v0")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--zoom", type=int, default=2)
    parser.add_argument("--out", default="docs/images/wheel-loader.png")
    parser.add_argument("--frames", help="also write each 128x128 frame into this folder")
    args = parser.parse_args(argv)
    shots = frames(args.env, args.seed, args.size)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    grid(shots, args.size, args.zoom).save(out)
    if args.frames:
        folder = Path(args.frames)
        folder.mkdir(parents=True, exist_ok=True)
        for caption, pair in shots.items():
            for camera, frame in zip(("cab", "external"), pair, strict=True):
                name = f"{caption.replace(' ', '-')}-{camera}.png"
                Image.fromarray(np.asarray(frame)).save(folder / name)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
