"""PickCup-v1: episodes where language decides the target, success and failure (the wrong
object included), rewards, and the scripted expert on both arms."""

import gymnasium as gym
import numpy as np
import pytest

from librobot_gym.envs.tasks.grasping import GraspSkill
from librobot_gym.envs.tasks.pick_cup_v1 import INSTRUCTIONS, MODES
from librobot_gym.policies import ExpertPolicy
from librobot_gym.policies.expert import ee_command_to_action
from tests.envs.tabletop_checks import expert_episode, run

IDS = ("librobot/Franka-PickCup-v1", "librobot/SO100-PickCup-v1")


@pytest.fixture(params=IDS)
def env(request):
    env = gym.make(request.param, obs_mode="state_dict")
    yield env
    env.close()



def test_the_instruction_picks_out_the_target_and_only_language_tells_it(env):
    task = env.unwrapped.task
    modes, counts = set(), set()
    for seed in range(40):
        _, info = env.reset(seed=seed)
        things = task.things()
        target = next(t for t in things if t.name == task.target)
        assert task.reference.picks_out(task.target, things)
        assert f"the {task.reference.text()}" in info["instruction"]
        assert info["instruction"] in {t.format(target=task.reference.text())
                                       for t in INSTRUCTIONS.train}
        # Another object shares the target's kind or colour: no guess is sure without words.
        assert any(t.name != target.name and (t.kind == target.kind or t.colour == target.colour)
                   for t in things)
        if task.mode == "relation":  # a twin the same kind and colour: only the relation helps
            assert any(t.name != target.name and (t.kind, t.colour) == (target.kind,
                                                                        target.colour)
                       for t in things)
        lay = task.layout
        x, y = task.active[task.target].pos[:2]
        assert lay.reach_x_range[0] <= x <= lay.reach_x_range[1]
        assert lay.reach_y_range[0] <= y <= lay.reach_y_range[1]
        modes.add(task.mode)
        counts.add(len(task.active))
    assert modes == set(MODES) and counts == {2, 3, 4, 5}


def test_left_and_right_are_the_front_images(env):
    """"The cup left of the bowl" stands left of the bowl in the front camera's image."""
    import mujoco

    sim = env.unwrapped.sim
    checked = 0
    for seed in range(60):
        env.reset(seed=seed)
        task = env.unwrapped.task
        if task.mode != "relation":
            continue
        landmark = next(t for t in task.things()
                        if task.reference.landmark.picks_out(t.name, task.things()))
        columns = {}
        for name in (task.target, landmark.name):
            pixel = np.zeros(2)
            mujoco.mj_forward(sim.model, sim.data)
            cam = sim.data.camera("front")
            rel = cam.xmat.reshape(3, 3).T @ (sim.data.body(name).xpos - cam.xpos)
            pixel = rel[0] / -rel[2]  # image x, right positive
            columns[name] = pixel
        left = columns[task.target] < columns[landmark.name]
        assert left == (task.reference.relation == "left of"), seed
        checked += 1
    assert checked >= 5


def test_same_seed_same_scene_other_seed_other_scene(env):
    a = env.reset(seed=3)[0]["target_pos"].copy(), env.unwrapped.instruction
    b = env.reset(seed=3)[0]["target_pos"].copy(), env.unwrapped.instruction
    c = env.reset(seed=4)[0]["target_pos"].copy(), env.unwrapped.instruction
    assert np.array_equal(a[0], b[0]) and a[1] == b[1]
    assert not np.array_equal(a[0], c[0])


def test_held_out_paraphrases_only_when_asked():
    env = gym.make(IDS[0], obs_mode="state", instruction_set="heldout")
    try:
        for seed in range(10):
            text = env.reset(seed=seed)[1]["instruction"]
            ref = env.unwrapped.task.reference.text()
            assert text in {t.format(target=ref) for t in INSTRUCTIONS.heldout}
    finally:
        env.close()


def test_lifting_without_holding_is_not_success(env):
    env.reset(seed=0)
    sim, task = env.unwrapped.sim, env.unwrapped.task
    qpos, _ = sim.free[task.target]
    sim.data.qpos[qpos + 2] += task.layout.lift_success + 0.02  # teleported up: not held
    success, failure, _, metrics = task.evaluate(sim.world_state())
    assert not success and metrics["lift_height"] > task.layout.lift_success
    assert metrics["wrong_object"] == 0.0


def test_a_lifted_distractor_is_a_wrong_object_failure(env):
    env.reset(seed=0)
    sim, task = env.unwrapped.sim, env.unwrapped.task
    other = next(n for n in task.active if n != task.target)
    qpos, _ = sim.free[other]
    sim.data.qpos[qpos + 2] += task.layout.lift_success  # someone picked it up
    _, reward, terminated, _, info = env.step(np.zeros(7, np.float32))
    assert terminated and not info["is_success"] and reward == 0.0
    assert info["task_metrics"]["wrong_object"] == 1.0


def test_grasping_the_wrong_object_fails_the_episode(env):
    """The expert's own grasp, aimed at a distractor the arm can reach: wrong_object, ended."""
    unwrapped = env.unwrapped
    task = unwrapped.task
    for seed in range(40):
        env.reset(seed=seed)
        lay = task.layout
        reachable = [n for n, p in task.active.items() if n != task.target
                     and task.kinds[n] in ("cup", "mug", "block")
                     and lay.reach_x_range[0] <= p.pos[0] <= lay.reach_x_range[1]
                     and lay.reach_y_range[0] <= p.pos[1] <= lay.reach_y_range[1]]
        if reachable:
            break
    name = reachable[0]
    skill = GraspSkill(lay, name, task.kinds[name], task.rest_z(name))
    info, terminated = {}, False
    for _ in range(200):
        state = unwrapped.privileged_state()
        action = ee_command_to_action(state, skill.act(state), unwrapped.action_spec)
        _, _, terminated, truncated, info = env.step(action)
        if terminated or truncated:
            break
    assert terminated and not info["is_success"]
    assert info["task_metrics"]["wrong_object"] == 1.0


def test_a_knocked_over_target_is_a_failure(env):
    env.reset(seed=0)
    sim, task = env.unwrapped.sim, env.unwrapped.task
    qpos, _ = sim.free[task.target]
    sim.data.qpos[qpos + 3: qpos + 7] = [np.cos(np.pi / 4), np.sin(np.pi / 4), 0, 0]
    _, _, terminated, _, info = env.step(np.zeros(7, np.float32))
    assert terminated and not info["is_success"]


def test_dense_reward_has_signal_at_reset_and_sparse_pays_only_success():
    for reward_type in ("dense", "sparse"):
        env = gym.make(IDS[0], obs_mode="state", reward_type=reward_type)
        try:
            rewards, _, info = expert_episode(env, seed=2)
            assert info["is_success"] and rewards[-1] == 1.0
            if reward_type == "dense":
                assert rewards[0] > 0.01 and max(rewards[:-1]) > 0.5  # reach, hold, lift
            else:
                assert set(rewards[:-1]) == {0.0}
        finally:
            env.close()


def test_the_expert_lifts_the_named_cup_on_the_pybullet_twin_too():
    """The -Real- id on its stand-in: the twin builds the pool from its primitives (meshes are
    looks only) and the same expert, on a second physics engine, lifts the target."""
    pytest.importorskip("pybullet")
    env = gym.make("librobot/Franka-PickCup-Real-v1", obs_mode="state", driver="twin:lockstep")
    try:
        expert = ExpertPolicy(env)
        for seed in range(2):
            expert.reset()
            info, _ = run(env, expert.act, seed)
            assert info["is_success"] and info["task_metrics"]["wrong_object"] == 0.0
    finally:
        env.close()
