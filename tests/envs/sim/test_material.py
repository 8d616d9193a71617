"""The material model: digging fills the bucket from the pile, tipping pours, mass is kept."""

import gymnasium as gym
import numpy as np
import pytest

from librobot_gym.policies import ExpertPolicy

ENV_ID = "librobot/Excavator-DigDump-v0"


def total_kg(extras: dict) -> float:
    return extras["pile_kg"] + extras["payload_kg"] + extras["delivered_kg"] + \
        extras["spilled_kg"]


@pytest.fixture
def run():
    env = gym.make(ENV_ID, obs_mode="state")
    expert = ExpertPolicy(env)
    obs, _ = env.reset(seed=4)
    expert.reset()
    yield env, expert, obs
    env.close()


def test_mass_is_conserved_and_digging_takes_from_the_pile(run):
    env, expert, obs = run
    sim = env.unwrapped.sim
    start = sim.world_state().extras
    peak_payload = 0.0
    for _ in range(400):
        obs, _, terminated, truncated, _ = env.step(expert.act(obs))
        extras = sim.world_state().extras
        peak_payload = max(peak_payload, extras["payload_kg"])
        assert total_kg(extras) == pytest.approx(total_kg(start), rel=1e-9)
        if terminated or truncated:
            break
    assert peak_payload > 1000.0
    assert extras["delivered_kg"] > 1000.0
    assert extras["pile_kg"] < start["pile_kg"] - 1000.0


def test_a_tipped_bucket_outside_the_truck_spills(run):
    env, expert, obs = run
    sim = env.unwrapped.sim
    while expert.expert.phase != "swing":  # loaded and lifted out of the pile
        obs, *_ = env.step(expert.act(obs))
    loaded = sim.world_state().extras["payload_kg"]
    assert loaded > 1000.0
    for _ in range(30):  # open the bucket right here, far from the truck
        env.step(np.array([0, 0, -1, 0, 0, 0], dtype=np.float32))
    extras = sim.world_state().extras
    assert extras["payload_kg"] < 0.05 * loaded
    assert extras["spilled_kg"] > 0.9 * loaded and extras["delivered_kg"] == 0.0


def test_the_pile_height_field_follows_the_digging(run):
    env, expert, obs = run
    sim = env.unwrapped.sim
    before = sim.model.hfield_data.copy()
    while expert.expert.phase != "lift":
        obs, *_ = env.step(expert.act(obs))
    assert sim.model.hfield_data.sum() < before.sum()
