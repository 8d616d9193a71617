"""DigDump: instructions, randomisation, metrics, safety signals and the scripted operator."""

import gymnasium as gym
import mujoco
import numpy as np
import pytest

from librobot_gym.envs.tasks.dig_dump import TARGETS_T
from librobot_gym.errors import ConfigError
from librobot_gym.policies import ExpertPolicy

ENV_ID = "librobot/Excavator-DigDump-v0"
METRICS = {"fill_factor", "cycle_time_s", "tonnes_per_hour", "spillage_kg",
           "energy_j_per_tonne", "min_tip_margin_m", "delivered_t"}


def test_instruction_names_the_target_tonnage():
    env = gym.make(ENV_ID, obs_mode="state")
    targets, bearings = set(), set()
    for seed in range(12):
        _, info = env.reset(seed=seed)
        target = env.unwrapped.task.target_kg / 1000
        assert f"{target:g} t" in info["instruction"] or f"{target:g} tonnes" in info["instruction"]
        targets.add(target)
        bearings.add(round(env.unwrapped.task.truck_bearing, 3))
    assert targets <= set(TARGETS_T) and len(targets) >= 3 and len(bearings) == 12
    env.close()


def test_fixed_target_option_and_its_validation():
    env = gym.make(ENV_ID, obs_mode="state", target_tonnes=2.5)
    _, info = env.reset(seed=0)
    assert "2.5" in info["instruction"]
    env.close()
    with pytest.raises(ConfigError, match="target_tonnes"):
        gym.make(ENV_ID, target_tonnes=50)


def test_bucket_in_the_cab_is_a_safety_event():
    env = gym.make(ENV_ID, obs_mode="state")
    env.reset(seed=0)
    sim = env.unwrapped.sim
    cab = sim.model.geom("truck_part5")  # the cab (see dig_dump._truck)
    assert env.unwrapped.task.safety(sim.world_state())["cab_contact"] is False
    truck = sim.fixed_body["truck"]  # park the truck so its cab sits on the bucket teeth
    sim.model.body_quat[truck] = [1, 0, 0, 0]
    sim.model.body_pos[truck] = sim.data.site_xpos[sim.material.tip] - cab.pos
    mujoco.mj_forward(sim.model, sim.data)
    state = sim.world_state()
    assert "truck_cab" in state.robot_contacts
    assert env.unwrapped.task.safety(state)["cab_contact"] is True
    env.close()


def test_tip_over_margin_shrinks_with_a_load_at_full_reach():
    env = gym.make(ENV_ID, obs_mode="state")
    env.reset(seed=0)
    sim = env.unwrapped.sim
    controller = sim.controller
    site = sim.data.site_xpos[sim.material.payload_site].copy()
    empty = controller.tip_over_margin(0.0, site)
    loaded = controller.tip_over_margin(2000.0, site + [3.0, 0, 0])
    assert loaded < empty
    sideways = controller.tip_over_margin(20000.0, np.array([0.0, 8.0, 1.0]))
    assert sideways < 0  # far over the side: tipping
    env.close()


def test_expert_loads_the_truck_in_at_least_90_percent_of_50_episodes():
    env = gym.make(ENV_ID, obs_mode="state")
    expert = ExpertPolicy(env)
    successes, fills = 0, []
    for seed in range(50):
        obs, _ = env.reset(seed=seed)
        expert.reset()
        while True:
            obs, _, terminated, truncated, info = env.step(expert.act(obs))
            if terminated or truncated:
                break
        assert METRICS <= set(info["task_metrics"])
        assert all(isinstance(v, float) for v in info["task_metrics"].values())
        successes += info["success_once"]
        fills.append(info["task_metrics"]["fill_factor"])
    assert successes >= 45, f"{successes}/50"
    assert np.mean(fills) >= 0.7, f"mean fill factor {np.mean(fills):.2f}"
    env.close()
