"""Render the humanoids (Unitree H1, Fourier GR1, the Figure-class (unofficial) one) picking
the named object in TabletopPick, as a policy sees it and from outside, into one PNG (the
README's): one block of rows per robot, labelled with the episode's instruction.

The task's expert (IK + gripper script through `ee_delta_pose`) runs one episode; at reset,
as the jaws close on the object and once it is lifted, the grid shows the `head` and `chest`
cameras at the policy's resolution (128x128 by default) and an overview from a free camera
beside the table, each scaled up by --zoom without smoothing. Layout and labels as
`render_humanoids.py` (whose `grid` and `stack` this reuses).

Usage: python scripts/render_humanoids_pick.py [--env ID ...] (default: every humanoid's)
                                               [--seed 0] [--size 128] [--zoom 2]
                                               [--out docs/images/humanoids-pick.png]
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from pathlib import Path

os.environ.setdefault("MUJOCO_GL", "egl")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import gymnasium as gym  # noqa: E402
import mujoco  # noqa: E402
import numpy as np  # noqa: E402
from render_humanoids import CAMERAS, grid, stack  # noqa: E402

import librobot_gym  # noqa: E402, F401
from librobot_gym.policies import ExpertPolicy  # noqa: E402

ROBOTS = {  # env id: the label over its block
    "librobot/H1-TabletopPick-v0": "Unitree H1",
    "librobot/GR1-TabletopPick-v0": "Fourier GR1 (T1)",
    "librobot/FigureClass-TabletopPick-v0": "Figure-class (unofficial): ours, not Figure's",
}


class TableView:
    """A free camera 1.6 m off, 50 deg to the robot's left, looking down at the table's
    near edge at the height of its top."""

    def __init__(self, env, size: int):
        u = env.unwrapped
        self.data = u.sim.data
        self.renderer = mujoco.Renderer(u.sim.model, size, size)
        self.camera = mujoco.MjvCamera()
        self.camera.type = mujoco.mjtCamera.mjCAMERA_FREE
        self.camera.distance, self.camera.elevation = 1.6, -25.0
        layout = u.task.layout
        self.lookat = (float(layout["table_edge"]), 0.0, float(layout["table_height"]))

    def render(self, extras: dict) -> np.ndarray:
        yaw = extras["base_yaw"]
        self.camera.lookat[:] = (extras["base_x"] + self.lookat[0] * math.cos(yaw),
                                 extras["base_y"] + self.lookat[0] * math.sin(yaw),
                                 self.lookat[2])
        self.camera.azimuth = math.degrees(yaw) + 180.0 + 50.0
        self.renderer.update_scene(self.data, camera=self.camera)
        return self.renderer.render()

    def close(self) -> None:
        self.renderer.close()


def frames(env_id: str, seed: int, size: int) -> tuple[str, dict[str, list[np.ndarray]]]:
    """The instruction, and {caption: [head, chest, overview]} at reset, as the jaws close
    and once the object is lifted."""
    env = gym.make(env_id, camera_size=size)
    view = TableView(env, size * 2)
    try:
        u = env.unwrapped
        expert = ExpertPolicy(env)
        obs, _ = env.reset(seed=seed)
        expert.reset()

        def shot(obs) -> list[np.ndarray]:
            extras = u.sim.world_state().extras
            return [obs["images"][c] for c in CAMERAS] + [view.render(extras)]

        shots = {"at reset": shot(obs)}
        while True:
            obs, _, terminated, truncated, info = env.step(expert.act(obs))
            closing = expert.expert.phase == "close"
            if closing and "jaws closing" not in shots:
                shots["jaws closing"] = shot(obs)
            if terminated or truncated:
                lift = info["task_metrics"].get("lift_height", 0.0)
                caption = f"lifted {100 * lift:.0f} cm" if info["is_success"] else "failed"
                shots[caption] = shot(obs)
                return u.instruction, shots
    finally:
        view.close()
        env.close()


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", nargs="+", default=list(ROBOTS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--zoom", type=int, default=2)
    parser.add_argument("--out", default="docs/images/humanoids-pick.png")
    args = parser.parse_args(argv)
    blocks = {}
    for env_id in args.env:
        instruction, shots = frames(env_id, args.seed, args.size)
        label = f'{ROBOTS.get(env_id, env_id)}: "{instruction}"'
        blocks[label] = grid(shots, args.size, args.zoom)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    stack(blocks).save(out)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
