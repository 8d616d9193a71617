"""OpenDrawer and CloseDrawer: a row of cabinets where only the instruction tells whose drawer
to move, the cabinet kind the row is made of, success and failure (another drawer or the free
object moved: wrong_object), rewards, and the scripted expert on both arms."""

import math

import gymnasium as gym
import mujoco
import numpy as np
import pytest

from librobot_gym.envs.registration import env_doc
from librobot_gym.envs.tasks.close_drawer import INSTRUCTIONS as CLOSE
from librobot_gym.envs.tasks.drawers import (
    CABINETS,
    MODES,
    MOVED_FRACTION,
    REACH_MARGIN,
    joint_key,
)
from librobot_gym.envs.tasks.objects import CABINET_TRAVEL, KINDS, make_object
from librobot_gym.envs.tasks.open_drawer import INSTRUCTIONS as OPEN
from librobot_gym.envs.tasks.skills_drawer import PullSkill
from librobot_gym.policies import ExpertPolicy
from librobot_gym.policies.expert import ee_command_to_action
from tests.envs.test_tabletop_scene import extent, model_with, on_table, segment

IDS = ("librobot/Franka-OpenDrawer-v0", "librobot/SO100-OpenDrawer-v0",
       "librobot/Franka-CloseDrawer-v0", "librobot/SO100-CloseDrawer-v0")
TEMPLATES = {"open_drawer": OPEN, "close_drawer": CLOSE}


@pytest.fixture(params=IDS)
def env(request):
    env = gym.make(request.param, obs_mode="state_dict")
    yield env
    env.close()



def set_opening(env, name, q):
    sim = env.unwrapped.sim
    sim.data.qpos[sim.model.joint(f"{name}_drawer").qposadr[0]] = q
    mujoco.mj_forward(sim.model, sim.data)


def cabinets(task):
    return [n for n in task.active if n in CABINETS]


# --- the cabinet ----------------------------------------------------------------------------
def test_the_cabinet_slides_its_travel_and_its_pull_is_where_the_expert_reaches():
    from librobot_gym.envs.tasks.skills_drawer import Pull

    for scale in (1.0, 0.6):
        cab = on_table("cabinet", "cab", x=0.6, y=0.1, scale=scale)
        model = model_with(cab)
        data = mujoco.MjData(model)
        joint = model.joint("cab_drawer")
        assert tuple(joint.range) == pytest.approx((0.0, CABINET_TRAVEL * scale))
        pull = Pull(np.array(cab.pos), 0.0, scale, "cab/drawer")
        bar = next(i for i in range(model.ngeom) if model.geom(i).name.startswith(
            "cab_drawer_part") and model.geom_type[i] == mujoco.mjtGeom.mjGEOM_CAPSULE)
        for q in (0.0, 0.05 * scale):
            data.qpos[joint.qposadr[0]] = q
            mujoco.mj_forward(model, data)
            np.testing.assert_allclose(data.geom_xpos[bar], pull.handle(q), atol=1e-9)
        data.qpos[:] = 0.0
        data.qfrc_applied[joint.dofadr[0]] = 5.0 * scale  # pull it out
        mujoco.mj_step(model, data, nstep=800)
        assert data.qpos[joint.qposadr[0]] == pytest.approx(joint.range[1], abs=0.005)
    assert KINDS["cabinet"].fixed and make_object("cabinet", "c").links[0].name == "drawer"


# --- episodes where only the words tell ------------------------------------------------------
def test_the_instruction_names_the_cabinet_and_only_words_tell_it(env):
    task = env.unwrapped.task
    modes, counts = set(), set()
    for seed in range(40):
        _, info = env.reset(seed=seed)
        names = cabinets(task)
        me = task.active[task.target]
        assert task.target in names and len(names) in (2, 3)
        assert info["instruction"] in {t.format(target=task.reference)
                                       for t in TEMPLATES[task.name].train}
        colours = [task.active[n].colour for n in names]
        others = [task.active[n] for n in names if n != task.target]
        # Which drawer is open or shut never tells: another drawer starts as the target's.
        if task.goal == "close":
            assert task.start[task.target] >= 0.7 * task.travel
            assert any(task.start[n] > 0 for n in names if n != task.target)
        else:
            assert task.start[task.target] == 0.0
        if task.mode == "colour":
            assert task.reference == f"{me.colour} cabinet" and colours.count(me.colour) == 1
        else:  # a cabinet of the target's colour stands by: only place or relation tells
            assert colours.count(me.colour) >= 2
        side = {n: task.active[n].pos[:2] @ task.camera_right for n in task.active}
        row = sorted(names, key=side.get)
        if task.mode == "position":
            place = ("left", "right") if len(row) == 2 else ("left", "middle", "right")
            assert place[row.index(task.target)] in task.reference
        if task.mode == "relation":  # "cabinet left of the cup", the cup between the two
            landmark = next(n for n in task.active if n not in CABINETS)
            assert task.reference.startswith("cabinet ") and landmark in task.reference
            left = "left of" in task.reference
            assert (side[task.target] < side[landmark]) == left
            assert all((side[o.name] < side[landmark]) != left for o in others)
        modes.add(task.mode)
        counts.add(len(names))
    assert modes == set(MODES) and counts == {2, 3}


def test_the_pulls_are_within_reach_shut_and_open(env):
    task = env.unwrapped.task
    lay = task.layout
    for seed in range(20):
        env.reset(seed=seed)
        margin = REACH_MARGIN * task.scale + 1e-9
        for name in cabinets(task):
            for q in (0.0, 0.8 * task.travel):
                x, y, _ = task.pull(name).handle(q)
                assert lay.reach_x_range[0] - margin <= x <= lay.reach_x_range[1] + margin
                assert lay.reach_y_range[0] - margin <= y <= lay.reach_y_range[1] + margin


def test_left_and_right_are_the_front_images_and_every_object_shows():
    env = gym.make(IDS[0], obs_mode="state")
    try:
        sim, task = env.unwrapped.sim, env.unwrapped.task
        checked = 0
        for seed in range(12):
            env.reset(seed=seed)
            seen = segment(env, "front", 128)
            parked = [sim.model.body(n).id for n, _ in task.pool if n not in task.active]
            assert not np.isin(seen, parked).any()
            columns = {}
            for name in task.active:
                mask = seen == sim.model.body(name).id
                assert extent(mask) >= 12, (seed, name)
                columns[name] = np.nonzero(mask)[1].mean()
            names = cabinets(task)
            if task.mode == "position":
                leftmost = min(names, key=columns.get)
                rightmost = max(names, key=columns.get)
                if "left" in task.reference:
                    assert task.target == leftmost, seed
                elif "right" in task.reference:
                    assert task.target == rightmost, seed
                checked += 1
        assert checked >= 3
    finally:
        env.close()


def test_same_seed_same_scene_other_seed_other_scene(env):
    a = env.reset(seed=3)[0]["target_pos"].copy(), env.unwrapped.instruction
    b = env.reset(seed=3)[0]["target_pos"].copy(), env.unwrapped.instruction
    c = env.reset(seed=4)[0]["target_pos"].copy(), env.unwrapped.instruction
    assert np.array_equal(a[0], b[0]) and a[1] == b[1]
    assert not np.array_equal(a[0], c[0])


@pytest.mark.parametrize("env_id", IDS[::2])
def test_held_out_paraphrases_only_when_asked(env_id):
    env = gym.make(env_id, obs_mode="state", instruction_set="heldout")
    try:
        task = env.unwrapped.task
        for seed in range(8):
            text = env.reset(seed=seed)[1]["instruction"]
            assert text in {t.format(target=task.reference)
                            for t in TEMPLATES[task.name].heldout}
    finally:
        env.close()


def test_the_env_docs_describe_the_tasks():
    for env_id in IDS:
        doc = env_doc(env_id)
        assert "## Success and Episode End" in doc and "wrong_object" in doc
        assert env_id in doc


# --- judging ---------------------------------------------------------------------------------
def test_drawers_stay_put_when_nothing_touches_them(env):
    env.reset(seed=5)
    task = env.unwrapped.task
    for _ in range(40):
        _, reward, terminated, _, info = env.step(np.zeros(7, np.float32))
        assert not terminated and 0.0 < reward < 0.5
    state = env.unwrapped.sim.world_state()
    for name, start in task.start.items():
        assert task.opening(state, name) == pytest.approx(start, abs=0.002 * task.scale)
    assert info["task_metrics"]["wrong_object"] == 0.0


def test_the_named_drawer_moved_far_enough_is_success_and_not_far_enough_is_not(env):
    env.reset(seed=0)
    task = env.unwrapped.task
    done, short = (0.65, 0.5) if task.goal == "open" else (0.05, 0.2)
    set_opening(env, task.target, short * task.travel)
    success, failure, _, metrics = task.evaluate(env.unwrapped.sim.world_state())
    assert not success and not failure and 0 < metrics["progress"] < 1
    set_opening(env, task.target, done * task.travel)
    _, reward, terminated, _, info = env.step(np.zeros(7, np.float32))
    assert terminated and info["is_success"] and reward == 1.0
    assert info["task_metrics"]["drawer_opening"] == pytest.approx(done, abs=0.05)


def test_another_drawer_moved_is_a_wrong_object_failure(env):
    env.reset(seed=0)
    task = env.unwrapped.task
    other = next(n for n in cabinets(task) if n != task.target)
    start = task.start[other]
    moved = start + (1.2 * MOVED_FRACTION * task.travel) * (1 if start == 0 else -1)
    set_opening(env, other, moved)
    _, reward, terminated, _, info = env.step(np.zeros(7, np.float32))
    assert terminated and not info["is_success"] and reward == 0.0
    assert info["task_metrics"]["wrong_object"] == 1.0
    assert info["task_metrics"]["other_drawers_moved"] > MOVED_FRACTION


def test_lifting_the_free_object_is_a_wrong_object_failure(env):
    task = env.unwrapped.task
    seed = next(s for s in range(20) if env.reset(seed=s) and
                any(n not in CABINETS for n in task.active))
    env.reset(seed=seed)
    spare = next(n for n in task.active if n not in CABINETS)
    qpos, _ = env.unwrapped.sim.free[spare]
    env.unwrapped.sim.data.qpos[qpos + 2] += task.layout.lift_success
    _, reward, terminated, _, info = env.step(np.zeros(7, np.float32))
    assert terminated and reward == 0.0 and info["task_metrics"]["wrong_object"] == 1.0


@pytest.mark.parametrize("env_id", IDS[:2])
def test_pulling_the_wrong_drawer_fails_the_episode(env_id):
    """The expert's own pull, on a cabinet the instruction did not name: wrong_object."""
    env = gym.make(env_id, obs_mode="state")
    try:
        unwrapped = env.unwrapped
        task = unwrapped.task
        env.reset(seed=1)
        other = next(n for n in cabinets(task) if n != task.target and task.start[n] == 0)
        skill = PullSkill(task.layout, task.pull(other), task.travel)
        info, terminated = {}, False
        for _ in range(200):
            state = unwrapped.privileged_state()
            action = ee_command_to_action(state, skill.act(state), unwrapped.action_spec)
            _, _, terminated, truncated, info = env.step(action)
            if terminated or truncated:
                break
        assert terminated and not info["is_success"]
        assert info["task_metrics"]["wrong_object"] == 1.0
    finally:
        env.close()


@pytest.mark.parametrize("env_id", IDS[::2])
def test_dense_reward_has_signal_at_reset_and_sparse_pays_only_success(env_id):
    for reward_type in ("dense", "sparse"):
        env = gym.make(env_id, obs_mode="state", reward_type=reward_type)
        try:
            expert = ExpertPolicy(env)
            obs, _ = env.reset(seed=2)
            expert.reset()
            rewards, gripping = [], []
            for _ in range(200):
                obs, reward, terminated, truncated, info = env.step(expert.act(obs))
                rewards.append(reward)
                gripping.append(info["task_metrics"]["gripping"])
                if terminated or truncated:
                    break
            assert info["is_success"] and rewards[-1] == 1.0 and max(gripping) == 1.0
            if reward_type == "dense":  # reach, then grip, then the drawer on its way
                assert rewards[0] > 0.01 and max(rewards[:-1]) > 0.6
            else:
                assert set(rewards[:-1]) == {0.0}
        finally:
            env.close()


# --- stand-ins ---------------------------------------------------------------------------------
def test_a_stand_in_that_reports_no_drawers_keeps_them_where_they_started():
    """A robot cell whose scene report has no joints (a stand-in): the task reads each
    drawer where it started, so nothing is judged moved."""
    env = gym.make(IDS[2], obs_mode="state")
    try:
        env.reset(seed=0)
        task = env.unwrapped.task
        state = env.unwrapped.sim.world_state()
        state.object_joints = {}
        success, failure, _, metrics = task.evaluate(state)
        assert not success and not failure
        assert metrics["drawer_opening"] == pytest.approx(task.start[task.target] / task.travel)
        assert math.isclose(metrics["other_drawers_moved"], 0.0)
        assert joint_key(task.target) == f"{task.target}/drawer"
    finally:
        env.close()
