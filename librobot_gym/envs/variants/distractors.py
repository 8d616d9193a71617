"""Distractors: objects from the task's object set that the instruction does not name, stood on
the table among the episode's own. Only kinds the episode does not show are taken, so every
instruction still picks out the one object it means (no second "red cup" appears); they stand
in the placement patch clear of every shown object, and the task ignores them in its
judgement. Tabletop tasks only: the model is built once, so distractors come from the task's
pool of parked objects, and a level's count is at most: an episode that shows most of its
pool's kinds has fewer spares (`ctx.state["distractors"]` names the ones stood up).
They may stand a little beyond the patch the task places its own objects on (`SPREAD` of its
size at the far edge, a fifth of that on the sides: still on the table and in the front
camera's view), as room is short on a crowded table."""

from __future__ import annotations

import math

import numpy as np

from librobot_gym.envs.variants.factor import Factor, register_factor

SPREAD = 0.25
COLOURS = ("red", "green", "blue", "yellow", "orange", "purple", "white", "black")


class Distractors(Factor):
    name = "distractors"
    summary = "unnamed objects of other kinds from the task's object set on the table"
    levels = {"few": {"count": 1}, "many": {"count": 3}}
    order = 1  # combined: after the factors that recolour or resize the shown objects

    def supports(self, task, level):
        return bool(getattr(task, "pool", ()))

    def apply(self, ctx, params):
        from librobot_gym.envs.tasks.objects import COLOURS as RGBA
        from librobot_gym.envs.tasks.placement import yaw_quat

        task, rng, reset = ctx.task, ctx.rng, ctx.task_reset
        shown = {task.kinds[name] for name in task.active}
        spare = [name for name, kind in task.pool
                 if name not in task.active and kind not in shown and name in ctx.sim.free]
        rng.shuffle(spare)
        lay = task.layout
        (x0, x1), (y0, y1) = lay.place_x_range, lay.place_y_range
        x1, dy = x1 + SPREAD * (x1 - x0), SPREAD / 5 * (y1 - y0)
        y0, y1 = y0 - dy, y1 + dy
        placed = [(p.pos[:2], task.footprint(n)) for n, p in task.active.items()]
        chosen: list[str] = []
        for name in spare:
            if len(chosen) == params["count"]:
                break
            radius = task.footprint(name)
            for _ in range(100):
                spot = np.array([rng.uniform(x0, x1), rng.uniform(y0, y1)])
                if all(math.dist(spot, other) >= radius + r + lay.clearance
                       for other, r in placed):
                    break
            else:
                continue
            placed.append((spot, radius))
            chosen.append(name)
            reset.poses[name] = (np.array([*spot, task.rest_z(name)]),
                                 yaw_quat(float(rng.uniform(-math.pi, math.pi))))
            reset.colours[name] = RGBA[COLOURS[int(rng.integers(len(COLOURS)))]]
        ctx.state["distractors"] = chosen


register_factor(Distractors())
