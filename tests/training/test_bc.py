"""Behaviour cloning end to end: record expert demos, train a tiny VLA, beat random, resume."""

import gymnasium as gym
import numpy as np
import pytest
import torch

from librobot_gym.benchmarks.rollout import run_episode
from librobot_gym.policies import make_policy
from librobot_gym.training.bc import TrainConfig
from librobot_gym.training.data.collect import collect
from librobot_gym.training.run import build_trainer

ENV_ID = "librobot/Franka-PickCup-v0"
SIZE = 32
MODEL = {"framework": "octo", "vlm": {"name": "tiny", "text_encoder": "learned", "embed_dim": 32},
         "head": {"name": "mlp"}, "action_dim": 7, "proprio_dim": 22, "chunk_size": 4,
         "hidden_dim": 64,
         "policy": {"control_mode": "ee_delta_pose", "cameras": ["front", "wrist"],
                    "image_size": [SIZE, SIZE], "control_hz": 20},
         "chunking": {"mode": "receding", "execute_steps": 2}}


@pytest.fixture(scope="module")
def demos(tmp_path_factory):
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    out = tmp_path_factory.mktemp("demos") / "pickcup"
    collect(ENV_ID, "expert", 8, out, seed=0, camera_size=SIZE)
    yield out
    torch.set_num_threads(before)


def config(tmp_path, demos, **extra) -> TrainConfig:
    settings = {"dataset": str(demos), "out": str(tmp_path / "run"), "batch_size": 16,
                "lr": 1e-3, "warmup_steps": 10, "log_every": 10, **extra}
    return TrainConfig(model=MODEL, **settings)


def mean_return(policy_spec_or_policy, seeds) -> float:
    env = gym.make(ENV_ID, camera_size=SIZE)
    policy = policy_spec_or_policy if not isinstance(policy_spec_or_policy, str) else \
        make_policy(policy_spec_or_policy, env, seed=0)
    returns = [run_episode(env, policy, seed, ENV_ID).episode_return for seed in seeds]
    env.close()
    return float(np.mean(returns))


def test_a_short_bc_run_learns_and_beats_random(tmp_path, demos):
    trainer = build_trainer(config(tmp_path, demos, steps=300, checkpoint_every=300))
    losses = []
    trainer.callbacks.append(type("Keep", (), {
        "on_train_start": lambda self, t: None, "on_epoch_end": lambda self, t, e: None,
        "on_evaluate": lambda self, t, r: None, "on_train_end": lambda self, t: None,
        "on_step_end": lambda self, t, m: losses.append(m["loss"])})())
    result = trainer.train()
    assert np.mean(losses[-20:]) < 0.5 * np.mean(losses[:20])
    seeds = range(500, 504)
    trained = mean_return(f"vla:{result['checkpoint']}", seeds)
    assert trained > mean_return("random", seeds)


def test_training_resumes_from_the_last_checkpoint(tmp_path, demos):
    first = build_trainer(config(tmp_path, demos, steps=6, checkpoint_every=3))
    first.train()
    assert (tmp_path / "run" / "last" / "trainer_state.pt").exists()
    second = build_trainer(config(tmp_path, demos, steps=10, checkpoint_every=3))
    assert second.step == 6  # picked up where the first run stopped
    assert second.train()["step"] == 10


def test_librobot_train_writes_where_out_says(tmp_path, demos):
    import yaml

    from librobot_gym.cli import main

    path = tmp_path / "train.yaml"
    path.write_text(yaml.safe_dump({"model": MODEL, "dataset": str(demos), "steps": 2,
                                    "batch_size": 8, "out": str(tmp_path / "from-config"),
                                    "checkpoint_every": 2, "log_every": 1}))
    assert main(["train", "--config", str(path), "--out", str(tmp_path / "from-cli")]) == 0
    assert (tmp_path / "from-cli" / "last").is_dir()
    assert not (tmp_path / "from-config").exists()


def test_projected_steps_spread_the_schedule_over_the_time_limit():
    from librobot_gym.training.bc import projected_steps

    assert projected_steps(100, 10.0, 20.0, 10**6) == 200  # halfway through the time
    assert projected_steps(100, 10.0, 20.0, 150) == 150  # never past the step budget
    assert projected_steps(0, 0.0, 20.0, 500) == 500  # no pace yet: the step budget


def test_a_time_limited_run_stops_on_time_with_its_lr_decayed(tmp_path, demos):
    trainer = build_trainer(config(tmp_path, demos, steps=10**6, warmup_steps=0,
                                   time_limit_s=2.0, checkpoint_every=10**6))
    result = trainer.train()
    assert 1 <= result["step"] < 10**6  # a loaded machine may manage one step in 2 s
    assert 2.0 <= trainer.elapsed_s() < 30.0
    assert trainer.scheduler.get_last_lr()[0] < 0.1 * trainer.config.lr  # decayed, not cut
    state = torch.load(tmp_path / "run" / "last" / "trainer_state.pt", weights_only=False)
    assert state["elapsed_s"] >= 2.0
    resumed = build_trainer(config(tmp_path, demos, steps=10**6, warmup_steps=0,
                                   time_limit_s=2.0, checkpoint_every=10**6))
    assert resumed.train()["step"] == result["step"]  # its time was already spent


def test_training_on_device_held_data_and_several_folders(tmp_path, demos):
    trainer = build_trainer(config(tmp_path, demos, steps=40, checkpoint_every=40,
                                   data_on_device=True, dataset=[str(demos), str(demos)]))
    assert trainer.device_data is not None
    assert len(trainer.device_data) == 2 * len(trainer.dataset.source.parts[0])
    from librobot_gym.training.bc import Callback

    losses = []
    trainer.callbacks.append(type("Keep", (Callback,), {
        "on_step_end": lambda self, t, m: losses.append(m["loss"])})())
    assert trainer.train()["step"] == 40
    assert np.mean(losses[-10:]) < np.mean(losses[:10])


@pytest.mark.parametrize("dataset", [[], [""], 3, ["a", 4]])
def test_a_dataset_that_is_no_folder_list_is_refused(dataset):
    from librobot_gym.errors import ConfigError

    with pytest.raises(ConfigError, match="folder or a list of folders"):
        TrainConfig(model=MODEL, dataset=dataset).dataset_folders()
