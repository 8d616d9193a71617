"""PickCup: reset distribution, instructions, success test, rewards and the scripted expert."""

import gymnasium as gym
import numpy as np
import pytest

from librobot_gym.envs.tasks.pick_cup import COLOURS
from librobot_gym.errors import ConfigError
from librobot_gym.policies import ExpertPolicy
from librobot_gym.robots.arms.franka_panda.layouts import PICK_CUP

LIFT_SUCCESS = PICK_CUP["lift_success"]  # the Franka's

ENV_ID = "librobot/Franka-PickCup-v0"


@pytest.fixture
def env():
    env = gym.make(ENV_ID, obs_mode="state_dict")
    yield env
    env.close()


def test_instruction_names_the_colour_of_the_cup(env):
    seen = set()
    for seed in range(40):
        _, info = env.reset(seed=seed)
        colour = env.unwrapped.task.colour
        assert colour in info["instruction"] and "cup" in info["instruction"]
        rgba = env.unwrapped.sim.model.geom_rgba[env.unwrapped.sim.object_geom["cup"]]
        np.testing.assert_allclose(rgba, COLOURS[colour])
        seen.add(colour)
    assert len(seen) >= 4


def test_cup_position_and_yaw_are_randomised(env):
    poses = [env.reset(seed=s)[0]["cup_pos"] for s in range(10)]
    quats = [env.reset(seed=s)[0]["cup_quat"] for s in range(10)]
    assert np.ptp(np.array(poses)[:, 0]) > 0.05 and np.ptp(np.array(poses)[:, 1]) > 0.1
    assert np.ptp(np.array(quats)[:, 3]) > 0.3


def test_lifting_without_holding_is_not_success(env):
    env.reset(seed=0)
    sim = env.unwrapped.sim
    qadr, _ = sim.free["cup"]
    sim.data.qpos[qadr + 2] += LIFT_SUCCESS + 0.05  # teleport the cup up: not held
    state = sim.world_state()
    assert not env.unwrapped.task.success(state)
    assert env.unwrapped.task.lift_height(state) > LIFT_SUCCESS


def test_knocking_the_cup_over_ends_the_episode_as_failure(env):
    env.reset(seed=0)
    sim = env.unwrapped.sim
    qadr, _ = sim.free["cup"]
    sim.data.qpos[qadr + 3: qadr + 7] = [np.cos(np.pi / 4), np.sin(np.pi / 4), 0, 0]  # on its side
    _, _, terminated, truncated, info = env.step(np.zeros(7, dtype=np.float32))
    assert terminated and not info["is_success"]


def test_sparse_reward_is_zero_until_success():
    env = gym.make(ENV_ID, obs_mode="state", reward_type="sparse")
    env.reset(seed=0)
    rewards = [env.step(env.action_space.sample())[1] for _ in range(20)]
    assert set(rewards) == {0.0}
    env.close()


def test_unknown_task_option_is_a_config_error():
    with pytest.raises(ConfigError, match="reward_type"):
        gym.make(ENV_ID, reward_type="shaped")
    with pytest.raises(ConfigError, match="obs_mode"):
        gym.make(ENV_ID, obs_mode="pixels")
    with pytest.raises(ConfigError, match="control_mode"):
        gym.make(ENV_ID, control_mode="torque")
    with pytest.raises(ConfigError, match="camera_size"):
        gym.make(ENV_ID, camera_size=(0, 10))


def test_dense_reward_grows_as_the_expert_works():
    env = gym.make(ENV_ID, obs_mode="state")
    expert = ExpertPolicy(env)
    obs, _ = env.reset(seed=3)
    rewards = []
    for _ in range(200):
        obs, reward, terminated, truncated, info = env.step(expert.act(obs))
        rewards.append(reward)
        if terminated or truncated:
            break
    assert info["is_success"] and terminated and rewards[-1] == 1.0
    assert rewards[len(rewards) // 2] > rewards[0]
    env.close()


def test_joint_pos_control_reaches_its_targets():
    env = gym.make(ENV_ID, obs_mode="state_dict", control_mode="joint_pos")
    obs, _ = env.reset(seed=0)
    spec = env.unwrapped.action_spec
    target = np.array([0.3, -0.5, 0.1, -2.0, 0.0, 1.8, 0.6])
    action = spec.to_normalised(np.concatenate([target, [1.0]])).astype(np.float32)
    for _ in range(40):
        obs, *_ = env.step(action)
    np.testing.assert_allclose(obs["joint_pos"], target, atol=0.02)
    env.close()


def test_expert_succeeds_on_at_least_95_of_100_seeded_episodes():
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
    assert successes >= 95, f"expert succeeded on {successes}/100 episodes"
    env.close()
