"""The env table and Gymnasium 1.x conventions: spec step limits, `human` rendering, and the
registries' lookups (robots, tasks, env ids, driver and policy schemes)."""

import gymnasium as gym
import numpy as np
import pytest

from librobot_gym.envs.registration import env_doc, env_entry, env_ids
from librobot_gym.errors import ConfigError

ENV_ID = "librobot/Franka-PickCup-v0"


def test_every_id_has_its_step_limit_in_the_gymnasium_spec():
    for env_id in env_ids():
        assert gym.spec(env_id).max_episode_steps == env_entry(env_id).max_episode_steps


def test_the_spec_limit_truncates_through_gymnasiums_time_limit_and_the_env_alike():
    env = gym.make(ENV_ID, obs_mode="state", max_episode_steps=3)  # gymnasium's TimeLimit
    try:
        env.reset(seed=0)
        ends = [env.step(np.zeros(7, np.float32))[3] for _ in range(3)]
        assert ends == [False, False, True]
    finally:
        env.close()
    env = gym.make(ENV_ID, obs_mode="state", max_episode_steps=-1)  # no wrapper: the env's own
    try:
        assert env.unwrapped.max_episode_steps == 200 and "TimeLimit" not in str(env)
        env.reset(seed=0)
        env.unwrapped.max_episode_steps = 2
        assert [env.step(np.zeros(7, np.float32))[3] for _ in range(2)] == [False, True]
    finally:
        env.close()


def test_human_rendering_without_a_display_is_refused_with_the_alternative(monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    with pytest.raises(ConfigError, match="no display.*rgb_array"):
        gym.make(ENV_ID, render_mode="human")
    with pytest.raises(ConfigError, match="rgb_array"):
        gym.make("librobot/Franka-PickCup-Real-v0", render_mode="human", driver="twin:lockstep")


def test_human_is_a_declared_render_mode_so_gymnasium_adds_no_wrapper(monkeypatch):
    monkeypatch.setenv("DISPLAY", ":99")  # no window opens before the first render
    env = gym.make(ENV_ID, render_mode="human", obs_mode="state")
    try:
        assert "human" in env.metadata["render_modes"]
        assert "HumanRendering" not in str(env)
    finally:
        env.unwrapped.render_mode = None  # nothing to open here
        env.close()


def test_unknown_names_fail_with_the_close_matches():
    from librobot_gym.envs.tasks import get_task
    from librobot_gym.hardware.drivers import make_driver
    from librobot_gym.policies.registry import make_policy
    from librobot_gym.robots import get_robot

    with pytest.raises(ConfigError, match="did you mean 'franka_panda'"):
        get_robot("franka_pand")
    with pytest.raises(ConfigError, match="did you mean 'pick_cup'"):
        get_task("pickcup")
    with pytest.raises(ConfigError, match="did you mean 'librobot/Franka-PickCup-v0'"):
        env_entry("librobot/Franka-PickCupp-v0")
    with pytest.raises(ConfigError, match="did you mean 'twin'"):
        make_driver("twins:lockstep", get_robot("franka_panda"))
    with pytest.raises(ConfigError, match="did you mean 'expert'"):
        make_policy("exprt", None)


def test_env_docs_come_from_the_robots_folder_or_the_task():
    assert "SO-100" in env_doc("librobot/SO100-PickCup-v0")  # robots/arms/so100/pick_cup.md
    assert "Franka Panda" in env_doc(ENV_ID)  # PickCup's docstring


def test_a_robot_without_a_layout_for_the_task_is_refused_with_the_fix():
    from dataclasses import replace

    from librobot_gym.envs.tasks.pick_cup import PickCup
    from librobot_gym.robots import get_robot

    bare = replace(get_robot("franka_panda"), name="bare_arm", task_layouts={})
    with pytest.raises(ConfigError, match="no PickCup layout.*task_layouts"):
        PickCup(bare)
