"""The Jackal-class base (base_twist, lidar, wheel odometry), the indoor flat drawn from the
seed, and NavigateTo: success around walls, SPL from the grid planner, collisions, language,
the scripted expert (issue 20 items 1-4)."""

from __future__ import annotations

import math

import gymnasium as gym
import numpy as np
import pytest

from librobot_gym.envs.registration import env_doc
from librobot_gym.envs.tasks import floor_grid as fg
from librobot_gym.envs.tasks.indoor import draw_layout
from librobot_gym.envs.tasks.navigate_to import GRID, INSTRUCTIONS, SUCCESS_RADIUS, TARGETS
from librobot_gym.errors import ConfigError
from librobot_gym.policies import ExpertPolicy
from librobot_gym.robots import get_robot

ENV_ID = "librobot/Jackal-NavigateTo-v0"


@pytest.fixture(scope="module")
def env():
    env = gym.make(ENV_ID, obs_mode="state_dict")
    yield env
    env.close()


def _pose(env) -> np.ndarray:
    extras = env.unwrapped.sim.world_state().extras
    return np.array([extras["base_x"], extras["base_y"], extras["base_yaw"]])


def _place(env, x, y, yaw):
    """Move the base (at rest) to a pose of our choosing mid-episode."""
    sim = env.unwrapped.sim
    sim.controller.place_base((x, y, yaw))
    sim.controller.hold()
    import mujoco

    mujoco.mj_forward(sim.model, sim.data)


def test_the_action_spec_is_a_twist_with_units():
    spec = get_robot("jackal").control_mode("base_twist")
    assert [(d.name, d.unit, d.low, d.high) for d in spec.dims] == [
        ("forward_speed", "m/s", -2.0, 2.0), ("yaw_rate", "rad/s", -2.0, 2.0)]
    assert np.allclose(spec.to_physical(np.zeros(2)), 0.0)  # zero action stops the base


def test_speed_and_yaw_rate_follow_the_acceleration_limits(env):
    obs, _ = env.reset(seed=0)
    speeds, rates = [], []
    for _ in range(12):
        obs, *_ = env.step(np.array([1.0, 1.0], np.float32))
        speeds.append(float(obs["base_twist"][0]))
        rates.append(float(obs["base_twist"][1]))
    # 2 m/s^2 and 3 rad/s^2 at 10 Hz: +0.2 m/s and +0.3 rad/s a step at most.
    assert speeds[0] <= 0.2 + 0.02 and rates[0] <= 0.3 + 0.03
    assert np.all(np.diff(speeds[:8]) <= 0.2 + 0.02)
    assert rates[-1] == pytest.approx(2.0, abs=0.1)


def test_wheels_turn_at_the_differential_drive_speeds(env):
    env.reset(seed=0)  # the start has room to turn: circle on a 0.1 m radius
    for _ in range(15):
        obs, *_ = env.step(np.array([0.05, 0.5], np.float32))  # 0.1 m/s, 1 rad/s
    drive = get_robot("jackal").diff_drive
    v, w = obs["base_twist"]
    left = (v - w * drive.track / 2) / drive.wheel_radius
    right = (v + w * drive.track / 2) / drive.wheel_radius
    assert v == pytest.approx(0.1, abs=0.01) and w == pytest.approx(1.0, abs=0.03)
    assert left < 0 < right  # the inner wheels turn backwards on so tight a circle
    assert np.allclose(obs["wheel_vel"], [left, left, right, right], rtol=0.05)


def test_a_wall_stops_the_base_and_counts_one_collision(env):
    env.reset(seed=0)
    _place(env, -2.5, 0.0, math.pi)  # facing the west wall (x = -3.5) from 1 m
    obs = env.step(np.zeros(2, np.float32))[0]
    ahead = obs["lidar"][len(obs["lidar"]) // 2]
    assert ahead == pytest.approx(1.0 - 0.12, abs=0.05)  # lidar 0.12 m ahead of the centre
    for _ in range(30):
        obs, _, _, _, info = env.step(np.array([0.5, 0.0], np.float32))
    x = _pose(env)[0]
    assert -3.5 + 0.2 < x < -3.5 + 0.26  # the bumper against the wall, not through it
    assert info["safety"]["arena_contact"] and info["task_metrics"]["collisions"] == 1.0
    assert info["task_metrics"]["in_collision"] == 1.0
    assert np.all((obs["lidar"] >= 0) & (obs["lidar"] <= 10.0))


def test_layouts_come_from_the_seed_and_keep_every_target_reachable():
    from librobot_gym.envs.tasks.navigate_to import plan

    first = draw_layout(np.random.default_rng(3))
    again = draw_layout(np.random.default_rng(3))
    other = draw_layout(np.random.default_rng(4))
    assert first.poses.keys() == again.poses.keys()
    assert all(np.array_equal(first.poses[k][0], again.poses[k][0]) for k in first.poses)
    assert not np.array_equal(first.poses["sofa"][0], other.poses["sofa"][0])
    radius = get_robot("jackal").diff_drive.radius
    for seed in range(3):
        layout = draw_layout(np.random.default_rng(seed))
        for target in TARGETS:
            goal, nav, expert, _ = plan(layout, target, radius)
            assert np.isfinite(nav).sum() > 1000, (seed, target)
            # the success region is reachable by the base wherever it can stand
            reachable = np.isfinite(nav)
            assert np.isfinite(goal[reachable]).all()


def test_the_grid_distance_is_close_to_the_straight_line_in_the_open():
    free = np.ones(GRID.shape, dtype=bool)
    source = np.zeros(GRID.shape, dtype=bool)
    source[GRID.index(-3.0, -2.0)] = True
    field = fg.distance_field(GRID, free, source)
    for x, y in ((3.0, 2.0), (3.0, -2.0), (-3.0, 2.0), (0.4, 1.1)):
        straight = math.dist((x, y), GRID.centre(*GRID.index(-3.0, -2.0)))
        assert straight - 0.05 <= GRID.at(field, x, y) <= straight * 1.03 + 0.05


def test_instructions_name_the_target_and_heldout_phrasings_stay_out():
    train = gym.make(ENV_ID, obs_mode="state")
    heldout = gym.make(ENV_ID, obs_mode="state", instruction_set="heldout")
    try:
        said = set()
        for seed in range(12):
            train.reset(seed=seed)
            heldout.reset(seed=seed)
            task = train.unwrapped.task
            names = [n.format(colour=task.episode.layout.colours.get(task.episode.target, ""))
                     for n in TARGETS[task.episode.target]]
            for env, templates in ((train, INSTRUCTIONS.train), (heldout, INSTRUCTIONS.heldout)):
                text = env.unwrapped.instruction
                name = next((n for n in names if n in text), None)
                assert name is not None, text
                assert text.replace(name, "{target}") in templates, text
            said.add(train.unwrapped.instruction.replace(name, "{target}"))
        assert len(said) >= 3
    finally:
        train.close()
        heldout.close()


def _run_expert(env, seed: int) -> dict:
    expert = ExpertPolicy(env)
    obs, _ = env.reset(seed=seed)
    expert.reset()
    start = _pose(env)
    path = 0.0
    while True:
        before = _pose(env)
        obs, reward, terminated, truncated, info = env.step(expert.act(obs))
        path += math.dist(before[:2], _pose(env)[:2])
        if terminated or truncated:
            return {**info, "path": path, "start": start}


def test_the_expert_reaches_the_target_with_spl_and_no_collision():
    env = gym.make(ENV_ID, obs_mode="state")
    try:
        for seed in range(4):
            info = _run_expert(env, seed)
            metrics = info["task_metrics"]
            assert info["is_success"], seed
            assert metrics["collisions"] == 0.0
            assert metrics["path_length"] == pytest.approx(info["path"], rel=1e-6)
            assert metrics["distance_to_goal"] == 0.0
            assert 0.75 < metrics["spl"] <= 1.0
            assert metrics["spl"] == pytest.approx(
                metrics["shortest_path"] / max(metrics["path_length"], metrics["shortest_path"]))
            ep = env.unwrapped.task.episode
            gap = math.dist(info["start"][:2], ep.layout.footprints[ep.target].centre)
            assert metrics["shortest_path"] >= gap - SUCCESS_RADIUS - 1.0  # l is a real path
    finally:
        env.close()


@pytest.mark.slow
@pytest.mark.parametrize("first", [0, 1000])
@pytest.mark.parametrize("env_id", [ENV_ID, "librobot/Fetch-NavigateTo-v0",
                                    "librobot/Tiago-NavigateTo-v0"])
def test_the_expert_succeeds_on_at_least_90_of_100_seeds(env_id, first):
    env = gym.make(env_id, obs_mode="state")
    try:
        wins = sum(_run_expert(env, seed)["is_success"] for seed in range(first, first + 100))
    finally:
        env.close()
    assert wins >= 90, f"{env_id}: {wins}/100 from seed {first}"


def test_sparse_reward_pays_on_success_only():
    env = gym.make(ENV_ID, obs_mode="state", reward_type="sparse")
    try:
        expert = ExpertPolicy(env)
        obs, _ = env.reset(seed=1)
        rewards = []
        while True:
            obs, reward, terminated, truncated, _ = env.step(expert.act(obs))
            rewards.append(reward)
            if terminated or truncated:
                break
        assert terminated and rewards[-1] == 1.0 and not any(rewards[:-1])
    finally:
        env.close()


def test_mistakes_are_refused_with_the_fix():
    with pytest.raises(ConfigError, match="mobile base"):
        gym.make(ENV_ID, robot="franka_panda")
    with pytest.raises(ConfigError, match="no control_mode 'base_twist'"):
        gym.make("librobot/Franka-PickCup-v0", control_mode="base_twist")
    with pytest.raises(ConfigError, match="instruction_set"):
        gym.make(ENV_ID, instruction_set="test")


def test_the_doc_says_how_the_task_is_scored():
    doc = env_doc(ENV_ID)
    for phrase in ("## Success Criteria", "SPL", "base_twist", "## Rewards", "collisions"):
        assert phrase in doc
