"""What long `librobot` commands show while they work and what their summaries count: the RL
training bar of `bench run --train` with the result to expect, the step bar of episodes on
hardware, the bar of in-training evaluations, per-episode means in score tables, and the
caveat of a sim-vs-real comparison of too few policies."""

import re

import yaml

from librobot_gym.benchmarks.cards import load_card
from librobot_gym.benchmarks.compare import MEANINGFUL_POLICIES
from librobot_gym.benchmarks.runner import run_id_for
from librobot_gym.benchmarks.store import ResultsStore, Run
from librobot_gym.cli import main

ENV_ID = "librobot/Franka-PickCup-v0"
REAL_ID = "librobot/Franka-PickCup-Real-v0"


def write_card(path, episodes=2, max_steps=40, obs_modes=("state",)):
    path.write_text(yaml.safe_dump({"suite": "tiny", "version": 0, "tasks": [{
        "env": ENV_ID, "episodes": episodes, "seed_start": 0, "max_steps": max_steps,
        "obs_modes": list(obs_modes), "control_mode": "ee_delta_pose", "camera_size": 32}]}))
    return path


def flat(text: str) -> str:
    return " ".join(text.split())


def test_bench_run_train_shows_training_and_what_to_expect_and_a_rerun_reuses_the_model(
        tmp_path, capsys):
    card = write_card(tmp_path / "card.yaml")
    args = ["bench", "run", str(card), "--train", "ppo", "--train-steps", "128",
            "--out", str(tmp_path)]
    assert main(args) == 0
    out = flat(capsys.readouterr().out)
    assert f"training ppo on {ENV_ID} for 128 steps" in out
    assert "PPO at 100,000 steps scored 0/50 on PickCup" in out and "expect a success of 0" in out
    assert f"training ppo on {ENV_ID} " in out.split("for 128 steps", 1)[1]  # the bar
    assert main(args) == 0  # the same command again: the same model, the same run
    out = flat(capsys.readouterr().out)
    assert "trained by an earlier run of this command" in out
    assert "resumed run" in out and "ran 0" in out


def test_episodes_on_hardware_show_their_steps(tmp_path, capsys):
    assert main(["rollout", REAL_ID, "--driver", "twin:lockstep", "--obs-mode", "state",
                 "--episodes", "1", "--camera-size", "32"]) == 0
    out = flat(capsys.readouterr().out)
    assert "episode steps" in out and "success rate 1.00" in out
    card = write_card(tmp_path / "card.yaml", episodes=1, max_steps=30)
    assert main(["bench", "run", str(card), "--backend", "real", "--driver", "twin:lockstep",
                 "--out", str(tmp_path)]) == 0
    out = flat(capsys.readouterr().out)
    assert re.search(r"episode steps \S* 30/30", out), out  # the last episode's, as logged
    assert main(["rollout", ENV_ID, "--obs-mode", "state", "--episodes", "1"]) == 0
    assert "episode steps" not in capsys.readouterr().out  # simulated episodes: no step bar


def test_training_from_a_config_shows_its_evaluation(tmp_path, capsys):
    demos = tmp_path / "demos"
    assert main(["collect", ENV_ID, "--episodes", "2", "--camera-size", "32",
                 "--out", str(demos)]) == 0
    out = flat(capsys.readouterr().out)
    assert f"collect {ENV_ID}" in out and "2 episodes" in out
    config = tmp_path / "train.yaml"
    config.write_text(yaml.safe_dump({
        "model": {"framework": "octo", "vlm": {"name": "tiny", "text_encoder": "learned",
                                               "embed_dim": 16},
                  "head": {"name": "mlp"}, "action_dim": 7, "proprio_dim": 22,
                  "chunk_size": 4, "hidden_dim": 16,
                  "policy": {"control_mode": "ee_delta_pose", "cameras": ["front", "wrist"],
                             "image_size": [32, 32], "control_hz": 20}},
        "dataset": str(demos), "out": str(tmp_path / "run"), "steps": 2, "batch_size": 4,
        "checkpoint_every": 2, "log_every": 1, "eval_env": ENV_ID, "eval_episodes": 2}))
    assert main(["train", "--config", str(config)]) == 0
    out = flat(capsys.readouterr().out)
    assert "training" in out and "loss" in out
    assert f"evaluating on {ENV_ID} (step 2) " in out and "2/2" in out
    assert "trained to step 2" in out


def add_run(store, card, policy, backend, successes, safety=()):
    run_id = run_id_for(card, policy, backend, 0)
    store.ensure_run(Run(id=run_id, suite=card.name, card_hash=card.content_hash,
                         card_path=card.path, policy=policy, backend=backend, seed_offset=0))
    for seed, success in enumerate(successes):
        store.add_episode({
            "run_id": run_id, "suite": card.name, "env_id": ENV_ID, "seed": seed,
            "policy": policy, "backend": backend, "obs_mode": "state", "success": success,
            "success_once": success, "episode_return": 1.0, "length": 10,
            "safety_events": {"clipped_action": safety[seed]} if safety else {},
            "task_metrics": {}})
    return run_id


def test_compare_warns_below_five_policies(tmp_path, capsys):
    card = load_card(str(write_card(tmp_path / "card.yaml")))
    db = f"sqlite:///{tmp_path}/r.db"
    store = ResultsStore(db)
    add_run(store, card, "good", "sim", [True, True])
    add_run(store, card, "good", "real", [True, False])
    add_run(store, card, "bad", "sim", [False, False])
    add_run(store, card, "bad", "real", [False, False])
    assert main(["bench", "compare", card.path, "--db", db]) == 0
    out = flat(capsys.readouterr().out)
    assert "Pearson r 1.000" in out  # two points: always +-1, hence the warning
    assert (f"warning: only 2 policies: Pearson r and MMRV are not meaningful below "
            f"{MEANINGFUL_POLICIES}") in out


def test_score_tables_say_their_columns_are_per_episode_means(tmp_path, capsys):
    card = load_card(str(write_card(tmp_path / "card.yaml")))
    db = f"sqlite:///{tmp_path}/r.db"
    run_id = add_run(ResultsStore(db), card, "p", "sim", [True, False], safety=(4, 2))
    assert main(["bench", "show", "--db", db, "--run", run_id]) == 0
    out = flat(capsys.readouterr().out)
    assert "| 3.0 |" in out.replace("│", "|")  # (4 + 2) / 2 episodes, not the total 6
    assert "safety events (steps with a safety flag raised)" in out
    assert "are means per episode" in out
