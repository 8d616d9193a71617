"""LeRobot's eval_info.json beside our records: `rollout --out` and `bench run` write it in
LeRobot's shape (per_episode with seed and success, aggregated with pc_success)."""

from __future__ import annotations

import json

import yaml

from librobot_gym.benchmarks.lerobot_eval import lerobot_eval_info
from librobot_gym.cli import main

ENV_ID = "librobot/Franka-PickCup-v0"


def record(seed, success, ret, env_id=ENV_ID, aborted=False):
    return {"env_id": env_id, "seed": seed, "success_once": success, "episode_return": ret,
            "wall_time_s": 2.0, "aborted": aborted}


def test_the_shape_and_figures_are_lerobots():
    info = lerobot_eval_info([record(3, True, 4.0), record(4, False, 1.0),
                              record(5, True, 9.0, aborted=True)])
    assert info["per_episode"] == [
        {"episode_ix": 0, "sum_reward": 4.0, "success": True, "seed": 3},
        {"episode_ix": 1, "sum_reward": 1.0, "success": False, "seed": 4}]
    assert info["aggregated"] == {"avg_sum_reward": 2.5, "pc_success": 50.0, "eval_s": 4.0,
                                  "eval_ep_s": 2.0}
    assert info["video_paths"] == [] and "per_task" not in info


def test_several_tasks_are_told_apart():
    other = "librobot/SO100-PickCup-v0"
    info = lerobot_eval_info([record(0, True, 1.0), record(0, False, 0.0, env_id=other),
                              record(1, False, 0.0, env_id=other)])
    assert [e["task"] for e in info["per_episode"]] == [ENV_ID, other, other]
    assert info["per_task"][ENV_ID] == {"n_episodes": 1, "pc_success": 100.0}
    assert info["per_task"][other]["pc_success"] == 0.0


def test_rollout_and_bench_run_write_it(tmp_path):
    out = tmp_path / "rollout"
    assert main(["rollout", ENV_ID, "--policy", "expert", "--episodes", "2", "--seed", "7",
                 "--obs-mode", "state", "--out", str(out)]) == 0
    info = json.loads((out / "eval_info.json").read_text())
    assert [e["seed"] for e in info["per_episode"]] == [7, 8]
    assert info["aggregated"]["pc_success"] == 100.0
    card = tmp_path / "card.yaml"
    card.write_text(yaml.safe_dump({"suite": "mini", "version": 0, "tasks": [{
        "env": ENV_ID, "episodes": 2, "seed_start": 50, "max_steps": 60,
        "obs_modes": ["state"], "control_mode": "ee_delta_pose"}]}))
    bench = tmp_path / "bench"
    assert main(["bench", "run", str(card), "--policy", "random", "--out", str(bench)]) == 0
    (found,) = list(bench.glob("runs/*/eval_info.json"))
    info = json.loads(found.read_text())
    assert [e["seed"] for e in info["per_episode"]] == [50, 51]
    assert info["aggregated"]["pc_success"] == 0.0
