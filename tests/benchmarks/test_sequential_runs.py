"""Sequential runs on a real (tiny) card: `bench ab` decides early, stores its episodes in the
runner's runs and resumes after an interruption; aborted episodes are never read; `bench run
--until-width` stops each task once its interval is narrow; `bench plan` prints the designs."""

import datetime as dt

import pytest

from librobot_gym.benchmarks.cards import load_card
from librobot_gym.benchmarks.runner import open_run
from librobot_gym.benchmarks.sequential.ab import evaluate, run_ab
from librobot_gym.benchmarks.sequential.record import decisions_of
from librobot_gym.benchmarks.store import ResultsStore
from librobot_gym.cli import main
from librobot_gym.errors import ConfigError
from tests.benchmarks.conftest import write_card


@pytest.fixture
def card(tmp_path):
    return load_card(write_card(tmp_path / "ab-v0.yaml", episodes=30, seed_start=100))


def test_expert_beats_random_early_and_the_decision_is_stored(card, tmp_path):
    store = ResultsStore(f"sqlite:///{tmp_path}/r.db")
    result = run_ab(card, "expert", "random", store)
    assert result.verdict == "expert better than random" and result.finished
    assert result.episodes < 2 * 30  # stopped before the card ran out
    assert result.diff_low > 0.0 and result.mean_a == 1.0 and result.mean_b == 0.0
    frame_a = store.episodes_frame(result.run_a)
    assert len(frame_a) == result.episodes // 2  # nothing played past the decision
    (stored,) = decisions_of(store, result.run_a)
    assert stored["verdict"] == result.verdict and stored["episodes"] == result.episodes
    assert decisions_of(store, result.run_b)[0]["id"] == stored["id"]
    again = run_ab(card, "expert", "random", store)  # a rerun plays nothing more
    assert again.summary() == result.summary()
    assert len(store.episodes_frame(result.run_a)) == len(frame_a)


def test_an_interrupted_comparison_resumes_to_the_same_decision(card, tmp_path):
    straight = run_ab(card, "expert", "random", ResultsStore(f"sqlite:///{tmp_path}/a.db"))
    store = ResultsStore(f"sqlite:///{tmp_path}/b.db")
    seen = []

    def interrupt(record):
        seen.append(record)
        if len(seen) == 5:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_ab(card, "expert", "random", store, on_episode=interrupt)
    resumed = run_ab(card, "expert", "random", store)
    assert (resumed.decision, resumed.episodes) == (straight.decision, straight.episodes)


def test_aborted_episodes_are_not_read_and_rounds_count_in_completion_order(card, tmp_path):
    store = ResultsStore(f"sqlite:///{tmp_path}/r.db")
    runs = [open_run(card, policy, store) for policy in ("expert", "random")]
    base = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)

    def add(run, seed, success, minute, aborted=False):
        store.add_episode({"run_id": run.run_id, "suite": card.name, "env_id": card.tasks[0].env,
                           "variant": "default", "seed": seed, "policy": "p", "backend": "sim",
                           "obs_mode": "state", "success": success, "success_once": success,
                           "episode_return": 0.0, "length": 1, "time_to_success": None,
                           "sim_unstable": False, "aborted": aborted,
                           "created_at": base + dt.timedelta(minutes=minute)})

    add(runs[0], 100, True, 0, aborted=True)  # round 0: A aborted (a "success" never read)
    add(runs[1], 100, False, 1)
    for minute, seed in enumerate((101, 102, 103)):
        add(runs[0], seed, True, 10 + minute)
        add(runs[1], seed, False, 10 + minute)
    result, complete = evaluate(card, store, runs[0], runs[1], ("expert", "random"), 0.05,
                                "success", 30)
    assert complete == {1, 2, 3} and result.rounds == 3 and not result.finished
    # the replayed round 0 completes last: a failure of A, read after rounds 1-3
    add(runs[0], 100, False, 20)
    result, complete = evaluate(card, store, runs[0], runs[1], ("expert", "random"), 0.05,
                                "success", 30)
    assert complete == {0, 1, 2, 3} and result.rounds == 4 and result.mean_a == 0.75


def test_bench_ab_cli_prints_the_decision_and_the_fixed_design(tmp_path, capsys):
    path = write_card(tmp_path / "ab-v0.yaml", episodes=30, seed_start=100)
    out = tmp_path / "out"
    assert main(["bench", "ab", str(path), "--policy", "expert", "--policy", "random",
                 "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "decision: expert better than random after" in printed
    assert "fixed-size test planned for the observed means" in printed
    run = ResultsStore(f"sqlite:///{out}/results.db").runs()[0]
    assert main(["bench", "show", "--db", f"sqlite:///{out}/results.db", "--run", run.id]) == 0
    assert "sequential: expert vs random (success, alpha 0.05): expert better than random" \
        in " ".join(capsys.readouterr().out.split())
    for argv, message in (
            (["--policy", "expert"], "two policies"),
            (["--policy", "expert", "--policy", "expert"], "given twice"),
            (["--policy", "expert", "--policy", "random", "--max-episodes", "31"], "holds 30"),
            (["--policy", "expert", "--policy", "random", "--alpha", "1.5"], "--alpha")):
        assert main(["bench", "ab", str(path), "--out", str(out)] + argv) == 2
        assert message in capsys.readouterr().out


def test_until_width_stops_each_task_when_narrow_and_resumes(tmp_path, capsys):
    path = write_card(tmp_path / "w-v0.yaml", episodes=30, seed_start=100)
    out = tmp_path / "out"
    argv = ["bench", "run", str(path), "--policy", "expert", "--until-width", "0.4",
            "--out", str(out)]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    store = ResultsStore(f"sqlite:///{out}/results.db")
    (run,) = store.runs()
    used = len(store.episodes_frame(run.id))
    assert 5 < used < 30 and f"{used} of 30" in printed
    (decision,) = decisions_of(store, run.id)
    assert decision["kind"] == "width" and decision["cells"][0]["reached"]
    assert main(argv) == 0  # resumed: nothing more to play
    assert len(store.episodes_frame(run.id)) == used
    assert main(argv[:-2] + ["--until-width", "0", "--out", str(out)]) == 2
    assert "--until-width 0.0" in capsys.readouterr().out
    assert main(["bench", "run", str(path), "--alpha", "0.1", "--out", str(out)]) == 2
    assert "--alpha sets the interval of --until-width" in capsys.readouterr().out


def test_bench_plan_prints_fixed_and_sequential_episodes_per_task_and_card(capsys):
    assert main(["bench", "plan", "--p-a", "0.6", "--p-b", "0.8", "--runs", "300",
                 "--card", "benchmarks/tabletop-variants-v0.yaml"]) == 0
    printed = capsys.readouterr().out
    assert "82 per policy" in printed and "whole card" in printed and "min" in printed
    assert main(["bench", "plan", "--p-a", "0.5", "--p-b", "0.5"]) == 2
    assert "no gap" in capsys.readouterr().out


def test_on_the_twin_equal_policies_stop_early_when_nothing_left_could_decide(tmp_path):
    """The real backend (PyBullet twin through the hardware env). The same expert twice agrees
    on every pair, so the test stops, undecided, once the rounds left could not reach 1/alpha
    even as a clean sweep (a budget too small for any decision is refused up front)."""
    card = load_card(write_card(tmp_path / "twin-v0.yaml", episodes=12, seed_start=2000,
                                obs_modes="[state]"))
    store = ResultsStore(f"sqlite:///{tmp_path}/r.db")
    with pytest.raises(ConfigError, match="needs at least 8 pairs"):
        run_ab(card, "expert", "expert:0", store, max_episodes=7, backend="real",
               driver="twin:lockstep", operator="auto")
    result = run_ab(card, "expert", "expert:0", store, max_episodes=12, backend="real",
                    driver="twin:lockstep", operator="auto")
    assert result.finished and result.futile and result.mean_a == result.mean_b
    assert result.verdict == "no difference detectable within 24 episodes"
    assert result.episodes < 24  # the last rounds could not have changed it
    assert store.get_run(result.run_a).backend == "real"


def test_progress_score_reads_partial_credit_and_refuses_tasks_without_it(tmp_path, capsys):
    drawer = load_card(write_card(tmp_path / "drawer-v0.yaml", episodes=12, seed_start=2000,
                                  env="librobot/Franka-OpenDrawer-v0"))
    store = ResultsStore(f"sqlite:///{tmp_path}/r.db")
    result = run_ab(drawer, "expert", "random", store, score="progress")
    assert result.verdict == "expert better than random" and result.score == "progress"
    assert 0.0 <= result.mean_b < result.mean_a <= 1.0
    path = write_card(tmp_path / "cup-v0.yaml", episodes=8, seed_start=100)
    assert main(["bench", "ab", str(path), "--policy", "expert", "--policy", "random",
                 "--score", "progress", "--out", str(tmp_path / "out")]) == 2
    assert "report no progress metric" in capsys.readouterr().out
