"""PlaceInContainer-v0: episodes where both the thing and the container must be read, what
"in" and "on" mean (`resting.py`), success only once released and clear, the wrong container and
other wrong objects, rewards, and the pick-and-place expert on both arms."""

import math
from dataclasses import replace

import gymnasium as gym
import numpy as np
import pytest

from librobot_gym.envs.registration import env_doc
from librobot_gym.envs.tasks.base import WorldState
from librobot_gym.envs.tasks.grasping import GraspSkill
from librobot_gym.envs.tasks.place_in_container import INSTRUCTIONS, MODES
from librobot_gym.envs.tasks.placement import yaw_quat
from librobot_gym.envs.tasks.resting import RECEPTACLES, Steady, local_offset, wrap
from librobot_gym.policies import ExpertPolicy
from librobot_gym.policies.expert import ee_command_to_action
from tests.envs.tabletop_checks import expert_episode, run

IDS = ("librobot/Franka-PlaceInContainer-v0", "librobot/SO100-PlaceInContainer-v0")


@pytest.fixture(params=IDS)
def env(request):
    env = gym.make(request.param, obs_mode="state_dict")
    yield env
    env.close()



def put(env, name, into, lift=0.0):
    """Teleport `name` to stand on `into`'s floor (or `lift` m above it), at rest."""
    sim, task = env.unwrapped.sim, env.unwrapped.task
    qpos, qvel = sim.free[name]
    floor = RECEPTACLES[task.kinds[into]].floor * task.scale
    pos = sim.data.qpos[sim.free[into][0]: sim.free[into][0] + 3].copy()
    pos[2] += floor + task.active[name].pos[2] + lift
    sim.data.qpos[qpos: qpos + 3] = pos
    sim.data.qpos[qpos + 3: qpos + 7] = [1.0, 0.0, 0.0, 0.0]
    sim.data.qvel[qvel: qvel + 6] = 0.0


def idle(env, steps):
    """Step with the gripper open and the tool still; the last step's results."""
    action = np.zeros(7, np.float32)
    action[6] = 1.0
    for _ in range(steps):
        out = env.step(action)
        if out[2] or out[3]:
            break
    return out


# --- what "in" and "on" mean ------------------------------------------------------------------
def state_of(positions, yaws=None):
    yaws = yaws or {}
    return WorldState(0.0, np.zeros(3), np.eye(3), 0.0,
                      {n: np.asarray(p, float) for n, p in positions.items()},
                      {n: yaw_quat(yaws.get(n, 0.0)) for n in positions}, {}, frozenset(),
                      False, np.zeros(7))


def test_a_receptacle_holds_what_stands_over_its_floor_below_its_rim():
    bowl, plate, bin_ = RECEPTACLES["bowl"], RECEPTACLES["plate"], RECEPTACLES["bin"]
    assert bowl.preposition == "in" and plate.onto == "onto" and bin_.onto == "into"
    assert bowl.holds(np.array([0.03, 0.0]), 0.008, 1.0)
    assert not bowl.holds(np.array([0.06, 0.0]), 0.008, 1.0)  # on the slanted wall's top
    assert not bowl.holds(np.array([0.0, 0.0]), 0.04, 1.0)  # perched on something, too high
    assert not bowl.holds(np.array([0.0, 0.0]), 0.0, 1.0)  # not raised: on the table
    assert bowl.holds(np.array([0.02, 0.0]), 0.005, 0.6) and \
        not bowl.holds(np.array([0.03, 0.0]), 0.005, 0.6)  # scaled with the arm
    assert bin_.holds(np.array([0.07, 0.0]), 0.01, 1.0)  # along its long side
    assert not bin_.holds(np.array([0.0, 0.07]), 0.01, 1.0)  # across: beyond the wall


def test_offsets_are_measured_in_the_receptacles_own_frame():
    state = state_of({"bin": (0.5, 0.0, 0.0), "block": (0.5, 0.07, 0.03)},
                     {"bin": math.pi / 2})
    np.testing.assert_allclose(local_offset(state, "block", "bin"), [0.07, 0.0], atol=1e-12)
    assert wrap(3 * math.pi / 4, math.pi / 2) == pytest.approx(-math.pi / 4)


def test_steady_counts_by_the_worlds_clock_and_restarts_on_a_break():
    steady = Steady()
    assert steady.held(1.0, True) == 0.0
    assert steady.held(1.0, True) == 0.0  # the same state asked twice: one answer
    assert steady.held(1.5, True) == pytest.approx(0.5)
    assert steady.held(1.6, False) == 0.0 and steady.held(1.7, True) == 0.0
    assert steady.held(0.1, True) == 0.0  # the clock went back: a new episode


# --- episodes -------------------------------------------------------------------------------
def test_both_halves_of_the_instruction_must_be_read(env):
    task = env.unwrapped.task
    modes, kinds, counts = set(), set(), set()
    for seed in range(40):
        _, info = env.reset(seed=seed)
        things = task.things()
        item = next(t for t in things if t.name == task.target)
        box = next(t for t in things if t.name == task.container)
        assert task.reference.picks_out(task.target, things)
        assert task.container_reference.picks_out(task.container, things)
        receptacle = RECEPTACLES[task.kinds[task.container]]
        assert info["instruction"] in {
            t.format(target=task.reference.text(), place=task.container_reference.text(),
                     prep=receptacle.preposition, onto=receptacle.onto)
            for t in INSTRUCTIONS.train}
        # Another thing shares the target's kind or colour; another container stands by.
        assert any(t.name != item.name and (t.kind == item.kind or t.colour == item.colour)
                   for t in things)
        assert any(n != task.container and task.kinds[n] in RECEPTACLES for n in task.active)
        if task.container_mode == "colour":
            assert any(t.name != box.name and t.kind == box.kind for t in things)
        if task.mode == "relation":
            assert task.reference.relation is not None
        lay = task.layout
        for name in (task.target, task.container):
            x, y = task.active[name].pos[:2]
            assert lay.reach_x_range[0] <= x <= lay.reach_x_range[1]
            assert lay.reach_y_range[0] <= y <= lay.reach_y_range[1]
        modes.add(task.mode)
        kinds.add(task.kinds[task.container])
        counts.add(len(task.active))
    assert modes == set(MODES) and kinds == set(RECEPTACLES) and counts == {4, 5}


def test_same_seed_same_scene_other_seed_other_scene(env):
    a = env.reset(seed=3)[0]["place_pos"].copy(), env.unwrapped.instruction
    b = env.reset(seed=3)[0]["place_pos"].copy(), env.unwrapped.instruction
    c = env.reset(seed=4)[0]["place_pos"].copy(), env.unwrapped.instruction
    assert np.array_equal(a[0], b[0]) and a[1] == b[1]
    assert not np.array_equal(a[0], c[0])


def test_held_out_paraphrases_only_when_asked():
    env = gym.make(IDS[0], obs_mode="state", instruction_set="heldout")
    try:
        task = env.unwrapped.task
        for seed in range(10):
            text = env.reset(seed=seed)[1]["instruction"]
            receptacle = RECEPTACLES[task.kinds[task.container]]
            slots = dict(target=task.reference.text(), place=task.container_reference.text(),
                         prep=receptacle.preposition, onto=receptacle.onto)
            assert text in {t.format(**slots) for t in INSTRUCTIONS.heldout}
    finally:
        env.close()


# --- success and failure --------------------------------------------------------------------
def test_in_the_named_container_released_and_steady_is_success(env):
    env.reset(seed=0)
    task = env.unwrapped.task
    put(env, task.target, task.container)
    first = idle(env, 1)
    assert first[4]["task_metrics"]["in_container"] == 1.0 and not first[4]["is_success"]
    _, reward, terminated, _, info = idle(env, 10)  # 0.25 s at rest
    assert terminated and info["is_success"] and reward == 1.0
    assert info["task_metrics"]["wrong_object"] == 0.0


def test_held_or_with_the_tool_on_it_is_not_success_yet(env):
    env.reset(seed=0)
    sim, task = env.unwrapped.sim, env.unwrapped.task
    put(env, task.target, task.container)
    idle(env, 1)
    state = sim.world_state()
    held = replace(state, grasped={**state.grasped, task.target: True}, time=state.time + 1)
    touching = replace(state, ee_pos=state.object_pos[task.target].copy(), time=state.time + 2)
    for other in (held, touching):
        success, failure, _, metrics = task.evaluate(other)
        assert not success and not failure and metrics["released"] == 0.0


def test_the_wrong_container_is_a_wrong_object_failure(env):
    task = env.unwrapped.task
    for seed in range(20):
        env.reset(seed=seed)
        others = [n for n in task.active if n != task.container and task.kinds[n] in RECEPTACLES]
        if others:
            break
    put(env, task.target, others[0])
    _, reward, terminated, _, info = idle(env, 2)
    assert terminated and not info["is_success"] and reward == 0.0
    assert info["task_metrics"]["wrong_object"] == 1.0
    assert info["task_metrics"]["wrong_container"] == 1.0


def test_a_lifted_distractor_is_a_wrong_object_failure(env):
    env.reset(seed=0)
    sim, task = env.unwrapped.sim, env.unwrapped.task
    other = next(n for n in task.active if n not in (task.target, task.container))
    qpos, _ = sim.free[other]
    sim.data.qpos[qpos + 2] += task.layout.lift_success
    _, reward, terminated, _, info = env.step(np.zeros(7, np.float32))
    assert terminated and not info["is_success"] and reward == 0.0
    assert info["task_metrics"]["wrong_object"] == 1.0


def test_grasping_another_thing_fails_the_episode(env):
    """The expert's own grasp, aimed at a distractor the arm can reach: wrong_object, ended."""
    unwrapped = env.unwrapped
    task = unwrapped.task
    lay = task.layout
    for seed in range(40):
        env.reset(seed=seed)
        reachable = [n for n, p in task.active.items() if n != task.target
                     and task.kinds[n] in ("cup", "block")
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


def test_a_knocked_over_container_or_cup_outside_it_is_a_failure(env):
    sim, task = env.unwrapped.sim, env.unwrapped.task
    env.reset(seed=0)
    qpos, _ = sim.free[task.container]
    sim.data.qpos[qpos + 3: qpos + 7] = [np.cos(np.pi / 4), np.sin(np.pi / 4), 0, 0]
    _, _, terminated, _, info = env.step(np.zeros(7, np.float32))
    assert terminated and not info["is_success"]


def test_dense_reward_climbs_through_the_stages_and_sparse_pays_only_success():
    for reward_type in ("dense", "sparse"):
        env = gym.make(IDS[0], obs_mode="state", reward_type=reward_type)
        try:
            rewards, metrics, info = expert_episode(env, seed=2)
            assert info["is_success"] and rewards[-1] == 1.0
            if reward_type == "dense":
                held = [r for r, m in zip(rewards, metrics, strict=True) if m["grasped"]]
                placed = [r for r, m in zip(rewards, metrics, strict=True)
                          if m["in_container"] and m["released"]]
                assert rewards[0] > 0.01 and max(held) > 0.5 and min(placed[:-1]) > max(held)
            else:
                assert set(rewards[:-1]) == {0.0}
        finally:
            env.close()


def test_the_doc_says_what_success_is():
    doc = env_doc(IDS[1])
    assert doc.startswith("## Description") and "## Success and Episode End" in doc
    assert "wrong_container" in doc


# --- the expert -----------------------------------------------------------------------------
def test_the_expert_places_on_the_pybullet_twin_too():
    """The -Real- id on its stand-in: a second physics engine builds the same primitives (the
    bowl's slanted walls included), and the same expert puts the thing in its container."""
    pytest.importorskip("pybullet")
    env = gym.make("librobot/Franka-PlaceInContainer-Real-v0", obs_mode="state",
                   driver="twin:lockstep")
    try:
        expert = ExpertPolicy(env)
        info, _ = run(env, expert.act, 2)
        assert info["is_success"] and info["task_metrics"]["in_container"] == 1.0
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
