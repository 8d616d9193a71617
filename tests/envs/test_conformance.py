"""The env contract (DESIGN.md section 3), checked on every registered env."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env, data_equivalence

from librobot_gym.errors import InvalidActionError
from librobot_gym.hardware.cameras import ArrayFrameSource
from tests.conftest import registered_env_ids

ENV_IDS = registered_env_ids()
SIM_IDS = [env_id for env_id in ENV_IDS if "-Real-" not in env_id]


# No robot is reachable here: each hardware env runs on its robot's stand-in (the twin, the
# servo-bus emulator, the ECU on a virtual CAN bus, each in lockstep), named by the robot's
# spec, unattended (operator "auto"); stand-ins that render no camera images of their own get
# still noise frames (cameras of a cell). A lockstep stand-in replays an episode from its seed
# as a simulator does. State modes need object poses: an emulator that simulates only the
# robot gives them from its placeholder scene (`?scene=static`), which judges nothing.
def stand_in(env_id: str, state_mode: bool = False) -> str:
    from librobot_gym.envs.registration import env_entry
    from librobot_gym.hardware.drivers import scheme_info
    from librobot_gym.robots import get_robot

    robot = get_robot(env_entry(env_id).robot)
    assert robot.stand_in, f"{robot.name} has a -Real- env but no stand_in driver"
    if state_mode and not scheme_info(robot.stand_in).get("simulates_cell"):
        return robot.stand_in + "?scene=static"
    return robot.stand_in


def noise_cameras(env_id: str) -> dict[str, ArrayFrameSource]:
    """One noise frame per camera, the same at every read: images that replay with the seed."""
    rng = np.random.default_rng(0)
    robot = gym.spec(env_id).kwargs["robot"]
    from librobot_gym.robots import get_robot

    return {camera.name: ArrayFrameSource([rng.integers(0, 256, (48, 48, 3), np.uint8)])
            for camera in get_robot(robot).cameras}


def make(env_id: str, **kwargs) -> gym.Env:
    """The env; hardware envs get their robot's stand-in driver."""
    if "-Real-" in env_id:
        from librobot_gym.hardware.drivers import scheme_info

        kwargs.setdefault("driver", stand_in(env_id, kwargs.get("obs_mode", "rgb") != "rgb"))
        kwargs.setdefault("operator", "auto")
        if not scheme_info(kwargs["driver"]).get("renders_cameras"):
            kwargs.setdefault("cameras", noise_cameras(env_id))
    return gym.make(env_id, **kwargs)


def test_there_are_envs():
    assert "librobot/Franka-PickCup-v0" in ENV_IDS


# gymnasium's checker asserts that reset(seed) replays exactly: true of a simulator and of a
# lockstep stand-in, which restarts its world, noise and clock from the seed (not of a robot).
@pytest.mark.parametrize("env_id", ENV_IDS)
@pytest.mark.parametrize("obs_mode", ["rgb", "state", "state_dict"])
def test_gymnasium_check_env(env_id, obs_mode):
    env = make(env_id, obs_mode=obs_mode, camera_size=64)
    try:
        check_env(env.unwrapped, skip_render_check=True)
    finally:
        env.close()


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_stable_baselines3_check_env_in_state_mode(env_id):
    from stable_baselines3.common.env_checker import check_env as sb3_check_env

    env = make(env_id, obs_mode="state")
    try:
        sb3_check_env(env.unwrapped, warn=True)
    finally:
        env.close()


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_same_seed_same_episode_images_included(env_id):
    """The same seed and actions give the same observations, rewards and infos, exactly: in
    another env, and in the same env again (the second reset of a -Real- env on its stand-in
    used to start from where the first episode left the robot, its noise and its clock)."""
    envs = [make(env_id, camera_size=(48, 64)) for _ in range(2)]
    actions = np.random.default_rng(0).uniform(-1, 1, (8, envs[0].action_space.shape[0]))

    def episode(env: gym.Env, seed: int = 123) -> list:
        transitions = [env.reset(seed=seed)]
        transitions += [env.step(action.astype(np.float32)) for action in actions]
        return transitions

    try:
        first = episode(envs[0])
        assert first[0][0]["images"][envs[0].unwrapped.cameras[0]].shape == (48, 64, 3)
        assert data_equivalence(first, episode(envs[1]), exact=True)
        assert data_equivalence(first, episode(envs[0]), exact=True)
        other = envs[0].reset(seed=124)[0]
        assert not data_equivalence(other, first[0][0])
    finally:
        for env in envs:
            env.close()


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_info_keys_at_every_step(env_id):
    env = make(env_id, obs_mode="state")
    try:
        _, info = env.reset(seed=0)
        for _ in range(3):
            for key in ("is_success", "success_once", "task_metrics", "safety", "sim_unstable"):
                assert key in info, key
            assert all(isinstance(v, float) for v in info["task_metrics"].values())
            _, _, _, _, info = env.step(env.action_space.sample())
        assert "render_fps" in env.metadata and "autoreset_mode" in env.metadata
    finally:
        env.close()


BAD_ACTIONS = {
    "nan": lambda n: np.full(n, np.nan, dtype=np.float32),
    "inf": lambda n: np.concatenate([[np.inf], np.zeros(n - 1)]).astype(np.float32),
    "neg_inf": lambda n: np.concatenate([np.zeros(n - 1), [-np.inf]]),
    "too_short": lambda n: np.zeros(n - 1, dtype=np.float32),
    "too_long": lambda n: np.zeros(n + 1, dtype=np.float32),
    "2d": lambda n: np.zeros((1, n), dtype=np.float32),
    "bool_dtype": lambda n: np.zeros(n, dtype=bool),
    "complex_dtype": lambda n: np.zeros(n, dtype=np.complex64),
    "string": lambda n: np.array(["a"] * n),
    "object": lambda n: np.array([None] * n, dtype=object),
}


@pytest.mark.parametrize("env_id", ENV_IDS)
@pytest.mark.parametrize("kind", sorted(BAD_ACTIONS))
def test_bad_action_gives_typed_error(env_id, kind):
    env = make(env_id, obs_mode="state")
    try:
        env.reset(seed=0)
        n = env.action_space.shape[0]
        with pytest.raises(InvalidActionError) as excinfo:
            env.step(BAD_ACTIONS[kind](n))
        assert "action" in str(excinfo.value)
        # The env is still usable after refusing the action.
        env.step(np.zeros(n, dtype=np.float32))
    finally:
        env.close()


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_clipped_actions_are_reported_in_safety(env_id):
    env = make(env_id, obs_mode="state")
    try:
        _, info = env.reset(seed=0)
        assert info["safety"]["clipped_action"] is False
        n = env.action_space.shape[0]
        _, _, _, _, info = env.step(np.full(n, 1e30))
        assert info["safety"]["clipped_action"] is True
        _, _, _, _, info = env.step(np.zeros(n, dtype=np.float32))
        assert info["safety"]["clipped_action"] is False
        _, _, _, _, info = env.step(np.concatenate([[-1.5], np.zeros(n - 1)]).astype(np.float32))
        assert info["safety"]["clipped_action"] is True
    finally:
        env.close()


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_thousand_random_steps_stay_stable(env_id):
    env = make(env_id, obs_mode="state")
    try:
        env.reset(seed=7)
        env.action_space.seed(7)
        for _ in range(1000):
            obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
            assert not info["sim_unstable"]
            assert np.all(np.isfinite(obs)) and np.isfinite(reward)
            if terminated or truncated:
                env.reset()
    finally:
        env.close()


@pytest.mark.parametrize("env_id", SIM_IDS)  # a simulator's failure mode
def test_blow_up_is_reported_as_truncation(env_id):
    env = make(env_id, obs_mode="state")
    try:
        obs, _ = env.reset(seed=0)
        env.unwrapped.sim.data.qvel[:] = 1e9  # an impossible kick
        obs2, reward, terminated, truncated, info = env.step(np.zeros(env.action_space.shape))
        assert truncated and not terminated and info["sim_unstable"]
        assert np.all(np.isfinite(obs2)) and env.observation_space.contains(obs2)
        obs3, _ = env.reset(seed=0)
        assert np.array_equal(obs, obs3)
    finally:
        env.close()


# Worker processes build their own envs from picklable arguments: hardware envs whose stand-in
# renders its own cameras only (the others need FrameSource objects made in the worker).
def _renders_own_cameras(env_id: str) -> bool:
    from librobot_gym.hardware.drivers import scheme_info

    return "-Real-" not in env_id or scheme_info(stand_in(env_id)).get("renders_cameras", False)


VECTOR_IDS = [env_id for env_id in ENV_IDS if _renders_own_cameras(env_id)]


@pytest.mark.parametrize("env_id", VECTOR_IDS)
def test_async_vector_env_steps(env_id):
    hardware = {"driver": stand_in(env_id)} if "-Real-" in env_id else {}
    envs = gym.make_vec(env_id, num_envs=2, vectorization_mode="async",
                        camera_size=32, **hardware)
    try:
        obs, info = envs.reset(seed=[1, 2])
        camera = next(iter(obs["images"]))
        assert obs["images"][camera].shape == (2, 32, 32, 3)
        for _ in range(3):
            obs, reward, terminated, truncated, info = envs.step(envs.action_space.sample())
        assert reward.shape == (2,)
        assert not np.array_equal(obs["images"][camera][0], obs["images"][camera][1])
    finally:
        envs.close()


# Each mode's batch of instructions: async vector envs pass observations through shared memory
# by default, where gymnasium's own Text reader froze them ("aaa...", envs/spaces.py).
VECTOR_MODES = {
    "sync": ("sync", {}),
    "async": ("async", {}),
    "async_no_shared_memory": ("async", {"shared_memory": False}),
    "async_no_copy": ("async", {"copy": False}),  # views of the shared memory, live
}


@pytest.mark.parametrize("env_id", VECTOR_IDS)
@pytest.mark.parametrize("mode", list(VECTOR_MODES))
def test_vector_envs_give_each_env_its_instruction(env_id, mode):
    seeds = [3, 4]
    expected = []
    for seed in seeds:
        env = make(env_id, camera_size=16)
        try:
            expected.append(env.reset(seed=seed)[0]["instruction"])
        finally:
            env.close()
    assert expected[0] != expected[1], "pick seeds whose instructions differ"
    vectorization_mode, vector_kwargs = VECTOR_MODES[mode]
    hardware = {"driver": stand_in(env_id)} if "-Real-" in env_id else {}
    envs = gym.make_vec(env_id, num_envs=2, vectorization_mode=vectorization_mode,
                        vector_kwargs=vector_kwargs, camera_size=16, **hardware)
    try:
        obs, _ = envs.reset(seed=seeds)
        assert obs["instruction"] == tuple(expected)
        for _ in range(2):
            obs, *_ = envs.step(envs.action_space.sample())
            assert obs["instruction"] == tuple(expected)
        obs, _ = envs.reset(seed=seeds[::-1])  # a new episode writes its own
        assert obs["instruction"] == tuple(expected[::-1])
    finally:
        envs.close()
