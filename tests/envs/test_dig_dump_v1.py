"""DigDump v1: the excavator loads the parked articulated hauler; v0 keeps its truck."""

import gymnasium as gym
import mujoco
import numpy as np
import pytest

from librobot_gym.envs.tasks.dig_dump_v1 import HINGE_X, parked_hauler
from librobot_gym.policies import ExpertPolicy
from librobot_gym.robots import get_robot

ENV_ID = "librobot/Excavator-DigDump-v1"
# parked part index -> the hauler MJCF's geom it stands for
SAME = {0: "body_floor", 1: "body_side_left", 2: "body_side_right", 3: "body_front",
        5: "body_underside", 6: "trailer_frame", 7: "hitch", 8: "tractor_chassis",
        9: "engine_hood", 10: "cab"}


def test_the_parked_hauler_is_the_hauler_models_geometry_at_rest():
    model = mujoco.MjModel.from_xml_path(get_robot("hauler").asset)
    data = mujoco.MjData(model)
    mujoco.mj_kinematics(model, data)
    parts = parked_hauler().parts
    shift = np.array([HINGE_X, 0.0, 0.0])  # the parked frame is the body's centre
    for index, geom in SAME.items():
        g = model.geom(geom).id
        np.testing.assert_allclose(parts[index].pos, data.geom_xpos[g] + shift, atol=1e-6,
                                   err_msg=geom)
        np.testing.assert_allclose(parts[index].size, model.geom_size[g], atol=1e-6,
                                   err_msg=geom)
    tyres = sorted(tuple(np.round(data.xpos[model.body(f"wheel_{w}").id] + shift, 6))
                   for w in ("fl", "fr", "ml", "mr", "rl", "rr"))
    assert sorted(tuple(np.round(p.pos, 6)) for p in parts if p.shape == "cylinder") == tyres


def test_v1_has_the_hauler_and_v0_keeps_its_truck():
    v0 = gym.make("librobot/Excavator-DigDump-v0", obs_mode="state")
    v1 = gym.make(ENV_ID, obs_mode="state")
    try:
        assert v0.unwrapped.task.name == "dig_dump"
        names = {v0.unwrapped.sim.model.body(i).name for i in range(v0.unwrapped.sim.model.nbody)}
        assert "truck" in names and "hauler" not in names
        names = {v1.unwrapped.sim.model.body(i).name for i in range(v1.unwrapped.sim.model.nbody)}
        assert "hauler" in names and "truck" not in names
        assert v0.observation_space == v1.observation_space
        assert v0.unwrapped.action_spec == v1.unwrapped.action_spec
    finally:
        v0.close()
        v1.close()


def test_expert_loads_the_hauler_and_its_heap_is_drawn():
    env = gym.make(ENV_ID, obs_mode="state")
    expert = ExpertPolicy(env)
    try:
        for seed in (0, 7):
            obs, _ = env.reset(seed=seed)
            expert.reset()
            sim = env.unwrapped.sim
            heap = sim.model.geom("hauler_part4").id
            empty_z = float(sim.data.geom_xpos[heap, 2])
            touched = False
            while True:
                obs, _, terminated, truncated, info = env.step(expert.act(obs))
                touched |= info["safety"]["truck_contact"] or info["safety"]["cab_contact"]
                if terminated or truncated:
                    break
            assert info["success_once"], (seed, info["task_metrics"])
            assert not touched
            delivered = sim.world_state().extras["delivered_kg"]
            rise = float(sim.data.geom_xpos[heap, 2]) - empty_z
            assert rise == pytest.approx(delivered / 1700 / (4 * 2.7 * 1.35), rel=1e-6)
    finally:
        env.close()


@pytest.mark.slow
def test_expert_loads_the_hauler_in_at_least_90_of_100_episodes():
    env = gym.make(ENV_ID, obs_mode="state")
    expert = ExpertPolicy(env)
    successes = 0
    for seed in range(100):
        obs, _ = env.reset(seed=seed)
        expert.reset()
        while True:
            obs, _, terminated, truncated, info = env.step(expert.act(obs))
            if terminated or truncated:
                break
        successes += info["success_once"]
    env.close()
    assert successes >= 90, f"{successes}/100"
