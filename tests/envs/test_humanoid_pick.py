"""TabletopPick for the humanoids (issue 21 item 3): each robot's expert picks the named object
(a few seeds here, 100 in the slow test), lifting another is `wrong_object`, a fall ends the
episode with `fell`, the dense reward pays from the first step and grows as the hand closes
in, the sparse one only on success, the instruction names the target alone, and mistakes are
refused with the fix."""

from __future__ import annotations

import copy
import dataclasses

import gymnasium as gym
import numpy as np
import pytest

from librobot_gym.envs.registration import env_doc
from librobot_gym.envs.tasks.humanoid_pick import INSTRUCTIONS, LIFT_SUCCESS, TabletopPick
from librobot_gym.envs.tasks.language import Reference, Thing
from librobot_gym.envs.tasks.objects import KINDS
from librobot_gym.errors import ConfigError
from librobot_gym.policies import ExpertPolicy
from librobot_gym.robots import get_robot

IDS = ("librobot/H1-TabletopPick-v0", "librobot/GR1-TabletopPick-v0",
       "librobot/FigureClass-TabletopPick-v0")


def _run(env, seed: int, expert=None, steps: int | None = None) -> tuple[dict, list[float]]:
    """One episode (or `steps` of it) with the expert; the last info and the rewards."""
    obs, _ = env.reset(seed=seed)
    u = env.unwrapped
    if expert is None:
        expert = ExpertPolicy(env)
    expert.reset()
    rewards = []
    for _ in range(steps or u.max_episode_steps):
        action = expert.act(obs) if isinstance(expert, ExpertPolicy) else \
            expert.act(u.sim.world_state(privileged=True))
        obs, reward, terminated, truncated, info = env.step(action)
        rewards.append(reward)
        if terminated or truncated:
            break
    return info, rewards


@pytest.fixture(scope="module", params=IDS)
def env(request):
    env = gym.make(request.param, obs_mode="state")
    yield env
    env.close()


def test_the_expert_picks_the_named_object(env):
    for seed in (0, 1):
        info, rewards = _run(env, seed)
        assert info["is_success"], (seed, info["task_metrics"])
        m = info["task_metrics"]
        assert m["lift_height"] >= LIFT_SUCCESS and m["held"] == 1.0
        assert m["wrong_object"] == 0.0 and m["fell"] == 0.0 and rewards[-1] == 1.0


def test_lifting_another_object_is_wrong_object(env):
    env.reset(seed=2)
    task = env.unwrapped.task
    other = next(n for n in task.episode.objects if n != task.episode.target)
    decoy = copy.copy(task)  # an expert sent after a distractor
    decoy.episode = dataclasses.replace(task.episode, target=other)
    info, rewards = _run(env, 2, expert=_expert_for(decoy), steps=300)
    assert info["task_metrics"]["wrong_object"] == 1.0 and not info["is_success"]
    assert rewards[-1] == 0.0


def _expert_for(task):
    expert = task.make_expert()
    expert.reset()
    return expert


def test_a_fall_ends_the_episode_and_says_fell():
    env = gym.make("librobot/H1-TabletopPick-v0", obs_mode="state", control_mode="joint_pos")
    try:
        env.reset(seed=0)
        u = env.unwrapped
        lean = np.array(u.robot.home_qpos)
        lean[[2, 7]] = -1.2  # both hips fold forward, knees straight: the trunk topples
        lean[[3, 8]] = 0.0
        action = u.action_spec.to_normalised(lean).astype(np.float32)
        for _ in range(200):
            _, reward, terminated, truncated, info = env.step(action)
            if terminated or truncated:
                break
        assert terminated and info["safety"]["fell"] and not info["is_success"]
        assert info["task_metrics"]["fell"] == 1.0 and reward == 0.0
    finally:
        env.close()


def test_the_dense_reward_pays_from_the_start_and_grows_as_the_hand_closes_in(env):
    _, rewards = _run(env, 3, steps=120)
    assert rewards[0] > 0.0
    assert max(rewards) > rewards[0] + 0.2


def test_the_sparse_reward_pays_on_success_only():
    env = gym.make("librobot/GR1-TabletopPick-v0", obs_mode="state", reward_type="sparse")
    try:
        info, rewards = _run(env, 0)
        assert info["is_success"] and rewards[-1] == 1.0 and set(rewards[:-1]) == {0.0}
    finally:
        env.close()


def test_the_instruction_names_the_target_alone(env):
    u = env.unwrapped
    seen = set()
    for seed in range(12):
        env.reset(seed=seed)
        ep, text = u.task.episode, u.instruction
        target = ep.objects[ep.target]
        noun = KINDS[target.kind].noun
        assert noun in text
        said_colour = target.colour in text.split()
        things = [Thing(n, KINDS[p.kind].noun, p.colour, 0.0) for n, p in ep.objects.items()]
        ref = Reference(noun, target.colour if said_colour else None)
        assert ref.picks_out(ep.target, things), text
        seen.add(next(t for t in INSTRUCTIONS.train if _fits(t, text)))
        assert not any(_fits(t, text) for t in INSTRUCTIONS.heldout)
    assert len(seen) >= 3


def _fits(template: str, text: str) -> bool:
    head, tail = template.split("{target}")
    return text.startswith(head) and text.endswith(tail) and len(text) > len(head + tail)


def test_mistakes_are_refused_with_the_fix():
    with pytest.raises(ConfigError, match="needs a humanoid"):
        TabletopPick(get_robot("franka_panda"))
    bare = dataclasses.replace(get_robot("h1"), task_layouts={})
    with pytest.raises(ConfigError, match="tabletop_pick layout"):
        TabletopPick(bare)
    with pytest.raises(ConfigError, match="instruction_set"):
        TabletopPick(get_robot("h1"), instruction_set="test")


def test_the_doc_says_how_the_task_is_scored():
    doc = env_doc("librobot/H1-TabletopPick-v0")
    for phrase in ("## Success Criteria", "wrong_object", "fell", "ee_delta_pose",
                   "## Rewards", "## Metrics", "GR00T"):
        assert phrase in doc, phrase


@pytest.mark.slow
@pytest.mark.parametrize("env_id", IDS)
def test_the_expert_succeeds_on_at_least_90_of_100_seeds(env_id):
    env = gym.make(env_id, obs_mode="state")
    try:
        wins = sum(_run(env, seed)[0]["is_success"] for seed in range(100))
    finally:
        env.close()
    assert wins >= 90, f"{wins}/100"
