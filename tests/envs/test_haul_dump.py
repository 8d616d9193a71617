"""HaulDump and the articulated hauler: action spec, masses, loaded vs empty handling, the
hoist's timing, mass conservation, spillage, rewards and the scripted driver."""

import math

import gymnasium as gym
import mujoco
import numpy as np
import pytest

from librobot_gym.envs.tasks.haul_dump import PAYLOAD_T
from librobot_gym.errors import ConfigError
from librobot_gym.policies import ExpertPolicy
from librobot_gym.robots import get_robot

ENV_ID = "librobot/Hauler-HaulDump-v0"
HAULER = get_robot("hauler")
METRICS = {"cycle_time_s", "mean_speed_mps", "path_deviation_m", "max_path_deviation_m",
           "min_tip_margin_m", "dump_error_m", "dumped_t", "spilled_kg"}


def command(env, throttle=0.0, brake=0.0, articulation=0.0, direction=0.0, body=0.0):
    """A physical `drive+dump` command as the env's normalised action."""
    physical = np.array([throttle, brake, articulation, direction, body])
    return np.clip(env.unwrapped.action_spec.to_normalised(physical), -1, 1).astype(np.float32)


def run_expert(env, seed):
    obs, _ = env.reset(seed=seed)
    expert = ExpertPolicy(env)
    expert.reset()
    while True:
        obs, _, terminated, truncated, info = env.step(expert.act(obs))
        if terminated or truncated:
            return info


@pytest.fixture
def env():
    env = gym.make(ENV_ID, obs_mode="state")
    yield env
    env.close()


def test_action_spec_has_units_and_the_drive_mode_is_its_first_four():
    full = HAULER.control_mode("drive+dump")
    assert [d.name for d in full.dims] == ["throttle", "brake", "articulation", "direction",
                                           "body"]
    assert [d.unit for d in full.dims] == ["fraction", "fraction", "rad", "gear", "rad/s"]
    assert full.dims[2].high == pytest.approx(math.radians(45))
    assert HAULER.control_mode("drive").dims == full.dims[:4]
    env = gym.make(ENV_ID, obs_mode="state", control_mode="drive")
    assert env.action_space.shape == (4,)
    env.reset(seed=0)
    for _ in range(20):  # driving: the hoist valve stays closed, the body stays down
        env.step(np.array([1.0, -1.0, 0.0, 1.0], np.float32))  # full throttle, forward
    state = env.unwrapped.sim.world_state()
    assert state.extras["ground_speed"] > 2.0 and state.joint_pos[1] < 0.03
    env.close()


def test_masses_empty_and_loaded(env):
    _, info = env.reset(seed=3)
    sim, task = env.unwrapped.sim, env.unwrapped.task
    model, data = sim.model, sim.data
    tractor, body = model.body("tractor").id, model.body("dump_body").id
    loaded = task.loaded_kg
    assert PAYLOAD_T[0] * 1000 <= loaded <= PAYLOAD_T[1] * 1000
    assert f"{loaded / 1000:g}" in info["instruction"]
    assert model.body_subtreemass[tractor] == pytest.approx(23900 + loaded)
    assert model.body_mass[body] == pytest.approx(4400 + loaded)
    # MuJoCo's centre of mass of the whole machine agrees with the bodies' masses.
    machine = np.flatnonzero(model.body_rootid == tractor)
    masses = model.body_mass[machine]
    com = (masses[:, None] * data.xipos[machine]).sum(axis=0) / masses.sum()
    np.testing.assert_allclose(data.subtree_com[tractor], com, atol=1e-9)
    sim.material.reset(0.0)  # emptied: the model's own masses come back
    assert model.body_subtreemass[tractor] == pytest.approx(23900)
    assert model.body_mass[body] == pytest.approx(4400)


def test_the_bay_moves_with_the_seed_and_resets_replay(env):
    centres = set()
    for seed in range(8):
        env.reset(seed=seed)
        centres.add(tuple(np.round(env.unwrapped.task.bay_centre, 3)))
    assert len(centres) == 8
    first, _ = env.reset(seed=4)
    again, _ = env.reset(seed=4)
    np.testing.assert_array_equal(first, again)


def accelerate(tonnes: float) -> tuple[float, float]:
    """(speed after 2.5 s at full throttle on the flat, m rolled while braking from it to a
    stop)."""
    env = gym.make(ENV_ID, obs_mode="state", payload_tonnes=tonnes)
    env.reset(seed=0)
    sim = env.unwrapped.sim
    for _ in range(25):
        env.step(command(env, throttle=1.0, direction=1.0))
    speed = sim.world_state().extras["ground_speed"]
    start = sim.world_state().extras["base_x"]
    for _ in range(50):
        env.step(command(env, brake=0.5))
    x = sim.world_state().extras
    env.close()
    assert abs(x["ground_speed"]) < 0.05
    return speed, x["base_x"] - start


def test_a_loaded_hauler_accelerates_slower_and_stops_longer():
    light_speed, light_stop = accelerate(5.0)
    heavy_speed, heavy_stop = accelerate(28.0)
    # Power-limited: v ~ sqrt(2 P t / m), 28.9 t against 51.9 t.
    assert light_speed > 1.2 * heavy_speed > 3.0
    # From a lower speed, and still: kinetic energy over brake work grows with the mass.
    assert heavy_stop / heavy_speed**2 > 1.3 * light_stop / light_speed**2


def test_the_tip_margin_on_a_side_slope_shrinks_loaded_and_with_the_body_up(env):
    env.reset(seed=0)
    sim = env.unwrapped.sim
    model, data, controller = sim.model, sim.data, sim.controller
    roll = math.radians(15.0)  # the machine on a 15 deg side slope
    data.qpos[3:7] = (math.cos(roll / 2), math.sin(roll / 2), 0.0, 0.0)
    site = model.site("body_payload").id

    def margin(tonnes: float, hoist: float) -> float:
        sim.material.reset(tonnes * 1000)
        data.qpos[8] = hoist
        mujoco.mj_forward(model, data)
        return controller.tip_over_margin(tonnes * 1000, data.site_xpos[site])

    empty, loaded = margin(0.0, 0.0), margin(28.0, 0.0)
    assert 0 < loaded < empty - 0.1
    assert margin(28.0, 1.0) < loaded  # a raised full body: higher still
    data.qpos[3:7] = (1.0, 0.0, 0.0, 0.0)
    assert margin(28.0, 0.0) > empty  # on level ground it is the half tread, ~1.15 m


def test_the_body_rises_in_12_s_and_lowers_in_8_s_fully_loaded():
    env = gym.make(ENV_ID, obs_mode="state", payload_tonnes=28.0)
    env.reset(seed=0)
    sim = env.unwrapped.sim
    for _ in range(60):  # 6 s at full raise: about half the way (0.61 rad)
        env.step(command(env, brake=1.0, body=0.153))
    assert sim.world_state().joint_pos[1] == pytest.approx(0.61, abs=0.07)
    for _ in range(65):
        env.step(command(env, brake=1.0, body=0.153))
    assert sim.world_state().joint_pos[1] > 1.17
    for _ in range(40):  # 4 s lowering: about half the way
        env.step(command(env, brake=1.0, body=-0.153))
    assert sim.world_state().joint_pos[1] == pytest.approx(0.61, abs=0.08)
    for _ in range(45):
        env.step(command(env, brake=1.0, body=-0.153))
    assert sim.world_state().joint_pos[1] < 0.05
    env.close()


def test_tipping_before_the_bay_spills_and_mass_is_conserved(env):
    env.reset(seed=0)
    sim = env.unwrapped.sim
    loaded = env.unwrapped.task.loaded_kg
    for _ in range(170):
        _, reward, terminated, _, info = env.step(command(env, brake=1.0, body=0.153))
        x = sim.world_state().extras
        assert x["payload_kg"] + x["delivered_kg"] + x["spilled_kg"] == \
            pytest.approx(loaded, rel=1e-9)
    assert x["delivered_kg"] == 0 and x["spilled_kg"] > 0.9 * loaded
    assert not info["is_success"] and reward < 0
    assert info["safety"]["body_up_moving"] is False


def test_expert_hauls_and_dumps_mass_is_conserved_and_the_heap_is_drawn(env):
    obs, _ = env.reset(seed=1)
    expert = ExpertPolicy(env)
    expert.reset()
    sim, task = env.unwrapped.sim, env.unwrapped.task
    model = sim.model
    heap = model.geom("dump_bay_part4").id
    load = model.geom("body_load").id
    empty_heap_z = float(model.geom_pos[heap, 2])  # in the bay's frame (the bench may tilt)
    assert model.geom_size[load].max() > 1.0  # the load shows in the body
    rewards, body_up = [], 0.0
    while True:
        obs, reward, terminated, truncated, info = env.step(expert.act(obs))
        x = sim.world_state().extras
        assert x["payload_kg"] + x["delivered_kg"] + x["spilled_kg"] == \
            pytest.approx(task.loaded_kg, rel=1e-9)
        rewards.append(reward)
        body_up = max(body_up, float(sim.world_state().joint_pos[1]))
        if terminated or truncated:
            break
    assert info["is_success"] and METRICS <= set(info["task_metrics"])
    metrics = info["task_metrics"]
    assert metrics["dumped_t"] >= 0.95 * metrics["loaded_t"] and metrics["spilled_kg"] == 0
    assert 25 < metrics["cycle_time_s"] < 60 and metrics["mean_speed_mps"] > 2.0
    assert metrics["path_deviation_m"] < 0.5 and metrics["dump_error_m"] < 1.0
    assert metrics["min_tip_margin_m"] > 0.8 and body_up > 1.0
    assert rewards[-1] == 1.0 and rewards[100] > rewards[10] > 0  # progress along the route
    assert model.geom_size[load].max() < 0.01  # the body is empty, the heap rose
    rise = float(model.geom_pos[heap, 2]) - empty_heap_z
    assert rise == pytest.approx(x["delivered_kg"] / 1600 / (4 * 2.2 * 2.4), rel=1e-6)


def test_sparse_reward_and_the_options_validation():
    env = gym.make(ENV_ID, obs_mode="state", reward_type="sparse", grade=0.06,
                   payload_tonnes=20)
    _, info = env.reset(seed=0)
    assert "20 t" in info["instruction"] or "20 tonnes" in info["instruction"]
    _, reward, *_ = env.step(command(env, throttle=1.0, direction=1.0))
    assert reward == 0.0
    assert env.unwrapped.task.crest_x - env.unwrapped.task.foot_x == pytest.approx(2.5 / 0.06)
    env.close()
    with pytest.raises(ConfigError, match="grade"):
        gym.make(ENV_ID, grade=0.5)
    with pytest.raises(ConfigError, match="payload_tonnes"):
        gym.make(ENV_ID, payload_tonnes=40)
    with pytest.raises(ConfigError, match="dump body"):
        gym.make("librobot/WheelLoader-LoadHauler-v0", task="haul_dump")


def test_the_bench_falls_sideways_and_the_dump_on_it_has_less_margin():
    margins = {}
    for cross_fall in (0.0, 0.08):
        env = gym.make(ENV_ID, obs_mode="state", cross_fall=cross_fall, payload_tonnes=28)
        info = run_expert(env, seed=3)
        task, sim = env.unwrapped.task, env.unwrapped.sim
        bench = sim.model.body("bench").id
        tilt = sim.data.xmat[bench].reshape(3, 3)[:, 2]  # the bench's up axis
        assert math.atan2(-tilt[1], tilt[2]) == pytest.approx(math.atan(cross_fall))
        bay_z = sim.data.xpos[sim.model.body("dump_bay").id, 2]
        assert bay_z == pytest.approx(2.5 + task.bay_centre[1] * cross_fall)
        assert info["is_success"]
        margins[cross_fall] = info["task_metrics"]["min_tip_margin_m"]
        env.close()
    assert margins[0.08] < margins[0.0] - 0.05
    with pytest.raises(ConfigError, match="cross_fall"):
        gym.make(ENV_ID, cross_fall=0.3)


def test_expert_succeeds_on_a_few_seeds(env):
    for seed in (2, 1003):
        info = run_expert(env, seed)
        assert info["success_once"], (seed, info["task_metrics"])


@pytest.mark.slow
@pytest.mark.parametrize("first", [0, 1000])
def test_expert_hauls_and_dumps_in_at_least_90_of_100_episodes(env, first):
    successes = sum(run_expert(env, seed)["success_once"] for seed in range(first, first + 100))
    assert successes >= 90, f"{successes}/100 from seed {first}"
