"""StackBlocks-v0: episodes where both blocks must be read, what "on" means, success only once
released, clear and steady for 0.5 s, wrong objects (another block moved, lifted, or the top
stacked on the wrong block), rewards, and the stacking expert on both arms."""

from dataclasses import replace

import gymnasium as gym
import numpy as np
import pytest

from librobot_gym.envs.registration import env_doc
from librobot_gym.envs.tasks.language import Thing
from librobot_gym.envs.tasks.placement import quat_yaw
from librobot_gym.envs.tasks.stack_blocks import (
    HALF,
    INSTRUCTIONS,
    MODES,
    STEADY_TIME,
    coloured_relation,
)
from librobot_gym.policies import ExpertPolicy
from tests.envs.tabletop_checks import expert_episode, run

IDS = ("librobot/Franka-StackBlocks-v0", "librobot/SO100-StackBlocks-v0")


@pytest.fixture(params=IDS)
def env(request):
    env = gym.make(request.param, obs_mode="state_dict")
    yield env
    env.close()



def stack(env, top, bottom, dx=0.0):
    """Teleport block `top` onto block `bottom` (`dx` m off centre along the bottom's own x),
    square to it, at rest."""
    sim, task = env.unwrapped.sim, env.unwrapped.task
    qpos, qvel = sim.free[top]
    below = sim.free[bottom][0]
    yaw = quat_yaw(sim.data.qpos[below + 3: below + 7])
    sim.data.qpos[qpos: qpos + 3] = sim.data.qpos[below: below + 3] + \
        [dx * np.cos(yaw), dx * np.sin(yaw), 2 * HALF * task.scale + 0.0005]
    sim.data.qpos[qpos + 3: qpos + 7] = sim.data.qpos[below + 3: below + 7]
    sim.data.qvel[qvel: qvel + 6] = 0.0


def idle(env, steps):
    action = np.zeros(7, np.float32)
    action[6] = 1.0
    for i in range(steps):
        out = env.step(action)
        if out[2] or out[3]:
            return out, i + 1
    return out, steps


def test_a_coloured_relation_tells_look_alikes_apart():
    things = [Thing("a", "block", "red", -0.1), Thing("b", "block", "red", 0.1),
              Thing("c", "block", "blue", 0.15), Thing("cup", "cup", "green", 0.0)]
    ref = coloured_relation(things[0], things, 0.04)
    assert ref.text() == "red block left of the cup" and ref.picks_out("a", things)
    assert coloured_relation(things[0], things, 0.15) is None  # not beyond doubt


def test_both_blocks_must_be_read(env):
    task = env.unwrapped.task
    modes, counts = set(), set()
    for seed in range(40):
        _, info = env.reset(seed=seed)
        things = task.things()
        blocks = [t for t in things if t.kind == "block"]
        assert len(blocks) >= 3  # naming the top does not name the bottom
        assert task.reference.picks_out(task.target, things)
        assert task.base_reference.picks_out(task.base, things)
        assert info["instruction"] in {
            t.format(target=task.reference.text(), base=task.base_reference.text())
            for t in INSTRUCTIONS.train}
        if task.mode == "relation":  # one of them has a look-alike: the relation decides
            named = task.reference if task.reference.relation else task.base_reference
            assert named.relation is not None and named.landmark.kind != "block"
        lay = task.layout
        for name in (task.target, task.base):
            x, y = task.active[name].pos[:2]
            assert lay.reach_x_range[0] <= x <= lay.reach_x_range[1]
            assert lay.reach_y_range[0] <= y <= lay.reach_y_range[1]
        modes.add(task.mode)
        counts.add(len(blocks))
    assert modes == set(MODES) and counts == {3, 4}


def test_same_seed_same_scene(env):
    a = env.reset(seed=5)[0]["place_pos"].copy(), env.unwrapped.instruction
    b = env.reset(seed=5)[0]["place_pos"].copy(), env.unwrapped.instruction
    assert np.array_equal(a[0], b[0]) and a[1] == b[1]


def test_held_out_paraphrases_only_when_asked():
    env = gym.make(IDS[1], obs_mode="state", instruction_set="heldout")
    try:
        task = env.unwrapped.task
        for seed in range(10):
            text = env.reset(seed=seed)[1]["instruction"]
            assert text in {t.format(target=task.reference.text(),
                                     base=task.base_reference.text())
                            for t in INSTRUCTIONS.heldout}
    finally:
        env.close()


# --- success and failure --------------------------------------------------------------------
def test_stacked_released_and_steady_for_half_a_second_is_success(env):
    env.reset(seed=0)
    task = env.unwrapped.task
    stack(env, task.target, task.base)
    (_, reward, terminated, _, info), steps = idle(env, 20)
    assert terminated and info["is_success"] and reward == 1.0
    assert info["task_metrics"]["stacked"] == 1.0
    assert steps * 0.05 >= STEADY_TIME  # not before it stood still that long


def test_beside_the_block_or_held_or_touched_is_not_a_stack(env):
    env.reset(seed=0)
    sim, task = env.unwrapped.sim, env.unwrapped.task
    stack(env, task.target, task.base, dx=1.2 * HALF * task.scale)  # off its top face
    state = sim.world_state()
    assert not task.stacked_on(state, task.target, task.base)
    stack(env, task.target, task.base)
    state = sim.world_state()
    assert task.stacked_on(state, task.target, task.base)
    held = replace(state, grasped={**state.grasped, task.target: True}, time=1.0)
    touching = replace(state, ee_pos=state.object_pos[task.target].copy(), time=2.0)
    for other in (held, touching):
        success, _, _, metrics = task.evaluate(other)
        assert not success and metrics["released"] == 0.0 and metrics["stacked"] == 1.0


def test_the_top_on_another_block_is_a_wrong_object_failure(env):
    env.reset(seed=0)
    task = env.unwrapped.task
    other = next(n for n in task.active if n not in (task.target, task.base)
                 and task.kinds[n] == "block")
    stack(env, task.target, other)
    (_, reward, terminated, _, info), _ = idle(env, 3)
    assert terminated and not info["is_success"] and reward == 0.0
    assert info["task_metrics"]["wrong_object"] == 1.0


def test_another_block_moved_off_its_place_is_a_wrong_object_failure(env):
    env.reset(seed=0)
    sim, task = env.unwrapped.sim, env.unwrapped.task
    other = next(n for n in task.active if n not in (task.target, task.base)
                 and task.kinds[n] == "block")
    qpos, _ = sim.free[other]
    sim.data.qpos[qpos] += 0.03 * task.scale  # pushed 3 cm (at the Franka's scale)
    _, reward, terminated, _, info = env.step(np.zeros(7, np.float32))
    assert terminated and not info["is_success"] and reward == 0.0
    assert info["task_metrics"]["wrong_object"] == 1.0
    # A nudge of a few millimetres is not "moved off its place".
    env.reset(seed=0)
    sim.data.qpos[qpos] += 0.005 * task.scale
    _, _, terminated, _, info = env.step(np.zeros(7, np.float32))
    assert not terminated and info["task_metrics"]["wrong_object"] == 0.0


def test_a_block_off_the_table_is_a_failure(env):
    env.reset(seed=0)
    sim, task = env.unwrapped.sim, env.unwrapped.task
    qpos, _ = sim.free[task.base]
    sim.data.qpos[qpos + 2] = -0.3
    _, _, terminated, _, info = env.step(np.zeros(7, np.float32))
    assert terminated and not info["is_success"]


def test_dense_reward_climbs_through_the_stages_and_sparse_pays_only_success():
    for reward_type in ("dense", "sparse"):
        env = gym.make(IDS[1], obs_mode="state", reward_type=reward_type)
        try:
            rewards, metrics, info = expert_episode(env, seed=1)
            assert info["is_success"] and rewards[-1] == 1.0
            if reward_type == "dense":
                held = [r for r, m in zip(rewards, metrics, strict=True) if m["grasped"]]
                stacked = [r for r, m in zip(rewards, metrics, strict=True)
                           if m["stacked"] and m["released"]]
                assert rewards[0] > 0.01 and max(held) > 0.5 and min(stacked[:-1]) > max(held)
            else:
                assert set(rewards[:-1]) == {0.0}
        finally:
            env.close()


def test_the_doc_says_what_success_is():
    doc = env_doc(IDS[0])
    assert doc.startswith("## Description") and "0.5 s" in doc and "wrong_object" in doc


# --- the expert -----------------------------------------------------------------------------
def test_the_expert_stacks_on_the_pybullet_twin_too():
    """The -Real- id on its stand-in: the same expert stacks on a second physics engine."""
    pytest.importorskip("pybullet")
    env = gym.make("librobot/Franka-StackBlocks-Real-v0", obs_mode="state",
                   driver="twin:lockstep")
    try:
        expert = ExpertPolicy(env)
        info, _ = run(env, expert.act, 0)
        assert info["is_success"] and info["task_metrics"]["stacked"] == 1.0
    finally:
        env.close()


@pytest.mark.parametrize("env_id", IDS)
def test_every_object_is_twelve_pixels_at_128_and_parked_ones_unseen(env_id):
    """What test_tabletop_scene checks for PickCup-v1, for this task's pool and draws."""
    from tests.envs.test_tabletop_scene import extent, segment

    env = gym.make(env_id, obs_mode="state")
    try:
        model = env.unwrapped.sim.model
        for seed in range(2):
            env.reset(seed=seed)
            task = env.unwrapped.task
            seen = {size: segment(env, "front", size) for size in (128, 64)}
            for name in task.active:
                body = model.body(name).id
                assert extent(seen[128] == body) >= 12, (seed, name)
                assert extent(seen[64] == body) >= 5, (seed, name)
            parked = [model.body(n).id for n, _ in task.pool if n not in task.active]
            assert not np.isin(seen[64], parked).any()
            assert not np.isin(segment(env, "wrist", 64), parked).any()
    finally:
        env.close()
