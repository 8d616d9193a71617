"""Render each humanoid walking to a floor marker (WalkTo's expert through the `base_velocity`
walking controller), as the policy sees it and from outside, into one PNG (the README's): one
block of rows per robot, labelled.

One episode per robot; the grid shows the `head` and `chest` cameras at the policy's resolution
(128x128 by default) and an overview from a free camera 2.5 m off, at reset, at a third and
two thirds of the episode, and at its end, each image scaled up by --zoom without smoothing,
the moment, the distance to the marker and the outcome written under each column.

Usage: python scripts/render_humanoid_walk.py [--env ID ...] (default: every humanoid's WalkTo)
                                              [--seed 0] [--size 128] [--zoom 2]
                                              [--out docs/images/humanoids-walk.png]
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from pathlib import Path

os.environ.setdefault("MUJOCO_GL", "egl")
sys.path.insert(0, str(Path(__file__).parent))

import gymnasium as gym  # noqa: E402
from render_humanoids import CAMERAS, Overview, grid, stack  # noqa: E402

ROOM_HALF = 3.0  # m: the Stand room's walls


class RoomOverview(Overview):
    """The free camera 2.5 m off the robot, turned to whichever side keeps it farthest inside
    the room (a walking robot nears the walls; a camera behind one sees only wall)."""

    def render(self, extras: dict):
        x, y = extras["base_x"], extras["base_y"]
        cam = self.camera
        reach = cam.distance * math.cos(math.radians(cam.elevation))

        def room(azimuth: float) -> float:
            a = math.radians(azimuth)
            px, py = x - reach * math.cos(a), y - reach * math.sin(a)
            return min(ROOM_HALF - abs(px), ROOM_HALF - abs(py))

        preferred = math.degrees(extras["base_yaw"]) + 180.0 + 35.0
        candidates = [preferred + 30.0 * k for k in range(12)]
        cam.lookat[:] = (x, y, 0.9)
        cam.azimuth = max(candidates, key=lambda a: (min(room(a), 0.6), -abs(
            (a - preferred + 180.0) % 360.0 - 180.0)))
        self.renderer.update_scene(self.data, camera=cam)
        return self.renderer.render()

import librobot_gym  # noqa: E402, F401
from librobot_gym.policies import ExpertPolicy  # noqa: E402

ROBOTS = {  # env id: the label over its block
    "librobot/H1-WalkTo-v0": "Unitree H1 walking to the marker",
    "librobot/GR1-WalkTo-v0": "Fourier GR1 (T1) walking to the marker",
    "librobot/FigureClass-WalkTo-v0": "Figure-class (unofficial): ours, not Figure's",
}


def frames(env_id: str, seed: int, size: int) -> dict[str, list]:
    """{caption: [head, chest, overview]} through one expert episode."""
    env = gym.make(env_id, camera_size=size)
    overview = RoomOverview(env, size)
    try:
        u = env.unwrapped
        expert = ExpertPolicy(env)
        obs, info = env.reset(seed=seed)
        expert.reset()
        recorded = []

        def shot(obs, caption: str) -> None:
            extras = u.sim.world_state().extras
            recorded.append((caption, [obs["images"][c] for c in CAMERAS]
                             + [overview.render(extras)]))

        shot(obs, f"t 0 s: \"{info['instruction']}\"")
        moments, step = [], 0
        while True:
            obs, _, terminated, truncated, info = env.step(expert.act(obs))
            step += 1
            if step % 5 == 0 or terminated or truncated:
                extras = u.sim.world_state().extras
                moments.append((u.sim.data.time, [obs["images"][c] for c in CAMERAS]
                                + [overview.render(extras)],
                                info["task_metrics"].get("distance_to_goal", 0.0)))
            if terminated or truncated:
                break
        outcome = "on the marker" if info["is_success"] else \
            ("fell" if info["safety"].get("fell") else "timed out")
        for fraction in (1 / 3, 2 / 3):
            t, images, dist = moments[int(fraction * (len(moments) - 1))]
            recorded.append((f"t {t:.1f} s, {dist:.2f} m to go", images))
        t, images, _ = moments[-1]
        recorded.append((f"t {t:.1f} s: {outcome}", images))
        return dict(recorded)
    finally:
        overview.close()
        env.close()


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", nargs="+", default=list(ROBOTS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--zoom", type=int, default=2)
    parser.add_argument("--out", default="docs/images/humanoids-walk.png")
    args = parser.parse_args(argv)
    blocks = {ROBOTS.get(env_id, env_id): grid(frames(env_id, args.seed, args.size), args.size,
                                               args.zoom)
              for env_id in args.env}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    stack(blocks).save(out)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
