"""PressButton-v0: episodes where language names the button among others of other colours
(or, by relation, of its own), the buttons where the reset put them, success and failure (the
wrong button and a pushed distractor), rewards, and the pressing expert on both arms."""

import gymnasium as gym
import numpy as np
import pytest

from librobot_gym.envs.registration import env_doc
from librobot_gym.envs.tasks.objects import PRESS_TRAVEL
from librobot_gym.envs.tasks.press_button import BUTTONS, INSTRUCTIONS, MODES, OTHERS
from librobot_gym.envs.tasks.skills_push import PressSkill
from librobot_gym.policies.expert import ee_command_to_action
from tests.envs.tabletop_checks import expert_episode

IDS = ("librobot/Franka-PressButton-v0", "librobot/SO100-PressButton-v0")
ZERO = np.zeros(7, np.float32)


@pytest.fixture(params=IDS)
def env(request):
    env = gym.make(request.param, obs_mode="state_dict")
    yield env
    env.close()



def press(env, name, depth, steps=6):
    """Push button `name`'s cap down with the force that holds it `depth` (m) down against
    its spring and weight, as a finger would, for a few steps; the last step's result."""
    sim = env.unwrapped.sim
    joint = sim.model.joint(f"{name}_cap")
    weight = sim.model.body(f"{name}_cap").mass[0] * 9.81
    sim.data.qfrc_applied[joint.dofadr[0]] = -(joint.stiffness[0] * depth - weight)
    for _ in range(steps):
        result = env.step(ZERO)
        if result[2]:
            break
    return result


def test_the_instruction_names_the_button_and_only_language_tells_it(env):
    task = env.unwrapped.task
    modes, counts, shared = set(), set(), False
    for seed in range(60):
        _, info = env.reset(seed=seed)
        things = task.things()
        buttons = [t for t in things if t.name in BUTTONS]
        target = next(t for t in things if t.name == task.target)
        assert task.reference.picks_out(task.target, things)
        assert info["instruction"] in {t.format(target=task.reference.text())
                                       for t in INSTRUCTIONS.train}
        assert len(buttons) >= 2 and task.reference.kind == "button"
        if task.mode == "colour":  # every button another colour: the colour decides
            assert len({t.colour for t in buttons}) == len(buttons)
            assert task.reference.colour == target.colour
            shared |= any(t.colour == target.colour for t in things if t.name in OTHERS)
        else:  # a twin of the target's colour: only the relation helps
            assert any(t.name != target.name and t.colour == target.colour for t in buttons)
            assert task.reference.relation in ("left of", "right of")
        lay = task.layout
        x, y = task.active[task.target].pos[:2]
        assert lay.reach_x_range[0] <= x <= lay.reach_x_range[1]
        assert lay.reach_y_range[0] <= y <= lay.reach_y_range[1]
        modes.add(task.mode)
        counts.add(len(buttons))
    assert modes == set(MODES) and counts == {2, 3, 4} and shared


def test_buttons_stand_where_the_reset_put_them_and_start_up(env):
    sim, task = env.unwrapped.sim, env.unwrapped.task
    for seed in (0, 1):  # the second reset moves them again (fixed bodies, sleeping on)
        obs, _ = env.reset(seed=seed)
        for name in BUTTONS:
            placed = task.active.get(name)
            where = placed.pos if placed is not None else task.parking(name)[0]
            assert np.allclose(sim.data.body(name).xpos, where, atol=1e-9)
        cap = sim.data.body(f"{task.target}_cap")
        top = cap.xpos[2] + sim.model.geom(f"{task.target}_cap_part0").size[1]
        assert obs["button_pos"] == pytest.approx([*cap.xpos[:2], top], abs=2e-3)
        state = sim.world_state()
        assert task.depth(state, task.target) < task.threshold / 2  # sprung up at rest
        assert not task.evaluate(state)[0]


def test_same_seed_same_scene_other_seed_other_scene(env):
    a = env.reset(seed=3)[0]["button_pos"].copy(), env.unwrapped.instruction
    b = env.reset(seed=3)[0]["button_pos"].copy(), env.unwrapped.instruction
    c = env.reset(seed=4)[0]["button_pos"].copy(), env.unwrapped.instruction
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


def test_pressed_past_half_its_travel_is_success(env):
    env.reset(seed=0)
    task = env.unwrapped.task
    travel = PRESS_TRAVEL * task.scale
    _, _, terminated, _, info = press(env, task.target, 0.25 * travel)  # it rings a little
    assert not terminated and not info["is_success"]
    assert 0.1 * travel < info["task_metrics"]["press_depth"] < 0.5 * travel
    _, reward, terminated, _, info = press(env, task.target, 0.8 * travel)
    assert terminated and info["is_success"] and reward == 1.0


def test_pressing_another_button_is_a_wrong_object_failure(env):
    env.reset(seed=0)
    task = env.unwrapped.task
    other = next(n for n in task.active if n in BUTTONS and n != task.target)
    _, reward, terminated, _, info = press(env, other, 0.8 * PRESS_TRAVEL * task.scale)
    assert terminated and not info["is_success"] and reward == 0.0
    assert info["task_metrics"]["wrong_object"] == 1.0
    assert info["task_metrics"]["others_pressed"] > task.threshold


def test_the_expert_pressing_another_button_fails_the_episode(env):
    """The expert's own press, aimed at another button: wrong_object, ended."""
    unwrapped = env.unwrapped
    task = unwrapped.task
    env.reset(seed=1)
    other = next(n for n in task.active if n in BUTTONS and n != task.target)
    skill = PressSkill(task.layout, task.cap_position(other), 2 * PRESS_TRAVEL * task.scale)
    info, terminated = {}, False
    for _ in range(200):
        state = unwrapped.privileged_state()
        action = ee_command_to_action(state, skill.act(state), unwrapped.action_spec)
        _, _, terminated, truncated, info = env.step(action)
        if terminated or truncated:
            break
    assert terminated and not info["is_success"]
    assert info["task_metrics"]["wrong_object"] == 1.0


def test_a_pushed_distractor_is_a_wrong_object_failure():
    env = gym.make(IDS[0], obs_mode="state")
    try:
        task = env.unwrapped.task
        seed = next(s for s in range(40) if env.reset(seed=s) and set(OTHERS) & set(task.active))
        name = next(n for n in OTHERS if n in task.active)
        sim = env.unwrapped.sim
        qpos, _ = sim.free[name]
        sim.data.qpos[qpos] += 0.05
        _, reward, terminated, _, info = env.step(ZERO)
        assert terminated and reward == 0.0 and info["task_metrics"]["wrong_object"] == 1.0, seed
    finally:
        env.close()


def test_dense_reward_has_signal_at_reset_grows_with_the_press_and_sparse_pays_success():
    env = gym.make(IDS[0], obs_mode="state")
    sparse = gym.make(IDS[0], obs_mode="state", reward_type="sparse")
    try:
        for seed in range(3):
            env.reset(seed=seed)
            task, sim = env.unwrapped.task, env.unwrapped.sim
            start = task.reward(sim.world_state(), False)
            assert 0.01 < start < 0.4
            joint = sim.model.joint(f"{task.target}_cap")
            sim.data.qpos[joint.qposadr[0]] = -0.8 * task.threshold
            assert task.reward(sim.world_state(), False) > start + 0.35
            sparse.reset(seed=seed)
            assert sparse.unwrapped.task.reward(sparse.unwrapped.sim.world_state(), False) == 0
        rewards, _, info = expert_episode(sparse, seed=2)
        assert info["is_success"] and rewards[-1] == 1.0 and set(rewards[:-1]) == {0.0}
    finally:
        env.close()
        sparse.close()


def test_the_doc_says_what_the_task_is():
    doc = env_doc(IDS[0])
    for heading in ("## Description", "## Rewards", "## Metrics", "## Success"):
        assert heading in doc
    assert "wrong_object" in doc and "Franka-PressButton-v0" in doc
