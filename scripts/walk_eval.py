"""Measure a humanoid's walking controller (`base_velocity`) against issue 21's bar: on flat
ground it walks forward at >= 0.5 m/s, turns and stops without falling in >= 95% of 100 seeded
20-second episodes of random commands.

Each episode stands the robot at the origin (nominal posture, at rest) and sends seeded
piecewise-constant commands, a new one every 2-4 s: a stop (all zero) with probability 0.2, a
forward walk (vx in [0.5, vx_max], no turn) with probability 0.3, else any command uniformly
within the mode's bounds. Measured after the first 1 s of each command (the gait's ramp): the
robot's mean velocity in its heading frame (pelvis displacement per step, rotated by the
pelvis's yaw) and yaw rate, against the command. A fall: the pelvis below 0.6 m or the trunk
tilted beyond 0.7 rad (the Stand task's criteria).

Reported: the fall rate; the mean forward speed over the forward-walk commands; the tracking
error (RMS over commands of the measured minus commanded vx, vy, yaw rate); the mean speed
while stopped (stepping in place).

Usage: python scripts/walk_eval.py --robot h1 [--episodes 100] [--seconds 20] [--seed 0]
                                   [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from dataclasses import dataclass, field

os.environ.setdefault("MUJOCO_GL", "egl")

import numpy as np  # noqa: E402

from librobot_gym.envs.sim.mujoco_sim import MujocoSim  # noqa: E402
from librobot_gym.envs.tasks.base import TaskReset  # noqa: E402
from librobot_gym.robots import get_robot  # noqa: E402

FALL_HEIGHT, FALL_TILT = 0.6, 0.7
SETTLE = 1.0  # s after a new command before it is measured


@dataclass
class Segment:
    """One command and what the robot did under it (after the settling second)."""

    command: np.ndarray
    start: float
    distance: np.ndarray = field(default_factory=lambda: np.zeros(2))  # heading frame, m
    turned: float = 0.0  # rad
    measured_time: float = 0.0  # s

    def velocity(self) -> np.ndarray | None:
        if self.measured_time < 0.5:
            return None
        return np.array([*(self.distance / self.measured_time),
                         self.turned / self.measured_time])


def commands(rng: np.random.Generator, spec, seconds: float) -> list[tuple[float, np.ndarray]]:
    """[(start time s, command)], piecewise constant, a new one every 2-4 s."""
    out, t = [], 0.0
    low, high = spec.low, spec.high
    while t < seconds:
        u = rng.uniform()
        if u < 0.2:
            cmd = np.zeros(3)
        elif u < 0.5:
            cmd = np.array([rng.uniform(0.5, high[0]), 0.0, 0.0])
        else:
            cmd = rng.uniform(low, high)
        out.append((t, cmd))
        t += float(rng.uniform(2.0, 4.0))
    return out


def episode(sim: MujocoSim, robot, seed: int, seconds: float) -> dict:
    rng = np.random.default_rng(seed)
    spec = robot.control_mode("base_velocity")
    plan = commands(rng, spec, seconds)
    sim.reset(np.array(robot.home_qpos), 0.0, TaskReset("", {}, base_pose=(0.0, 0.0, 0.0)))
    controller = sim.controller
    dt = sim.control_dt
    segments = [Segment(cmd, start) for start, cmd in plan]
    extras = controller.machine_extras()
    fell_at = None
    k = 0
    for k in range(int(round(seconds / dt))):
        t = k * dt
        seg_i = max(i for i, s in enumerate(segments) if s.start <= t)
        seg = segments[seg_i]
        before = extras
        sim.step(seg.command)
        extras = controller.machine_extras()
        if extras["base_z"] < FALL_HEIGHT or extras["tilt"] > FALL_TILT:
            fell_at = t + dt
            break
        if t - seg.start >= SETTLE:
            yaw = before["base_yaw"]
            d = np.array([extras["base_x"] - before["base_x"], extras["base_y"] - before["base_y"]])
            c, s = math.cos(yaw), math.sin(yaw)
            seg.distance += (c * d[0] + s * d[1], -s * d[0] + c * d[1])
            seg.turned += (extras["base_yaw"] - yaw + math.pi) % (2 * math.pi) - math.pi
            seg.measured_time += dt
    measured = [(s.command, s.velocity()) for s in segments if s.velocity() is not None]
    return {"seed": seed, "fell": fell_at is not None, "fell_at": fell_at,
            "segments": [(c.tolist(), v.tolist()) for c, v in measured]}


def summarise(results: list[dict]) -> dict:
    forward, errors, stopped = [], [], []
    for r in results:
        for cmd, vel in r["segments"]:
            cmd, vel = np.array(cmd), np.array(vel)
            errors.append(vel - cmd)
            if cmd[0] >= 0.5 and cmd[1] == 0.0 and cmd[2] == 0.0:
                forward.append((cmd[0], vel[0]))
            if not cmd.any():
                stopped.append(math.hypot(vel[0], vel[1]))
    err = np.array(errors) if errors else np.zeros((1, 3))
    n = len(results)
    falls = sum(r["fell"] for r in results)
    return {
        "episodes": n, "falls": falls, "fall_rate": falls / max(n, 1),
        "success_rate": 1.0 - falls / max(n, 1),
        "forward_commanded_mean": float(np.mean([f[0] for f in forward])) if forward else None,
        "forward_speed_mean": float(np.mean([f[1] for f in forward])) if forward else None,
        "forward_commands_at_least_0.5_reached": (float(np.mean([f[1] >= 0.5 for f in forward]))
                                                  if forward else None),
        "tracking_rms": {"vx": float(np.sqrt(np.mean(err[:, 0] ** 2))),
                         "vy": float(np.sqrt(np.mean(err[:, 1] ** 2))),
                         "yaw_rate": float(np.sqrt(np.mean(err[:, 2] ** 2)))},
        "stopped_speed_mean": float(np.mean(stopped)) if stopped else None,
        "fall_times": [r["fell_at"] for r in results if r["fell"]],
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--robot", default="h1")
    parser.add_argument("--episodes", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", default=None, help="write the summary and episodes here")
    args = parser.parse_args(argv)
    robot = get_robot(args.robot)
    substeps = int(round(1.0 / robot.control_hz / robot.physics_dt))
    sim = MujocoSim(robot, [], "base_velocity", robot.physics_dt, substeps)
    start = time.perf_counter()
    results = []
    for i in range(args.episodes):
        results.append(episode(sim, robot, args.seed + i, args.seconds))
        r = results[-1]
        print(f"episode {i:3d} seed {r['seed']}: "
              + (f"fell at {r['fell_at']:.2f} s" if r["fell"] else "walked"), flush=True)
    summary = summarise(results)
    summary["robot"], summary["seconds"] = robot.name, args.seconds
    summary["wall_s"] = round(time.perf_counter() - start, 1)
    print(json.dumps(summary, indent=2))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"summary": summary, "episodes": results}, f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
