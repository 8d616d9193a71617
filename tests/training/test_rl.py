"""The RL path: stable-baselines3 trains on an env's state mode; the sb3 policy loads the model."""

import gymnasium as gym

from librobot_gym.cli import main
from librobot_gym.policies import make_policy


def test_train_ppo_then_act_through_the_sb3_policy(tmp_path, capsys):
    assert main(["train", "--algo", "ppo", "--env", "librobot/Excavator-DigDump-v0",
                 "--steps", "128", "--out", str(tmp_path)]) == 0
    model = tmp_path / "ppo_model.zip"
    assert model.exists() and f"ppo:{model}" in capsys.readouterr().out
    env = gym.make("librobot/Excavator-DigDump-v0", obs_mode="state")
    policy = make_policy(f"ppo:{model}", env)
    obs, _ = env.reset(seed=0)
    action = policy.act(obs)
    assert env.action_space.contains(action)
    env.close()


def test_train_without_config_or_algo_is_a_clear_error(capsys):
    assert main(["train"]) == 2
    assert "--config" in capsys.readouterr().out
