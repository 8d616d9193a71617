"""`--async-envs`: batched evaluation with each env in its own process (`EnvProcess`). The
records equal those of K envs in one process and of K = 1; a policy that reads its env is
refused; a child's error or death comes back typed."""

from __future__ import annotations

import os
import signal
from functools import partial

import gymnasium as gym
import numpy as np
import pytest
import yaml

from librobot_gym.benchmarks.rollout import rollout
from librobot_gym.cli import main
from librobot_gym.envs.subprocess_env import EnvProcess, EnvProcessError
from librobot_gym.errors import ConfigError, InvalidActionError

from .conftest import VLA_IMAGE_SIZE as SIZE

ENV_ID = "librobot/Franka-PickCup-v0"


def same_records(got: list[tuple], want: list[tuple]) -> bool:
    """Equal keys and lengths; returns equal to 1e-5 (a batched forward pass rounds
    differently from batch 1)."""
    return ([row[:-1] for row in got] == [row[:-1] for row in want]
            and np.allclose([row[-1] for row in got], [row[-1] for row in want], atol=1e-5))


def records(summary) -> list[tuple]:
    return [(e.seed, e.success_once, e.length, e.instruction, e.episode_return)
            for e in summary.episodes]


def test_async_envs_give_the_records_of_one_process(stochastic_vla):
    kwargs = {"camera_size": SIZE, "max_episode_steps": 12}
    one = rollout(ENV_ID, stochastic_vla, 4, seed=3, env_kwargs=kwargs)
    together = rollout(ENV_ID, stochastic_vla, 4, seed=3, env_kwargs=kwargs, num_envs=3,
                       async_envs=True)
    assert same_records(records(together), records(one))


def test_bench_run_with_async_envs_stores_the_records_of_one(tmp_path, stochastic_vla):
    from librobot_gym.benchmarks.cards import load_card
    from librobot_gym.benchmarks.runner import run_suite
    from librobot_gym.benchmarks.store import ResultsStore

    card_path = tmp_path / "card.yaml"
    card_path.write_text(yaml.safe_dump({"suite": "mini-async", "version": 0, "tasks": [
        {"env": ENV_ID, "episodes": 3, "seed_start": 5, "max_steps": 10, "obs_modes": ["rgb"],
         "control_mode": "ee_delta_pose", "camera_size": SIZE,
         "variants": ["default", "lighting:dark"]}]}))
    card = load_card(card_path)
    stored = {}
    for name, options in {"one": {}, "async": {"num_envs": 2, "async_envs": True}}.items():
        store = ResultsStore(f"sqlite:///{tmp_path / (name + '.db')}")
        summary = run_suite(card, stochastic_vla, store, out_dir=tmp_path, **options)
        frame = store.episodes_frame(summary.run_id)
        stored[name] = sorted((r.seed, r.variant, int(r.length), float(r.episode_return))
                              for r in frame.itertuples())
    assert same_records(stored["async"], stored["one"]) and len(stored["one"]) == 6


def test_a_policy_that_reads_its_env_is_refused_with_the_fix():
    with pytest.raises(ConfigError, match="--async-envs: policy 'expert' does not batch"):
        rollout(ENV_ID, "expert", 2, num_envs=2, async_envs=True,
                env_kwargs={"obs_mode": "state"})


def test_the_rollout_command_takes_async_envs(tmp_path, capsys, stochastic_vla):
    assert main(["rollout", ENV_ID, "--policy", stochastic_vla, "--episodes", "2",
                 "--num-envs", "2", "--async-envs", "--camera-size", str(SIZE),
                 "--out", str(tmp_path)]) in (0, 1)  # a random-weight VLA: success unknown
    assert "over 2 episodes" in capsys.readouterr().out


def test_an_env_process_steps_and_reports_errors_typed():
    env = EnvProcess(partial(gym.make, ENV_ID, obs_mode="state"), name="test env")
    try:
        obs, info = env.reset(seed=4)
        local = gym.make(ENV_ID, obs_mode="state")
        expected, _ = local.reset(seed=4)
        np.testing.assert_array_equal(obs, expected)
        action = np.zeros(local.action_space.shape, np.float32)
        env.step_async(action)
        stepped = env.step_wait()
        np.testing.assert_array_equal(stepped[0], local.step(action)[0])
        local.close()
        with pytest.raises(InvalidActionError):
            env.step(np.full(3, np.nan, np.float32))
        assert env.attribute("max_episode_steps") > 0
    finally:
        env.close()
    env.close()  # twice is harmless


def test_a_dead_env_process_is_a_typed_error_naming_the_fix():
    env = EnvProcess(partial(gym.make, ENV_ID, obs_mode="state"), name="doomed env")
    try:
        os.kill(env._process.pid, signal.SIGKILL)
        env._process.join(timeout=5)
        with pytest.raises(EnvProcessError, match="doomed env's child process died.*--async-envs"):
            env.reset(seed=0)
    finally:
        env.close()


def test_an_env_that_cannot_be_built_fails_in_the_parent():
    with pytest.raises(Exception, match="NoSuchEnv"):
        EnvProcess(partial(gym.make, "librobot/NoSuchEnv-v0"))
