"""Recording and training on another machine (`scripts/train_elsewhere.py`,
`scripts/language_elsewhere.sh`), at toy scale on this one: the instructions' text states
exported from env resets, a parallel sharded recording, a time-limited run on device-held data
over every shard, and the language ablation scoring that run back here."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
import torch
import yaml

from librobot_gym.policies.vlm import tiny
from librobot_gym.training.data.concat import open_recorded
from librobot_gym.training.data.lerobot import LeRobotDataset
from librobot_gym.training.data.multitask import shard_jobs
from librobot_gym.training.language_ablation import AblationSpec, run_ablation

TASKS = ["librobot/Franka-PickCup-v1", "librobot/Franka-PressButton-v0"]
SIZE = 32
SCRIPT = Path(__file__).parents[2] / "scripts" / "train_elsewhere.py"


def script():
    spec = importlib.util.spec_from_file_location("train_elsewhere", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def env_args(ids):
    return [arg for env_id in ids for arg in ("--env", env_id)]


@pytest.fixture(scope="module")
def elsewhere(tmp_path_factory):
    """Export, record (2 tasks x 2 shards of 1 demo, 2 processes) and train, as the device
    machine would; every preloaded text state is forgotten afterwards."""
    saved = dict(tiny._PRELOADED)
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("elsewhere")
    run = script().main
    assert run(["export", *env_args(TASKS[:1]), "--seeds", "2",
                "--out", str(root / "pick.pt")]) == 0
    assert run(["export", *env_args(TASKS), "--seeds", "2", "--out", str(root / "all.pt")]) == 0
    assert run(["collect", *env_args(TASKS), "--demos", "2", "--shards", "2", "--workers", "2",
                "--camera-size", str(SIZE), "--out", str(root / "data")]) == 0
    config = yaml.safe_load(open("configs/train/tiny-octo-tabletop-128.yaml"))
    config["model"]["vlm"].update(embed_dim=32, channels=[8, 16], keypoints=4)
    config["model"].update(hidden_dim=32, chunk_size=4)
    config["model"]["policy"]["image_size"] = [SIZE, SIZE]
    config.update(batch_size=8, warmup_steps=2, checkpoint_every=1000, log_every=1)
    (root / "toy.yaml").write_text(yaml.safe_dump(config))
    yield root, run
    tiny._PRELOADED.clear()
    tiny._PRELOADED.update(saved)
    torch.set_num_threads(before)


def test_shards_split_each_task_on_the_seeds_a_single_recording_uses():
    jobs = shard_jobs(TASKS, 5, 2, "out", seed=10)
    assert [(n, first) for _, n, _, first in jobs] == [(2, 10), (3, 12)] * 2
    assert jobs[3][2].endswith("PressButton-v0-01")


def test_the_shards_hold_each_task_once_on_its_seeds(elsewhere):
    root, _ = elsewhere
    summary = json.loads((root / "data" / "collect.json").read_text())
    assert summary["env_ids"] == TASKS and len(summary["shards"]) == 4
    seeds = {folder: list(LeRobotDataset(folder).episodes["seed"])
             for folder in summary["shards"]}
    assert list(seeds.values()) == [[0], [1], [0], [1]]
    joined = open_recorded(summary["shards"])
    assert joined.num_episodes == 4


def test_training_refuses_instructions_the_states_file_lacks(elsewhere, capsys):
    root, run = elsewhere
    tiny._PRELOADED.clear()
    code = run(["train", "--config", str(root / "toy.yaml"), "--states", str(root / "pick.pt"),
                "--dataset", *json.loads((root / "data" / "collect.json").read_text())["shards"],
                "--out", str(root / "refused"), "--device", "cpu"])
    assert code == 2
    assert "not in the states file" in capsys.readouterr().err
    assert not (root / "refused" / "last").exists()


def test_a_time_limited_device_held_run_scored_back_by_the_ablation(elsewhere):
    root, run = elsewhere
    shards = json.loads((root / "data" / "collect.json").read_text())["shards"]
    tiny._PRELOADED.clear()
    assert run(["train", "--config", str(root / "toy.yaml"), "--states", str(root / "all.pt"),
                "--dataset", *shards, "--out", str(root / "train"), "--device", "cpu",
                "--time-limit", "3", "--data-on-device"]) == 0
    budget = json.loads((root / "train" / "budget.json").read_text())
    assert budget["steps"] >= 1 and budget["camera_size"] == [SIZE, SIZE]
    assert budget["frames"] == open_recorded(shards).num_frames
    (root / "train" / "collect.json").write_text(
        (root / "data" / "collect.json").read_text())
    spec = AblationSpec(env_ids=TASKS, config=str(root / "toy.yaml"), out=str(root / "scored"),
                        demos=2, episodes=1, trained=str(root / "train"))
    report = run_ablation(spec, log=lambda line: None)
    assert [row["env_id"] for row in report["tasks"]] == TASKS
    assert report["budget"]["steps"] == budget["steps"]
    assert "recorded and trained on" in (root / "scored" / "report.md").read_text()
    assert not (root / "scored" / "data").exists()  # nothing recorded or trained here
