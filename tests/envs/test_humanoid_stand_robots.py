"""Stand for the other humanoids (issue 21 item 3): the GR1 and the Figure-class one under the
same task as the H1 (tests/envs/test_h1_stand.py covers the task itself): each id's pushes
come in its documented range, its expert recovers, a fall says `fell`, `upper_body` stands,
its doc page says how it is scored, and (slow) the expert wins >= 90 of 100 seeds."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

from librobot_gym.envs.registration import env_doc
from librobot_gym.envs.tasks.humanoid_stand import N_PUSHES
from librobot_gym.policies import ExpertPolicy
from librobot_gym.robots.humanoids.common import layout_for

# id: the impulse range (N s) its doc states
ROBOT_ENVS = {"librobot/GR1-Stand-v0": (5.0, 10.0),
              "librobot/FigureClass-Stand-v0": (10.0, 20.0)}


def _episode(env, seed: int, policy: str = "expert") -> dict:
    obs, _ = env.reset(seed=seed)
    u = env.unwrapped
    expert = ExpertPolicy(env)
    expert.reset()
    hold = u.action_spec.to_normalised(np.array(u.robot.home_qpos)).astype(np.float32)
    while True:
        action = expert.act(obs) if policy == "expert" else hold
        obs, _, terminated, truncated, info = env.step(action)
        if terminated or truncated:
            return info


@pytest.fixture(scope="module", params=sorted(ROBOT_ENVS))
def env(request):
    env = gym.make(request.param, obs_mode="state")
    yield env
    env.close()


def test_pushes_lie_in_the_ids_range(env):
    low, high = ROBOT_ENVS[env.spec.id]
    for seed in range(5):
        env.reset(seed=seed)
        for push in env.unwrapped.task.episode.pushes:
            impulse = np.hypot(*push.force[:2]) * push.duration
            assert low <= impulse <= high


def test_the_expert_recovers_from_every_push(env):
    for seed in range(3):
        info = _episode(env, seed)
        assert info["is_success"] and not info["safety"]["fell"], (seed, info["task_metrics"])
        assert info["task_metrics"]["recoveries"] == N_PUSHES


def test_pd_alone_falls_and_says_so(env):
    """Seed 1's pushes topple PD alone holding the nominal posture, on either robot."""
    info = _episode(env, 1, policy="pd")
    assert not info["is_success"] and info["safety"]["fell"]
    assert info["task_metrics"]["fell"] == 1.0


def test_upper_body_mode_stands_under_the_same_pushes(env):
    ub = gym.make(env.spec.id, obs_mode="state", control_mode="upper_body")
    try:
        ub.reset(seed=0)
        n = layout_for(ub.unwrapped.robot).n_held
        upper = ub.unwrapped.action_spec.to_normalised(
            np.array(ub.unwrapped.robot.home_qpos[n:])).astype(np.float32)
        while True:
            _, _, terminated, truncated, info = ub.step(upper)
            if terminated or truncated:
                break
        assert info["is_success"] and info["task_metrics"]["recoveries"] == N_PUSHES
    finally:
        ub.close()


def test_the_figure_class_robot_says_it_is_unofficial_everywhere():
    from librobot_gym.robots import get_robot

    robot = get_robot("figure_class")
    doc = env_doc("librobot/FigureClass-Stand-v0")
    for text in (doc, robot.control_mode("joint_pos").description,
                 robot.control_mode("upper_body").description,
                 __import__("librobot_gym.robots.humanoids.figure", fromlist=["x"]).__doc__):
        assert "Figure-class (unofficial)" in text


def test_the_doc_names_the_robot_and_its_pushes(env):
    doc = env_doc(env.spec.id)
    low, high = ROBOT_ENVS[env.spec.id]
    for phrase in ("## Success Criteria", "recoveries", "fell", f"{low:g}-{high:g} N s",
                   "joint_pos", "upper_body", "## Rewards"):
        assert phrase in doc, phrase


@pytest.mark.slow
@pytest.mark.parametrize("env_id", sorted(ROBOT_ENVS))
def test_the_expert_succeeds_on_at_least_90_of_100_seeds(env_id):
    env = gym.make(env_id, obs_mode="state")
    try:
        wins = sum(_episode(env, seed)["is_success"] for seed in range(100))
    finally:
        env.close()
    assert wins >= 90, f"{wins}/100"
