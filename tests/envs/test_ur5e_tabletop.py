"""The UR5e's tabletop rows (issue 18): every task of the suite, a -Real- row for each, the
2F-85's pusher and release numbers measured on its model and what the cameras show (its
scripted experts on fresh seeds: test_tabletop_experts.py, with every arm's). The tasks' own
behaviour (language, judging, rewards) is tested per task on the Franka and the SO-100; what
is the UR5e's own is tested here."""

from dataclasses import replace

import gymnasium as gym
import numpy as np
import pytest

from librobot_gym.envs.registration import env_doc, env_entries, env_entry
from librobot_gym.envs.tasks import get_task
from librobot_gym.envs.tasks.skills_push import pusher_point
from librobot_gym.envs.tasks.tabletop import TabletopTask
from librobot_gym.policies import ExpertPolicy
from tests.envs.test_tabletop_scene import extent, segment

IDS = ("librobot/UR5e-PickCup-v1", "librobot/UR5e-OpenDrawer-v0",
       "librobot/UR5e-CloseDrawer-v0", "librobot/UR5e-PushToTarget-v0",
       "librobot/UR5e-PressButton-v0", "librobot/UR5e-PlaceInContainer-v0",
       "librobot/UR5e-StackBlocks-v0")


def real_id(env_id: str) -> str:
    name, version = env_id.rsplit("-", 1)
    return f"{name}-Real-{version}"


def test_every_tabletop_task_of_the_franka_has_a_ur5e_row_and_a_real_row():
    """The UR5e reaches what the Franka reaches (0.85 m): it gets every tabletop task, with
    the same step limit, and a -Real- row beside each."""
    franka = {e.task: e for e in env_entries() if e.robot == "franka_panda" and not e.real
              and issubclass(get_task(e.task), TabletopTask)}
    ours = {env_entry(i).task: env_entry(i) for i in IDS}
    assert set(ours) == set(franka)
    for task, entry in ours.items():
        assert entry.robot == "ur5e" and not entry.real
        assert entry.max_episode_steps == franka[task].max_episode_steps
        real = env_entry(real_id(entry.id))
        assert real.real and (real.robot, real.task, real.max_episode_steps) == \
            ("ur5e", task, entry.max_episode_steps)


@pytest.mark.parametrize("env_id", IDS)
def test_the_docs_name_the_ur5e_id(env_id):
    doc = env_doc(env_id)
    assert env_id in doc and "## Success and Episode End" in doc


def test_the_pusher_is_the_closed_pads_bottom_middle():
    """The layout's pusher numbers (PushToTarget, PressButton) are the 2F-85's: with the
    gripper closed, `pusher_point` is the middle of the pads' lowest face, and the pads fit
    within `pusher_half` of it across."""
    env = gym.make("librobot/UR5e-PushToTarget-v0", obs_mode="state")
    try:
        env.reset(seed=0)
        action = np.zeros(7, np.float32)
        action[6] = env.unwrapped.task.layout.pusher_gripper
        for _ in range(6):
            env.step(action)
        sim, lay = env.unwrapped.sim, env.unwrapped.task.layout
        state = sim.world_state()
        corners = []
        for pad in env.unwrapped.robot.gripper.pad_geoms:
            geom = sim.data.geom(pad)
            half = sim.model.geom(pad).size
            signs = np.array(np.meshgrid(*[[-1, 1]] * 3)).reshape(3, -1).T
            corners += [geom.xpos + geom.xmat.reshape(3, 3) @ (s * half) for s in signs]
        corners = np.array(corners)
        bottom = corners[:, 2].min()
        pusher = pusher_point(lay, state.ee_pos, state.ee_rot)
        assert pusher[2] == pytest.approx(bottom, abs=0.0015)
        np.testing.assert_allclose(pusher[:2], corners[:, :2].mean(axis=0), atol=0.0015)
        across = np.abs(corners[:, :2] - pusher[:2]).max(axis=0)
        assert across.max() <= lay.pusher_half + 0.0015
    finally:
        env.close()


def _block_into_bowl_seed(env) -> int:
    task = env.unwrapped.task
    for seed in range(60):
        env.reset(seed=seed)
        if task.kinds[task.target] == "block" and task.kinds[task.container] == "bowl":
            return seed
    raise AssertionError("no block-into-bowl episode in seeds 0-59")


def test_letting_go_in_a_bowl_opens_only_as_wide_as_the_margin():
    """The 2F-85's pads, opened fully around a block in a bowl, press on the bowl's slanted
    walls from both sides and hold the bowl (wrong_object). The UR5e's layout lets go 2 cm
    wider than the block; with the Franka's full release the same episode fails."""
    env = gym.make("librobot/UR5e-PlaceInContainer-v0", obs_mode="state")
    try:
        unwrapped = env.unwrapped
        seed = _block_into_bowl_seed(env)
        full = unwrapped.robot.gripper.max_opening
        results = {}
        for margin in (unwrapped.task.layout.release_margin, 0.0):
            unwrapped.task.layout = replace(unwrapped.task.layout, release_margin=margin)
            expert = ExpertPolicy(env)
            expert.reset()
            obs, _ = env.reset(seed=seed)
            widest, bowl_held = 0.0, False
            for _ in range(env.spec.max_episode_steps):
                obs, _, terminated, truncated, info = env.step(expert.act(obs))
                state = unwrapped.sim.world_state()
                bowl_held |= bool(state.grasped[unwrapped.task.container])
                place = expert.expert.place
                if place is not None and place.phase >= place.RELEASE:
                    widest = max(widest, state.gripper_opening)
                if terminated or truncated:
                    break
            results[margin] = (info["is_success"], bowl_held, widest)
        assert results[0.02][:2] == (True, False)
        assert results[0.02][2] < 0.05 + 0.02 + 0.005 < full  # the block is 5 cm wide
        assert results[0.0][1]  # opened fully, the pads held the bowl
    finally:
        env.close()


@pytest.mark.parametrize("env_id", IDS)
def test_every_object_is_twelve_pixels_at_128_and_parked_ones_unseen(env_id):
    env = gym.make(env_id, obs_mode="state")
    try:
        model = env.unwrapped.sim.model
        env.reset(seed=0)
        task = env.unwrapped.task
        seen = segment(env, "front", 128)
        for name in task.active:
            assert extent(seen == model.body(name).id) >= 12, name
        parked = [model.body(n).id for n, _ in task.pool if n not in task.active]
        assert not np.isin(seen, parked).any()
        assert not np.isin(segment(env, "wrist", 64), parked).any()
        assert (seen >= 0).all()  # the room, not void
    finally:
        env.close()


def test_the_wrist_view_shows_both_pads_and_the_target_between_them():
    env = gym.make(IDS[0], obs_mode="state")
    try:
        sim = env.unwrapped.sim
        pads = {int(sim.model.geom_bodyid[sim.model.geom(g).id])
                for g in env.unwrapped.robot.gripper.pad_geoms}
        expert = ExpertPolicy(env)
        obs, _ = env.reset(seed=1)
        expert.reset()
        for _ in range(200):  # to the moment the fingers close on the target
            obs, *_ = env.step(expert.act(obs))
            if expert.expert.skill.phase == expert.expert.skill.CLOSE:
                break
        seen = segment(env, "wrist", 128)
        assert all((seen == pad).any() for pad in pads), "a finger is out of the wrist view"
        target = sim.model.body(env.unwrapped.task.target).id
        assert (seen == target).mean() > 0.05 and np.isin(seen, list(pads)).mean() < 0.3
        assert 0.25 * 128 < np.nonzero(seen == target)[1].mean() < 0.75 * 128
    finally:
        env.close()


# --- the -Real- rows ----------------------------------------------------------------------------
@pytest.mark.parametrize("env_id", IDS[3::2])
def test_a_real_row_runs_on_the_emulated_controller_and_says_what_it_cannot_judge(env_id):
    """A -Real- row on its stand-in, the UR controller emulator on loopback in lockstep: it
    simulates the arm, not the cell, so state observations need its placeholder scene (the
    objects where the reset put them, judging nothing) and the privileged expert is refused."""
    from librobot_gym.errors import ConfigError
    from librobot_gym.policies import make_policy

    with pytest.raises(ConfigError, match="simulates only the arm"):
        gym.make(real_id(env_id), obs_mode="state", driver="ur:emulator:lockstep",
                 operator="auto")
    env = gym.make(real_id(env_id), obs_mode="state",
                   driver="ur:emulator:lockstep?scene=static", operator="auto")
    try:
        obs, info = env.reset(seed=3)
        assert env.observation_space.contains(obs) and info["instruction"]
        for _ in range(5):
            obs, _, terminated, _, info = env.step(env.action_space.sample())
            assert env.observation_space.contains(obs) and not terminated
        assert not info["is_success"]
        with pytest.raises(ConfigError, match="privileged state"):
            make_policy("expert", env).act(obs)
    finally:
        env.close()
