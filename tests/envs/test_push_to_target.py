"""PushToTarget-v0: episodes where language names the block and the square, the marks (fixed,
flat, colliding with nothing), success and failure (the wrong object included), rewards, and
the pushing expert on both arms (and on the PyBullet twin)."""

import gymnasium as gym
import numpy as np
import pytest

from librobot_gym.envs.registration import env_doc
from librobot_gym.envs.tasks.lab_cell import TABLE_TOP
from librobot_gym.envs.tasks.objects import MARK_PROUD, make_object
from librobot_gym.envs.tasks.push_to_target import INSTRUCTIONS, MARKS, MODES, _segment_distance
from librobot_gym.envs.tasks.skills_push import PushSkill, push_start
from librobot_gym.policies import ExpertPolicy
from librobot_gym.policies.expert import ee_command_to_action
from tests.envs.tabletop_checks import expert_episode, run

IDS = ("librobot/Franka-PushToTarget-v0", "librobot/SO100-PushToTarget-v0")
ZERO = np.zeros(7, np.float32)


@pytest.fixture(params=IDS)
def env(request):
    env = gym.make(request.param, obs_mode="state_dict")
    yield env
    env.close()



def teleport(env, name, xy=None, dz=0.0):
    """Put free object `name` at `xy` (default: where it is), `dz` above its rest height."""
    sim, task = env.unwrapped.sim, env.unwrapped.task
    qpos, _ = sim.free[name]
    if xy is not None:
        sim.data.qpos[qpos: qpos + 2] = xy
    sim.data.qpos[qpos + 2] = task.rest_z(name) + dz


def test_the_instruction_names_block_and_square_and_only_language_tells_them(env):
    task = env.unwrapped.task
    modes, counts, squares, places = set(), set(), set(), set()
    for seed in range(40):
        _, info = env.reset(seed=seed)
        things = task.things()
        movable = [t for t in things if t.name not in MARKS]
        marks = [t for t in things if t.name in MARKS]
        target = next(t for t in movable if t.name == task.target)
        assert task.reference.picks_out(task.target, movable)
        place = task.place_reference
        if place is None:  # "the marked spot": there is only one
            assert len(marks) == 1
        else:
            assert place.picks_out(task.goal, marks)
        words = place.text() if place is not None else "marked spot"
        assert info["instruction"] in {t.format(target=task.reference.text(), place=words)
                                       for t in INSTRUCTIONS.train}
        # Another object shares the block's kind or colour: no guess is sure without words.
        assert any(t.name != target.name and (t.kind == target.kind or t.colour == target.colour)
                   for t in movable)
        if len(marks) > 1:  # several squares: the colour is said, and it is the goal's
            assert place.colour == task.active[task.goal].colour
        lay = task.layout
        for name in (task.target, task.goal):
            x, y = task.active[name].pos[:2]
            assert lay.reach_x_range[0] <= x <= lay.reach_x_range[1]
            assert lay.reach_y_range[0] <= y <= lay.reach_y_range[1]
        # Nothing else stands on the push's path.
        start = push_start(lay, task.active[task.target].pos, task.active[task.goal].pos,
                           task.footprint(task.target))[:2]
        for name in movable:
            if name.name != task.target:
                gap = _segment_distance(task.active[name.name].pos[:2], start,
                                        task.active[task.goal].pos[:2])
                assert gap > task.footprint(name.name)
        modes.add(task.mode)
        counts.add(len(movable))
        squares.add(len(marks))
        places.add(words.split()[-1])
    assert modes == set(MODES) and counts >= {2, 3} and squares == {1, 2, 3}
    assert places == {"square", "spot"}


def test_marks_lie_flat_where_the_reset_put_them_and_collide_with_nothing(env):
    sim, task = env.unwrapped.sim, env.unwrapped.task
    assert not make_object("mark", "m", 1.0).collide and make_object("mark", "m", 1.0).mass is None
    for seed in (0, 1):  # the second reset moves the marks again (fixed bodies, sleeping on)
        env.reset(seed=seed)
        for name in MARKS:
            placed = task.active.get(name)
            where = placed.pos if placed is not None else task.parking(name)[0]
            assert np.allclose(sim.data.body(name).xpos, where, atol=1e-9)
        top = sim.data.geom(task.goal).xpos[2] + sim.model.geom(task.goal).size[2]
        assert top == pytest.approx(TABLE_TOP + MARK_PROUD * task.scale, abs=1e-9)
    # A block dropped onto the square rests on the table through it.
    teleport(env, task.target, task.active[task.goal].pos[:2], dz=0.01)
    for _ in range(10):
        env.step(ZERO)
    assert task.lift(env.unwrapped.sim.world_state(), task.target) == pytest.approx(0, abs=2e-3)


def test_same_seed_same_scene_other_seed_other_scene(env):
    a = env.reset(seed=3)[0]["goal_pos"].copy(), env.unwrapped.instruction
    b = env.reset(seed=3)[0]["goal_pos"].copy(), env.unwrapped.instruction
    c = env.reset(seed=4)[0]["goal_pos"].copy(), env.unwrapped.instruction
    assert np.array_equal(a[0], b[0]) and a[1] == b[1]
    assert not np.array_equal(a[0], c[0])


def test_held_out_paraphrases_only_when_asked():
    env = gym.make(IDS[0], obs_mode="state", instruction_set="heldout")
    try:
        for seed in range(10):
            text = env.reset(seed=seed)[1]["instruction"]
            task = env.unwrapped.task
            words = task.place_reference.text() if task.place_reference else "marked spot"
            assert text in {t.format(target=task.reference.text(), place=words)
                            for t in INSTRUCTIONS.heldout}
    finally:
        env.close()


def test_the_block_on_its_square_is_success_and_not_when_lifted_or_on_another(env):
    task = env.unwrapped.task
    env.reset(seed=5)
    goal = task.active[task.goal].pos[:2]
    teleport(env, task.target, goal, dz=0.05)  # above the square: not on the table
    success, failure, _, metrics = task.evaluate(env.unwrapped.sim.world_state())
    assert not success and not failure and metrics["target_to_goal"] < 1e-9
    teleport(env, task.target, goal + np.array([0.0, 1.2 * task.radius]))  # just off it
    assert not task.evaluate(env.unwrapped.sim.world_state())[0]
    teleport(env, task.target, goal + np.array([0.0, 0.8 * task.radius]))
    _, reward, terminated, _, info = env.step(ZERO)
    assert terminated and info["is_success"] and reward == 1.0
    assert info["task_metrics"]["wrong_object"] == 0.0


def test_a_moved_distractor_is_a_wrong_object_failure(env):
    env.reset(seed=0)
    task = env.unwrapped.task
    other = next(n for n in task.active if n not in MARKS and n != task.target)
    teleport(env, other, task.active[other].pos[:2] + np.array([0.0, 0.02 * task.scale]))
    _, _, terminated, _, info = env.step(ZERO)  # 2 cm (Franka) is below the threshold
    assert not terminated and info["task_metrics"]["wrong_object"] == 0.0
    teleport(env, other, task.active[other].pos[:2] + np.array([0.0, 0.04 * task.scale]))
    _, reward, terminated, _, info = env.step(ZERO)
    assert terminated and not info["is_success"] and reward == 0.0
    assert info["task_metrics"]["wrong_object"] == 1.0
    assert info["task_metrics"]["distractors_moved"] > 0.03 * task.scale


def test_pushing_the_wrong_block_fails_the_episode(env):
    """The expert's own push, aimed at another block: wrong_object, ended."""
    unwrapped = env.unwrapped
    task = unwrapped.task
    for seed in range(40):
        env.reset(seed=seed)
        if task.mode == "colour":
            break
    other = next(n for n in task.active if task.kinds[n] == "block" and n != task.target)
    pos = task.active[other].pos
    aim = pos[:2] + 0.1 * task.scale * np.sign(0.01 - pos[1]) * np.array([0.0, 1.0])
    skill = PushSkill(task.layout, other, task.footprint(other), 0.05 * task.scale, aim)
    info, terminated = {}, False
    for _ in range(200):
        state = unwrapped.privileged_state()
        action = ee_command_to_action(state, skill.act(state), unwrapped.action_spec)
        _, _, terminated, truncated, info = env.step(action)
        if terminated or truncated:
            break
    assert terminated and not info["is_success"]
    assert info["task_metrics"]["wrong_object"] == 1.0


def test_the_block_off_the_table_is_a_failure(env):
    env.reset(seed=0)
    task = env.unwrapped.task
    teleport(env, task.target, dz=-0.2)
    _, _, terminated, _, info = env.step(ZERO)
    assert terminated and not info["is_success"]


def test_dense_reward_has_signal_at_reset_grows_with_progress_and_sparse_pays_success():
    env = gym.make(IDS[0], obs_mode="state")
    sparse = gym.make(IDS[0], obs_mode="state", reward_type="sparse")
    try:
        for seed in range(3):
            env.reset(seed=seed)
            task, sim = env.unwrapped.task, env.unwrapped.sim
            start = task.reward(sim.world_state(), False)
            assert 0.01 < start < 0.3
            block, goal = task.active[task.target].pos[:2], task.active[task.goal].pos[:2]
            teleport(env, task.target, (block + goal) / 2)  # half way: progress 0.5
            halfway = task.reward(sim.world_state(), False)
            assert halfway > start + 0.25
            sparse.reset(seed=seed)
            assert sparse.unwrapped.task.reward(sparse.unwrapped.sim.world_state(), False) == 0
        rewards, _, info = expert_episode(sparse, seed=2)
        assert info["is_success"] and rewards[-1] == 1.0 and set(rewards[:-1]) == {0.0}
    finally:
        env.close()
        sparse.close()


def test_the_expert_pushes_on_the_pybullet_twin_too():
    """The -Real- id on its stand-in: the twin builds blocks and marks from primitives, and
    the same expert, on a second physics engine, pushes the block onto its square."""
    pytest.importorskip("pybullet")
    env = gym.make("librobot/Franka-PushToTarget-Real-v0", obs_mode="state",
                   driver="twin:lockstep")
    try:
        expert = ExpertPolicy(env)
        for seed in range(2):
            expert.reset()
            info, _ = run(env, expert.act, seed)
            assert info["is_success"] and info["task_metrics"]["wrong_object"] == 0.0
    finally:
        env.close()


def test_the_doc_says_what_the_task_is():
    doc = env_doc(IDS[1])
    for heading in ("## Description", "## Rewards", "## Metrics", "## Success"):
        assert heading in doc
    assert "wrong_object" in doc and "SO100-PushToTarget-v0" in doc
