"""The runner: stores every card episode once, resumes after kill -9, same results everywhere."""

import os
import signal
import subprocess
import sys
import time

import pytest
from sqlalchemy import create_engine, text

from librobot_gym.benchmarks.cards import load_card
from librobot_gym.benchmarks.runner import run_suite
from librobot_gym.benchmarks.score import score_episodes
from librobot_gym.benchmarks.store import ResultsStore
from librobot_gym.cli import main
from tests.benchmarks.conftest import write_card

COMPARED = ["env_id", "seed", "success", "episode_return", "length", "instruction"]


def records(store, run_id):
    return store.episodes_frame(run_id).sort_values("seed")[COMPARED].to_dict("records")


def test_expert_run_stores_every_episode_and_scores_it(tiny_card, tmp_path):
    store = ResultsStore(f"sqlite:///{tmp_path}/r.db")
    summary = run_suite(load_card(tiny_card), "expert", store, videos=1, out_dir=tmp_path)
    frame = store.episodes_frame(summary.run_id)
    assert sorted(frame["seed"]) == [100, 101, 102, 103]
    score = score_episodes(frame)
    assert score.tasks[0].rate == 1.0 and score.tasks[0].low > 0.39
    videos = frame["video_path"].dropna()
    assert len(videos) == 1 and os.path.exists(videos.iloc[0])
    # Software versions, git revision and card hash travel with the run.
    run = store.get_run(summary.run_id)
    assert run.card_hash == load_card(tiny_card).content_hash and run.versions["mujoco"]


def test_same_card_policy_and_seed_give_the_same_records_on_any_executor(tiny_card, tmp_path):
    card = load_card(tiny_card)
    results = []
    for name, executor, workers in (("a", "local", 1), ("b", "local", 2), ("c", "ray", 2)):
        store = ResultsStore(f"sqlite:///{tmp_path}/{name}.db")
        summary = run_suite(card, "random", store, executor=executor, workers=workers)
        results.append(records(store, summary.run_id))
    assert results[0] == results[1] == results[2]


def test_rerunning_a_finished_run_adds_nothing(tiny_card, tmp_path):
    store = ResultsStore(f"sqlite:///{tmp_path}/r.db")
    card = load_card(tiny_card)
    first = run_suite(card, "random", store)
    again = run_suite(card, "random", store)
    assert again.run_id == first.run_id and again.ran == 0 and again.resumed_with == 4
    assert len(store.episodes_frame(first.run_id)) == 4


def test_kill_minus_nine_then_resume_finishes_with_exactly_the_card(tmp_path):
    card = write_card(tmp_path / "kill-v0.yaml", episodes=24, seed_start=0)
    db = f"sqlite:///{tmp_path}/kill.db"
    command = [sys.executable, "-m", "librobot_gym.cli", "bench", "run", str(card),
               "--policy", "random", "--db", db, "--workers", "2", "--out", str(tmp_path)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    engine = create_engine(db)
    deadline = time.time() + 120
    stored = 0
    while time.time() < deadline and process.poll() is None:
        try:
            with engine.connect() as connection:
                stored = connection.execute(text("select count(*) from episodes")).scalar()
        except Exception:  # the table may not exist yet
            stored = 0
        if stored >= 3:
            break
        time.sleep(0.05)
    assert process.poll() is None, "the run finished before it could be killed"
    os.killpg(process.pid, signal.SIGKILL)  # the runner and its workers, mid-run
    process.wait()
    with engine.connect() as connection:
        partial = connection.execute(text("select count(*) from episodes")).scalar()
    assert 3 <= partial < 24
    assert subprocess.run(command, capture_output=True, text=True).returncode == 0
    store = ResultsStore(db)
    frame = store.episodes_frame()
    assert len(frame) == 24 and sorted(frame["seed"]) == list(range(24))
    assert frame["run_id"].nunique() == 1


def test_bench_cli_run_show_and_export(tiny_card, tmp_path, capsys):
    db = f"sqlite:///{tmp_path}/cli.db"
    assert main(["bench", "run", str(tiny_card), "--policy", "expert", "--db", db,
                 "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "1.00 [0.51, 1.00]" in out and "IQM" in out
    assert main(["bench", "show", "--db", db]) == 0
    listing = capsys.readouterr().out
    run_id = ResultsStore(db).runs()[0].id
    assert run_id in listing and "expert" in listing
    parquet = tmp_path / "episodes.parquet"
    assert main(["bench", "show", "--db", db, "--run", run_id, "--export", str(parquet)]) == 0
    import pandas as pd

    assert len(pd.read_parquet(parquet)) == 4


def test_bad_runner_options_are_clear(tiny_card, tmp_path, capsys):
    db = f"sqlite:///{tmp_path}/x.db"
    assert main(["bench", "run", str(tiny_card), "--backend", "real", "--db", db]) == 2
    assert "--backend real needs --driver" in capsys.readouterr().out
    assert main(["bench", "run", str(tiny_card), "--executor", "slurm", "--db", db]) == 2
    assert main(["bench", "run", str(tmp_path / "nope.yaml"), "--db", db]) == 2
    assert "no such suite card" in capsys.readouterr().out


@pytest.mark.parametrize("policy,message", [
    ("oracle", "unknown policy scheme 'oracle'"),
    ("expert:abc", "expert:NOISE needs a number"),
])
def test_an_invalid_policy_is_refused_before_a_run_is_recorded(tiny_card, tmp_path, capsys,
                                                                policy, message):
    db = f"sqlite:///{tmp_path}/p.db"
    assert main(["bench", "run", str(tiny_card), "--policy", policy, "--db", db,
                 "--out", str(tmp_path)]) == 2
    assert message in capsys.readouterr().out
    assert ResultsStore(db).runs() == []  # no 0-episode run left in the store


def test_train_ppo_then_evaluate_the_trained_model(tiny_card, tmp_path, capsys):
    db = f"sqlite:///{tmp_path}/t.db"
    assert main(["bench", "run", str(tiny_card), "--train", "ppo", "--train-steps", "256",
                 "--db", db, "--out", str(tmp_path)]) == 0
    assert (tmp_path / "models" / "ppo_tiny-v0_256steps_seed0.zip").exists()  # budget, seed
    runs = ResultsStore(db).runs()
    assert runs[0].policy.startswith("ppo:") and len(ResultsStore(db).episodes_frame()) == 4
    frame = ResultsStore(db).episodes_frame()
    assert set(frame["obs_mode"]) == {"state"}
    model = str(tmp_path / "models" / "ppo_tiny-v0_256steps_seed0.zip")
    assert ResultsStore(db).artifacts(runs[0].id) == [("model", model)]  # named by the run


@pytest.mark.parametrize("card_name", ["earthmoving-v0.yaml"])
def test_heavy_machine_metrics_reach_the_score(tmp_path, card_name):
    card = write_card(tmp_path / "dig.yaml", episodes=2, seed_start=7,
                      env="librobot/Excavator-DigDump-v0", control_mode="hydraulic",
                      max_steps=1200)
    store = ResultsStore(f"sqlite:///{tmp_path}/d.db")
    summary = run_suite(load_card(card), "expert", store)
    score = score_episodes(store.episodes_frame(summary.run_id))
    metrics = score.tasks[0].metrics
    assert score.tasks[0].rate == 1.0 and metrics["fill_factor"] > 0.6
    assert metrics["tonnes_per_hour"] > 100
