"""The walking law's reference rollouts: what the law read and what it answered, step by step,
for each humanoid. First recorded from the implementation before it was optimised (the one
that solved each leg's IK with per-joint numpy calls; main at 75ba399); re-recorded on
purpose when the swing sole was made to land at LAND_PHASE of its swing and the pendulum's
step to end there (gait.py; branch walk-bar), and when the forward speed's error was fed
back into the step's speed (gait.py `_track_speed`; branch walk-speed-bar).
`test_walking.py` replays the recorded states and commands into today's law and holds its
joint targets and rates to the recorded ones, so a faster law is the same law (same
footsteps, same targets).

The states come from MuJoCo driven by the law itself (random walking commands, a new one every
COMMAND_STEPS control steps); the replay is open loop (the recorded states are fed back, not
re-simulated), so it pins the law, not the physics.

Regenerate only on purpose (a deliberate change of the law), from the repository root:
  PYTHONPATH=. python tests/robots/walk_reference.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

FIXTURE = Path(__file__).parent / "fixtures" / "walk_reference.npz"
ROBOTS = ("h1", "gr1", "figure_class")
STEPS = 250  # control steps (5 s at 50 Hz) per robot
COMMAND_STEPS = 25  # a new random command every 0.5 s
STATE_FIELDS = ("pelvis_pos", "pelvis_rot", "com", "com_vel", "soles", "sole_yaw")


def make_sim(name: str):
    """A bare MuJoCo sim of `name` in `base_velocity`, standing at the origin."""
    from librobot_gym.envs.sim.mujoco_sim import MujocoSim
    from librobot_gym.envs.tasks.base import TaskReset
    from librobot_gym.robots import get_robot

    robot = get_robot(name)
    sim = MujocoSim(robot, [], "base_velocity", robot.physics_dt,
                    round(1 / (robot.control_hz * robot.physics_dt)))
    sim.reset(np.array(robot.home_qpos), 0.0, TaskReset("", {}, base_pose=(0.0, 0.0, 0.0)))
    return robot, sim


def record(name: str, seed: int = 0) -> dict[str, np.ndarray]:
    """Step `name`'s sim with random commands and keep every state the law read (the first
    is the one it was reset from), the commands, and its targets and rates."""
    robot, sim = make_sim(name)
    law = sim.controller.law
    spec = robot.control_mode("base_velocity")
    rng = np.random.default_rng(seed)
    rows: dict[str, list] = {k: [] for k in (*STATE_FIELDS, "legs_q", "command", "targets",
                                             "rates")}
    original_reset, original_targets = law.reset, law.targets

    def keep(state) -> None:
        for field in STATE_FIELDS:
            rows[field].append(np.array(getattr(state, field), float))
        rows["legs_q"].append(np.stack(state.legs_q))

    def reset(state):
        keep(state)
        return original_reset(state)

    def targets(state, command, dt):
        keep(state)
        rows["command"].append(np.array(command, float))
        out = original_targets(state, command, dt)
        rows["targets"].append(np.stack(out))
        rows["rates"].append(np.stack(law.velocities))
        return out

    law.reset, law.targets = reset, targets
    command = np.zeros(3)
    for i in range(STEPS):
        if i % COMMAND_STEPS == 0:
            command = rng.uniform(spec.low, spec.high)
        sim.step(command)
    return {k: np.array(v) for k, v in rows.items()}


def replay(name: str, rows: dict[str, np.ndarray]):
    """Feed the recorded states and commands to a fresh law of `name`: its (targets, rates)
    at every step, stacked as the recording's."""
    from librobot_gym.robots.humanoids.walking import WalkState

    robot, sim = make_sim(name)
    law = sim.controller.law
    dt = 1.0 / robot.control_hz

    def state(i: int) -> WalkState:
        fields = {f: rows[f][i].copy() for f in STATE_FIELDS}
        return WalkState(**fields, legs_q=(rows["legs_q"][i][0].copy(),
                                           rows["legs_q"][i][1].copy()))

    law.reset(state(0))
    targets, rates = [], []
    for i, command in enumerate(rows["command"]):
        targets.append(np.stack(law.targets(state(i + 1), command.copy(), dt)))
        rates.append(np.stack(law.velocities))
    return np.array(targets), np.array(rates)


def main() -> None:
    FIXTURE.parent.mkdir(parents=True, exist_ok=True)
    arrays = {f"{name}/{k}": v for name in ROBOTS for k, v in record(name).items()}
    np.savez_compressed(FIXTURE, **arrays)
    print(f"wrote {FIXTURE} ({FIXTURE.stat().st_size // 1024} KiB)")


if __name__ == "__main__":
    main()
