"""User mistakes and Ctrl-C at the `librobot` command line, run as a user runs it (a fresh
`python -m librobot_gym.cli` process): one line naming the problem and the fix, exit code 2,
no traceback; Ctrl-C says what was kept and how to go on, exit code 130. A programming bug
keeps its traceback."""

import json
import signal
import sqlite3
import subprocess
import sys
import time

import gymnasium as gym
import pytest
import yaml

from librobot_gym.cli import EXIT_INTERRUPTED, EXIT_USER_ERROR, main
from librobot_gym.errors import ConfigError

ENV_ID = "librobot/Franka-PickCup-v0"


def librobot(*args: str, cwd=None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "librobot_gym.cli", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout)


def lines(result: subprocess.CompletedProcess) -> list[str]:
    return [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]


def assert_one_line_error(result: subprocess.CompletedProcess, *needles: str) -> str:
    shown = lines(result)
    assert result.returncode == EXIT_USER_ERROR, (result.returncode, shown)
    assert len(shown) == 1 and "Traceback" not in result.stderr, shown
    line = shown[0]
    assert line.startswith("error: ")
    for needle in needles:
        assert needle in line, line
    return line


@pytest.mark.parametrize("args,needles", [
    (["rollout", "librobot/Franka-PickCupp-v0"],
     ["unknown env id 'librobot/Franka-PickCupp-v0'", f"did you mean {ENV_ID}", "librobot envs"]),
    (["train", "--config", "nope.yaml"], ["nope.yaml: no such training config", "configs/train"]),
    (["train", "--algo", "ppo", "--env", "librobot/Nope-v0"], ["unknown env id"]),
    (["rollout", ENV_ID, "--policy", "expert:-1", "--obs-mode", "state"],
     ["expert:NOISE", ">= 0", "got -1.0"]),
    (["rollout", ENV_ID, "--policy", "ppo:nothing-here.zip", "--obs-mode", "state"],
     ["no stable-baselines3 model at nothing-here.zip", "librobot train --algo ppo"]),
    (["rollout", ENV_ID, "--video", "--episodes", "1"], ["--video", "--out DIR"]),
    (["serve", "--policy", "expert", "--env", "librobot/Nope-v0"], ["unknown env id"]),
    (["rollout", ENV_ID, "--episodes", "three"],
     ["--episodes: invalid int value: 'three'", "`librobot rollout --help`"]),
    (["bench", "run"], ["required: card", "`librobot bench run --help`"]),
    (["bridge", "serve", "--driver", "twin", "--port", "abc"],
     ["--port: invalid int value: 'abc'", "`librobot bridge serve --help`"]),
    (["rollou"], ["invalid choice: 'rollou'", "did you mean rollout?", "`librobot --help`"]),
    (["rollout", ENV_ID, "--control-mode", "joint_pos", "--obs-mode", "state"],
     ["control_mode: policy emits 'ee_delta_pose', env has 'joint_pos'",
      "--control-mode ee_delta_pose"]),
])
def test_a_mistake_is_one_line_and_exit_2(args, needles):
    assert_one_line_error(librobot(*args), *needles)


def test_a_folder_or_a_non_model_as_an_sb3_model(tmp_path):
    (tmp_path / "sac_model.zip").write_bytes(b"")
    assert_one_line_error(librobot("rollout", ENV_ID, "--policy", f"sac:{tmp_path}"),
                          "a folder, not a model", f"sac:{tmp_path / 'sac_model.zip'}")
    text = tmp_path / "notes.txt"
    text.write_text("not a model")
    assert_one_line_error(librobot("rollout", ENV_ID, "--policy", f"ppo:{text}",
                                   "--obs-mode", "state"),
                          "not a stable-baselines3 model zip")


def test_reading_commands_refuse_a_missing_database_without_creating_one(tmp_path):
    db = tmp_path / "none.db"
    assert_one_line_error(librobot("bench", "show", "--db", f"sqlite:///{db}"),
                          f"no results database at {db}", "librobot bench run")
    assert_one_line_error(librobot("bench", "show", cwd=tmp_path),
                          "no results database at outputs/bench/results.db")
    assert not db.exists() and not (tmp_path / "outputs").exists()


def test_an_unknown_env_option_says_did_you_mean():
    with pytest.raises(ConfigError, match="unknown env option cam_size=64; did you mean "
                                          "camera_size?") as excinfo:
        gym.make(ENV_ID, cam_size=64)
    assert "reward_type" in str(excinfo.value)  # the task's options are listed with the env's
    with pytest.raises(ConfigError, match="did you mean target_tonnes"):
        gym.make("librobot/Excavator-DigDump-v0", target_tonne=3.0)


def test_a_programming_bug_keeps_its_traceback(monkeypatch):
    import librobot_gym.cli.catalog as catalog

    def broken(args):
        raise KeyError("a bug, not a user mistake")

    monkeypatch.setattr(catalog, "_cmd_tasks", broken)  # bound when main() builds the parser
    with pytest.raises(KeyError):
        main(["tasks"])


def test_librobot_traceback_shows_the_traceback_of_a_user_error(monkeypatch):
    monkeypatch.setenv("LIBROBOT_TRACEBACK", "1")
    with pytest.raises(ConfigError):
        main(["rollout", "librobot/Nope-v0"])


# --- Ctrl-C -------------------------------------------------------------------------------------
def interrupt(args: list[str], ready, cwd=None) -> tuple[int, list[str], str]:
    """Start `librobot ARGS`, wait until `ready()`, send SIGINT (what Ctrl-C sends), and return
    the exit code, the non-empty output lines and stderr."""
    process = subprocess.Popen([sys.executable, "-m", "librobot_gym.cli", *args], cwd=cwd,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not ready():
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the command never got going"
            time.sleep(0.05)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    return process.returncode, [line for line in (out + err).splitlines() if line.strip()], err


def recorded(path) -> int:
    return len(path.read_text().splitlines()) if path.exists() else 0


def test_ctrl_c_during_a_rollout_keeps_the_episodes_and_a_rerun_resumes(tmp_path):
    out = tmp_path / "run"
    records = out / "episodes.jsonl"
    args = ["rollout", ENV_ID, "--obs-mode", "state", "--episodes", "500", "--out", str(out)]
    code, shown, err = interrupt(args, lambda: recorded(records) >= 2)
    assert code == EXIT_INTERRUPTED and "Traceback" not in err, shown
    kept = recorded(records)
    message = shown[-1]
    assert message.startswith("interrupted after ") and " of 500 episodes; " in message
    assert f"{records} holds {kept} of the 500: rerun the same command to resume" in message
    # The same command, asked for two more episodes than were kept, runs only those two.
    args[args.index("500")] = str(kept + 2)
    result = librobot(*args)
    assert result.returncode == 0, lines(result)
    assert f"resumed: {kept} episodes were already in {records}, ran 2" in result.stdout
    seeds = [json.loads(line)["seed"] for line in records.read_text().splitlines()]
    assert seeds == list(range(kept + 2))  # none run twice, none lost


def test_ctrl_c_during_a_rollout_without_records_says_nothing_was_kept():
    started = time.monotonic()
    code, shown, err = interrupt(["rollout", ENV_ID, "--obs-mode", "state", "--episodes", "500"],
                                 lambda: time.monotonic() - started > 6)
    assert code == EXIT_INTERRUPTED and "Traceback" not in err, shown
    assert shown[-1].startswith("interrupted")
    assert "nothing was recorded" in shown[-1] and "--out DIR" in shown[-1]


def test_ctrl_c_during_a_bench_run_says_what_is_stored_and_to_resume(tmp_path):
    card = tmp_path / "card.yaml"
    card.write_text(yaml.safe_dump({"suite": "long", "version": 0, "tasks": [{
        "env": ENV_ID, "episodes": 400, "seed_start": 0, "max_steps": 60,
        "obs_modes": ["state"], "control_mode": "ee_delta_pose"}]}))
    db = tmp_path / "results.db"  # the default: in --out

    def stored() -> int:
        try:
            with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as connection:
                return connection.execute("select count(*) from episodes").fetchone()[0]
        except sqlite3.Error:  # not created yet
            return 0

    code, shown, err = interrupt(["bench", "run", str(card), "--out", str(tmp_path)],
                                 lambda: stored() >= 2)
    assert code == EXIT_INTERRUPTED and "Traceback" not in err, shown
    assert shown[-1].startswith("interrupted after ")
    assert f"of 400 stored in sqlite:///{db}): rerun the same command to resume" in shown[-1]
