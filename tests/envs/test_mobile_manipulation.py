"""MobilePickCup and the mobile OpenDrawer on Fetch and TIAGo (issue 20 item 4): the flat
with cups or cabinets on its tables, instructions that pick out the target, the stands the
base works from, success, failure (the wrong cup or drawer), dense and sparse rewards, the
scripted expert (planner + pursuit, then the tabletop skills through ee_delta_pose)."""

from __future__ import annotations

import math

import gymnasium as gym
import mujoco
import numpy as np
import pytest

from librobot_gym.envs.registration import env_doc
from librobot_gym.envs.tasks import mobile_drawer, mobile_pick_cup
from librobot_gym.envs.tasks.indoor import TABLE_HEIGHT
from librobot_gym.envs.tasks.mobile_pick_cup_stand import mobile_layout
from librobot_gym.errors import ConfigError
from librobot_gym.policies import ExpertPolicy

PICK = "librobot/Fetch-MobilePickCup-v0"
DRAWER = "librobot/Fetch-OpenDrawer-v0"
TIAGO_PICK = "librobot/Tiago-MobilePickCup-v0"
TIAGO_DRAWER = "librobot/Tiago-OpenDrawer-v0"


def _episode(env, seed: int, policy=None) -> tuple[list[float], dict, bool]:
    """Run one episode (the expert unless `policy`); the rewards, last info, terminated."""
    expert = ExpertPolicy(env) if policy is None else None
    obs, _ = env.reset(seed=seed)
    if expert:
        expert.reset()
    rewards = []
    while True:
        action = expert.act(obs) if expert else policy(obs)
        obs, reward, terminated, truncated, info = env.step(action)
        rewards.append(float(reward))
        if terminated or truncated:
            return rewards, info, terminated


@pytest.fixture(scope="module", params=[PICK, TIAGO_PICK])
def pick(request):
    env = gym.make(request.param, obs_mode="state_dict")
    yield env
    env.close()


@pytest.fixture(scope="module", params=[DRAWER, TIAGO_DRAWER])
def drawer(request):
    env = gym.make(request.param, obs_mode="state_dict")
    yield env
    env.close()


def test_cups_stand_on_the_tables_within_reach_of_a_stand_the_base_fits(pick):
    for seed in range(6):
        pick.reset(seed=seed)
        ep = pick.unwrapped.task.episode
        state = pick.unwrapped.sim.world_state()
        layout = mobile_layout(pick.unwrapped.robot)  # the robot's stands (Fetch's, TIAGo's)
        for name, cup in ep.items.items():
            assert cup.pos[2] == pytest.approx(mobile_pick_cup.cup_rest_z(cup.table))
            assert np.allclose(state.object_pos[name], cup.pos, atol=0.01)  # resting there
            assert ep.ground.works(cup.stand, layout["elbow_side"])
            reach = math.dist((cup.stand.x, cup.stand.y), cup.pos[:2])
            assert layout["standoff"] + 0.07 <= reach <= layout["standoff"] + 0.18
        x, y = state.extras["base_x"], state.extras["base_y"]
        assert ep.way.to_go(x, y) > 1.0  # the start is a drive away


def test_the_instruction_picks_out_the_target_by_colour_and_table():
    train = gym.make(PICK, obs_mode="state")
    heldout = gym.make(PICK, obs_mode="state", instruction_set="heldout")
    twins = 0
    try:
        for seed in range(16):
            for env, templates in ((train, mobile_pick_cup.INSTRUCTIONS.train),
                                   (heldout, mobile_pick_cup.INSTRUCTIONS.heldout)):
                env.reset(seed=seed)
                ep = env.unwrapped.task.episode
                me = ep.items[ep.target]
                text = env.unwrapped.instruction
                table = next(w for w in mobile_pick_cup.TABLE_WORDS[me.table] if w in text)
                words = f"{me.colour} cup on {table}"
                assert text.replace(words, "{target}") in templates, text
                # no other cup of that colour on that table; a twin elsewhere makes the
                # table's name count
                same = [c for n, c in ep.items.items() if n != ep.target and c.colour == me.colour]
                assert all(c.table != me.table for c in same)
                twins += bool(same)
    finally:
        train.close()
        heldout.close()
    assert 4 <= twins <= 28


def test_the_expert_drives_to_the_table_and_lifts_the_named_cup(pick):
    for seed in range(3):
        rewards, info, terminated = _episode(pick, seed)
        m = info["task_metrics"]
        assert terminated and info["is_success"], (seed, m)
        assert m["lift_height"] >= mobile_pick_cup.LIFT_SUCCESS and m["grasped"] == 1.0
        assert m["wrong_object"] == 0.0 and m["collisions"] == 0.0
        assert m["path_length"] > 0.5 and m["distractors_moved"] < 0.01
        assert rewards[-1] == 1.0
        # signal from the start: driving towards the stand pays at once
        assert rewards[30] > rewards[0] + 0.01


def _teleport(env, name: str, pos=None, quat=None) -> None:
    sim = env.unwrapped.sim
    p, q = sim._objects_qpos[name]
    if pos is not None:
        p[:] = pos
    if quat is not None:
        q[:] = quat
    mujoco.mj_forward(sim.model, sim.data)


def _hold(env) -> np.ndarray:
    """A normalised action that keeps still (the gripper open)."""
    spec = env.unwrapped.action_spec
    values = np.zeros(spec.size)
    values[[d.name for d in spec.dims].index("gripper")] = 1.0
    return spec.to_normalised(values).astype(np.float32)


def test_lifting_another_cup_is_a_wrong_object_failure(pick):
    pick.reset(seed=2)
    ep = pick.unwrapped.task.episode
    other = next(n for n in ep.items if n != ep.target)
    _teleport(pick, other, pos=ep.items[other].pos + np.array([0.0, 0.0, 0.3]))
    _, reward, terminated, _, info = pick.step(_hold(pick))
    assert terminated and not info["is_success"]
    assert info["task_metrics"]["wrong_object"] == 1.0 and reward == 0.0


def test_knocking_the_named_cup_over_fails(pick):
    pick.reset(seed=3)
    ep = pick.unwrapped.task.episode
    lying = np.array([math.cos(math.pi / 4), math.sin(math.pi / 4), 0.0, 0.0])
    _teleport(pick, ep.target, pos=ep.items[ep.target].pos + np.array([0, 0, 0.01]), quat=lying)
    _, _, terminated, _, info = pick.step(_hold(pick))
    assert terminated and not info["is_success"]


@pytest.mark.parametrize("robot", ["fetch", "tiago"])
def test_sparse_rewards_pay_on_success_only(robot):
    for env_id in (PICK, DRAWER):
        env = gym.make(env_id, obs_mode="state", reward_type="sparse", robot=robot)
        try:
            rewards, info, terminated = _episode(env, 1)
        finally:
            env.close()
        assert terminated and info["is_success"] and rewards[-1] == 1.0
        assert not any(rewards[:-1])


def test_state_observations_name_the_target(pick, drawer):
    obs, _ = pick.reset(seed=4)
    ep = pick.unwrapped.task.episode
    assert np.allclose(obs["target_pos"], ep.items[ep.target].pos, atol=0.01)
    assert obs["geodesic_distance"][0] > 1.0 and obs["target_vector"].shape == (2,)
    obs, _ = drawer.reset(seed=4)
    assert obs["drawer_opening"][0] == pytest.approx(0.0, abs=1e-3)
    task = drawer.unwrapped.task
    assert np.allclose(obs["target_pos"], task.handle(drawer.unwrapped.sim.world_state()))


def test_cabinets_face_a_stand_one_on_each_table_named_by_colour_or_table(drawer):
    modes = set()
    for seed in range(10):
        drawer.reset(seed=seed)
        ep = drawer.unwrapped.task.episode
        assert {c.table for c in ep.items.values()} == set(mobile_pick_cup.TABLES)
        me = ep.items[ep.target]
        other = next(c for n, c in ep.items.items() if n != ep.target)
        text = drawer.unwrapped.instruction
        if me.colour != other.colour:
            assert f"{me.colour} cabinet" in text
            modes.add("colour")
        else:
            assert any(f"cabinet on {w}" in text for w in mobile_pick_cup.TABLE_WORDS[me.table])
            modes.add("table")
        # the pull faces the stand: the drawer slides out towards the base
        pull = mobile_drawer.cabinet_pull(me, ep.target)
        towards = np.array([me.stand.x, me.stand.y]) - me.pos[:2]
        assert pull.axis[:2] @ towards / np.linalg.norm(towards) > 0.99
        assert me.pos[2] == pytest.approx(TABLE_HEIGHT[me.table], abs=0.02)
    assert modes == {"colour", "table"}


def test_the_expert_drives_to_the_cabinet_and_pulls_its_drawer_open(drawer):
    for seed in range(3):
        rewards, info, terminated = _episode(drawer, seed)
        m = info["task_metrics"]
        assert not info["safety"]["arena_contact"]  # holding the pull is no arena contact
        assert terminated and info["is_success"], (seed, m)
        assert m["drawer_opening"] >= mobile_drawer.OPEN_FRACTION and m["gripping"] == 1.0
        assert m["wrong_object"] == 0.0 and m["collisions"] == 0.0
        # signal within 4 s (TIAGo, standing further out, may first turn on the spot longer)
        assert rewards[40] > rewards[0] + 0.01


def test_moving_the_other_drawer_is_a_wrong_object_failure(drawer):
    drawer.reset(seed=0)
    ep = drawer.unwrapped.task.episode
    other = next(n for n in ep.items if n != ep.target)
    sim = drawer.unwrapped.sim
    sim.data.qpos[sim._link_qpos[f"{other}/drawer"]] = 0.5 * mobile_drawer.TRAVEL
    mujoco.mj_forward(sim.model, sim.data)
    _, reward, terminated, _, info = drawer.step(_hold(drawer))
    assert terminated and not info["is_success"] and reward == 0.0
    assert info["task_metrics"]["wrong_object"] == 1.0


def test_mistakes_are_refused_with_the_fix():
    with pytest.raises(ConfigError, match="mobile manipulator"):
        gym.make(PICK, robot="jackal")
    with pytest.raises(ConfigError, match="mobile manipulator"):
        gym.make(DRAWER, robot="franka_panda")
    with pytest.raises(ConfigError, match="instruction_set"):
        gym.make(DRAWER, instruction_set="test")


def test_the_docs_say_how_each_task_is_scored():
    for env_id, words in ((PICK, ("0.10 m", "wrong_object", "path_length")),
                          (DRAWER, ("0.6 of its travel", "wrong_object", "collisions"))):
        doc = env_doc(env_id)
        for phrase in ("## Success Criteria", "## Rewards", "base_twist+ee_delta_pose",
                       *words):
            assert phrase in doc, (env_id, phrase)


@pytest.mark.slow
@pytest.mark.parametrize("first", [0, 1000])
@pytest.mark.parametrize("env_id", [PICK, DRAWER, TIAGO_PICK, TIAGO_DRAWER])
def test_the_expert_succeeds_on_at_least_90_of_100_seeds(env_id, first):
    env = gym.make(env_id, obs_mode="state")
    try:
        wins = sum(_episode(env, seed)[1]["is_success"] for seed in range(first, first + 100))
    finally:
        env.close()
    assert wins >= 90, f"{env_id}: {wins}/100 from seed {first}"


@pytest.mark.parametrize("env_id", [PICK, DRAWER, TIAGO_PICK, TIAGO_DRAWER])
def test_the_real_ids_drive_and_reach_through_the_rosbridge_emulator(env_id):
    """`-Real-` on the emulator in lockstep with the flat (`?world=sim`): the expert drives
    to the stand through rosbridge and brings the hand to the cup or the pull. (The emulated
    world moves the base, not the arm: nothing is grasped there.)"""
    real = env_id.replace("-v0", "-Real-v0")
    env = gym.make(real, obs_mode="state", driver="ros:emulator:lockstep?world=sim",
                   operator="auto")
    try:
        expert = ExpertPolicy(env)
        obs, _ = env.reset(seed=0)
        expert.reset()
        closest = math.inf
        for _ in range(300):
            obs, _, terminated, truncated, info = env.step(expert.act(obs))
            m = info["task_metrics"]
            closest = min(closest, m.get("tcp_to_target", m.get("tcp_to_handle")))
            if closest < 0.05 or terminated or truncated:
                break
        assert m["distance_to_stand"] <= 0.08 and m["collisions"] == 0.0
        assert closest < 0.05
    finally:
        env.close()


def test_a_robot_declares_how_it_works_from_a_stand():
    """Fetch's numbers are the defaults; TIAGo's spec gives its own (its gripper's frame,
    stands further out, elbow room on its right); a misspelt key is refused by name."""
    from dataclasses import replace

    from librobot_gym.envs.tasks.mobile_pick_cup_expert import hand_rotation
    from librobot_gym.envs.tasks.mobile_pick_cup_stand import MOBILE_DEFAULTS
    from librobot_gym.robots.registry import get_robot

    fetch, tiago = get_robot("fetch"), get_robot("tiago")
    assert mobile_layout(fetch) == MOBILE_DEFAULTS
    mine = mobile_layout(tiago)
    assert mine["standoff"] > MOBILE_DEFAULTS["standoff"] and mine["elbow_side"] == -1.0
    # a level hand facing yaw 90 deg: TIAGo's fingers (tool -z) point along world y, and
    # close (tool x) across it, horizontally; Fetch's fingers are its tool x
    rot = hand_rotation(tiago, math.pi / 2)
    assert np.allclose(rot @ [0, 0, -1], [0, 1, 0], atol=1e-9)
    assert abs((rot @ [1, 0, 0])[2]) < 1e-9
    assert np.allclose(hand_rotation(fetch, math.pi / 2) @ [1, 0, 0], [0, 1, 0], atol=1e-9)
    with pytest.raises(ConfigError, match="standof"):
        mobile_layout(replace(tiago, task_layouts={"mobile": {"standof": 0.5}}))
