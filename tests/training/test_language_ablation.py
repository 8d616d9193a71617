"""The language ablation end to end at toy scale, and the shuffle that it rests on.

The pipeline (multi-task demos -> one VLA -> per-task scores with true and shuffled
instructions) runs on two Franka tasks with 2 demos each, 100 steps, 32x32; the checks are that
the dataset holds both tasks with their instructions, that the shuffled condition really fed
each episode an instruction naming something else, and that the MiniLM text reaches the actions.
"""

import json

import gymnasium as gym
import numpy as np
import pytest
import torch
import yaml

from librobot_gym.errors import ConfigError
from librobot_gym.training.data.base import DatasetError
from librobot_gym.training.data.lerobot import LeRobotDataset
from librobot_gym.training.data.multitask import collect_multitask
from librobot_gym.training.language_ablation import (
    AblationSpec,
    ShuffledInstruction,
    donor_instructions,
    named_slots,
    report_markdown,
    run_ablation,
)

PICK = "librobot/Franka-PickCup-v1"
TASKS = [PICK, "librobot/Franka-PickCup-v0"]
SIZE = 32


@pytest.fixture(scope="module")
def ablation(tmp_path_factory):
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("ablation")
    config = yaml.safe_load(open("configs/train/tiny-octo-tabletop.yaml"))
    vlm = config["model"]["vlm"]
    vlm.update(embed_dim=32, channels=[8, 16], keypoints=4, keypoint_block=1)
    config["model"].update(hidden_dim=32, chunk_size=4)
    config["model"]["policy"]["image_size"] = [SIZE, SIZE]
    config.update(batch_size=16, warmup_steps=10, checkpoint_every=100, log_every=50)
    (root / "toy.yaml").write_text(yaml.safe_dump(config))
    spec = AblationSpec(env_ids=TASKS, config=str(root / "toy.yaml"), out=str(root / "run"),
                        demos=2, steps=100, episodes=2)
    report = run_ablation(spec, log=lambda line: None)
    yield root / "run", report
    torch.set_num_threads(before)


def test_the_dataset_holds_every_task_with_its_instructions(ablation):
    run, _ = ablation
    data = LeRobotDataset(run / "data")
    assert data.num_episodes == 4
    assert list(data.episodes["env_id"]) == [TASKS[0]] * 2 + [TASKS[1]] * 2
    assert list(data.episodes["seed"]) == [0, 1, 0, 1]
    table = json.loads((run / "data" / "meta" / "info.json").read_text())["librobot"]
    assert table["env_ids"] == TASKS and table["episodes_per_task"] == 2
    firsts = [i for i in range(data.num_frames) if data.frame_index[i] == 0]
    instructions = [data.instruction(i) for i in firsts]
    assert len(set(instructions)) >= 2, instructions  # per-episode instructions are kept


def test_the_report_scores_both_conditions_per_task(ablation):
    run, report = ablation
    assert [row["env_id"] for row in report["tasks"]] == TASKS
    for row in report["tasks"]:
        for condition in ("instruction", "shuffled"):
            assert row[condition]["episodes"] == 2
            assert 0 <= row[condition]["successes"] <= 2
    pick = report["tasks"][0]
    assert pick["instruction"]["wrong_object"] is not None  # PickCup-v1 reports wrong_object
    assert len(pick["shuffled"]["distances"]) == 2 and pick["distance"]["shuffled"].endswith("cm")
    lines = [json.loads(line) for line in (run / "episodes.jsonl").read_text().splitlines()]
    assert [(e["env_id"], e["condition"]) for e in lines[:4]] == [
        (PICK, "instruction"), (PICK, "instruction"), (PICK, "shuffled"), (PICK, "shuffled")]
    assert len(lines) == 8 and all(e["seed"] in (10_000, 10_001) for e in lines)
    budget = report["budget"]
    assert budget["demos_per_task"] == 2 and budget["steps"] == 100
    assert budget["peak_memory_mb"] > 0 and budget["train_s"] > 0
    kept = json.loads((run / "timings.json").read_text())  # what a resumed call adds to
    assert kept["train_s"] == pytest.approx(budget["train_s"], abs=0.1)
    assert (run / "report.md").read_text() == report_markdown(report)
    assert json.loads((run / "report.json").read_text()) == report


def test_shuffled_episodes_read_an_instruction_naming_something_else(ablation):
    _, report = ablation
    pick = report["tasks"][0]
    true, fed = pick["instruction"]["fed"], pick["shuffled"]["fed"]
    env = gym.make(PICK, camera_size=SIZE)
    templates = env.unwrapped.task.instructions.train + env.unwrapped.task.instructions.heldout
    env.close()
    for said, read in zip(true, fed, strict=True):
        assert named_slots(said, templates) != named_slots(read, templates), (said, read)


def test_the_text_reaches_the_actions(ablation):
    run, _ = ablation
    from librobot_gym.policies.vla.policy import VLAPolicy

    policy = VLAPolicy.from_pretrained(run / "train" / "last")
    env = gym.make(PICK, camera_size=SIZE)
    obs, _ = env.reset(seed=10_000)
    env.close()
    red = policy.predict_chunk({**obs, "instruction": "pick up the red mug"})
    blue = policy.predict_chunk({**obs, "instruction": "pick up the blue cup left of the bowl"})
    assert not np.allclose(red, blue, atol=1e-6)


def test_named_slots_reads_the_target_back():
    templates = ("pick up the {target}", "lift the {target}")
    assert named_slots("lift the red mug", templates) == ("red mug",)
    assert named_slots("pick up the red mug", templates) == named_slots("lift the red mug",
                                                                         templates)
    assert named_slots("dance", templates) == ("dance",)


def test_the_wrapper_feeds_the_donor_at_reset_and_every_step():
    env = gym.make(PICK, camera_size=16)
    donors = donor_instructions(env, range(20_000, 20_010))
    wrapped = ShuffledInstruction(env, donors)
    obs, info = wrapped.reset(seed=3)
    assert obs["instruction"] == info["fed_instruction"] != wrapped.true_instruction
    assert info["instruction"] == wrapped.true_instruction  # results still record the truth
    obs, *_, info = wrapped.step(env.action_space.sample() * 0)
    assert obs["instruction"] == wrapped.fed_instruction
    again, _ = wrapped.reset(seed=3)
    assert again["instruction"] == obs["instruction"]  # seeded: the same draw
    with pytest.raises(ConfigError, match="names what"):
        ShuffledInstruction(env, [wrapped.true_instruction]).reset(seed=3)
    with pytest.raises(ConfigError, match="donor"):
        ShuffledInstruction(env, [])
    wrapped.close()


def test_user_mistakes_are_one_line_errors(tmp_path):
    with pytest.raises(ConfigError, match="overlap"):
        AblationSpec(env_ids=[PICK], demos=200, eval_seed=100)
    with pytest.raises(ConfigError, match="repeat"):
        collect_multitask([PICK, PICK], 1, tmp_path / "d")
    with pytest.raises(DatasetError, match="one robot"):
        collect_multitask([PICK, "librobot/SO100-PickCup-v1"], 1, tmp_path / "d",
                          camera_size=SIZE)
