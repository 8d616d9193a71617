"""The RL path: stable-baselines3 trains on an env's state mode under VecNormalize, whose
statistics travel in the model zip; the sb3 policy loads the model and the statistics."""

import csv
import zipfile

import gymnasium as gym
import numpy as np
import pytest

from librobot_gym.cli import main
from librobot_gym.errors import InvalidObservationError
from librobot_gym.policies import make_policy
from librobot_gym.policies.sb3 import NORMALIZATION_ENTRY

DIG = "librobot/Excavator-DigDump-v0"
PICK = "librobot/Franka-PickCup-v0"


def test_train_ppo_then_act_through_the_sb3_policy(tmp_path, capsys):
    assert main(["train", "--algo", "ppo", "--env", DIG,
                 "--steps", "128", "--out", str(tmp_path)]) == 0
    model = tmp_path / "ppo_model.zip"
    assert model.exists() and f"ppo:{model}" in capsys.readouterr().out
    with zipfile.ZipFile(model) as archive:
        assert NORMALIZATION_ENTRY in archive.namelist()
    env = gym.make(DIG, obs_mode="state")
    policy = make_policy(f"ppo:{model}", env)
    stats = policy.normalization
    assert stats is not None and len(stats.mean) == env.observation_space.shape[0]
    assert stats.count > 128 and np.any(np.asarray(stats.var) > 1e-6)
    obs, _ = env.reset(seed=0)
    action = policy.act(obs)
    assert env.action_space.contains(action)
    # The policy acts on the statistics' view of the observation, as training did.
    expected, _ = policy.model.predict(stats.normalize(obs), deterministic=True)
    np.testing.assert_array_equal(action, expected)
    np.testing.assert_allclose(stats.normalize(obs),
                               np.clip((obs - np.asarray(stats.mean))
                                       / np.sqrt(np.asarray(stats.var) + stats.epsilon), -10, 10),
                               rtol=1e-5, atol=1e-5)
    env.close()


def test_learning_curve_csv(tmp_path, capsys):
    curve = tmp_path / "curve.csv"
    assert main(["train", "--algo", "ppo", "--env", PICK, "--steps", "512", "--curve-every",
                 "256", "--curve", str(curve), "--out", str(tmp_path)]) == 0
    rows = list(csv.DictReader(curve.open()))
    assert [int(r["steps"]) for r in rows] == [256, 512]
    assert set(rows[0]) == {"steps", "episodes", "mean_return", "success_rate", "mean_length",
                            "wall_s"}
    assert all(int(r["episodes"]) >= 1 for r in rows)  # PickCup truncates at 200 steps
    ended = rows
    # Returns are the env's own (Monitor sits under VecNormalize): dense PickCup rewards.
    assert all(0.0 < float(r["mean_return"]) < float(r["mean_length"]) for r in ended)
    assert all(0.0 <= float(r["success_rate"]) <= 1.0 for r in ended)
    assert "learning curve" in capsys.readouterr().out


def test_no_normalize_saves_a_plain_model_and_a_nan_state_is_refused(tmp_path):
    assert main(["train", "--algo", "ppo", "--env", PICK, "--steps", "64", "--no-normalize",
                 "--out", str(tmp_path)]) == 0
    model = tmp_path / "ppo_model.zip"
    with zipfile.ZipFile(model) as archive:
        assert NORMALIZATION_ENTRY not in archive.namelist()
    env = gym.make(PICK, obs_mode="state")
    policy = make_policy(f"ppo:{model}", env)
    assert policy.normalization is None
    obs, _ = env.reset(seed=0)
    cup = dict(env.unwrapped.state_layout)["cup_pos"]
    bad = obs.copy()
    bad[cup.start + 1] = np.nan
    with pytest.raises(InvalidObservationError, match="'cup_pos'"):
        policy.act(bad)
    batch = np.stack([obs, bad])  # a vector env's batch names the field too
    with pytest.raises(InvalidObservationError, match="'cup_pos'"):
        policy.act(batch)
    assert env.action_space.contains(policy.act(obs))
    env.close()


def test_train_without_config_or_algo_is_a_clear_error(capsys):
    assert main(["train"]) == 2
    assert "--config" in capsys.readouterr().out
