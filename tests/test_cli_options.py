"""The `librobot` options a user reads: every option's help with its default, `--version`, one
name for where a command writes (`--out DIR`) and where runs are stored (`--db URL`, the same
default everywhere) with the old spellings still working, every policy spec form in the help,
and card mismatches that name the option that fixes them."""

import argparse
import json
import subprocess
import sys
from importlib.metadata import version

import gymnasium as gym
import pytest
import yaml

from librobot_gym.benchmarks.cards import load_card
from librobot_gym.benchmarks.runner import run_suite
from librobot_gym.benchmarks.store import ResultsStore
from librobot_gym.cli import build_parser, main, parsers
from librobot_gym.cli.common import DEFAULT_DB
from librobot_gym.cli.hardware import bridge_parser
from librobot_gym.errors import PolicyMismatchError
from librobot_gym.policies import PolicyCard
from librobot_gym.policies.registry import policy_usages

ENV_ID = "librobot/Franka-PickCup-v0"


def every_parser() -> list[argparse.ArgumentParser]:
    return [*parsers(build_parser()), bridge_parser()]


def test_every_option_of_every_command_has_help_that_says_its_default():
    missing = []
    for parser in every_parser():
        formatter = parser._get_formatter()
        for action in parser._actions:
            if action.help == argparse.SUPPRESS or isinstance(
                    action, argparse._HelpAction | argparse._VersionAction
                    | argparse._SubParsersAction):
                continue
            where = f"{parser.prog} {'/'.join(action.option_strings) or action.dest}"
            if not action.help:
                missing.append(f"{where}: no help")
                continue
            needs_default = (action.option_strings and not action.required
                             and not isinstance(action, argparse._StoreTrueAction))
            if needs_default and "default" not in formatter._expand_help(action):
                missing.append(f"{where}: help does not say the default")
    assert not missing, "\n".join(missing)


def test_defaults_appear_in_the_rendered_help():
    out = subprocess.run([sys.executable, "-m", "librobot_gym.cli", "rollout", "--help"],
                         capture_output=True, text=True, check=True).stdout
    flat = " ".join(out.split())
    assert "(default: expert)" in flat and "(default: 10)" in flat
    assert "--results" not in flat  # deprecated spellings are hidden


def test_version():
    out = subprocess.run([sys.executable, "-m", "librobot_gym.cli", "--version"],
                         capture_output=True, text=True, check=True).stdout
    assert out.strip() == f"librobot-gym {version('librobot-gym')}"


def test_every_policy_spec_form_is_in_the_help_of_every_command_that_takes_one():
    forms = policy_usages()
    assert {"expert[:NOISE]", "random", "ppo:MODEL.zip", "sac:MODEL.zip",
            "vla:CHECKPOINT_DIR"} <= set(forms)
    assert any(form.startswith("remote:ws://") for form in forms)
    takes_policy = 0
    for parser in every_parser():
        for action in parser._actions:
            if "--policy" in action.option_strings:
                takes_policy += 1
                assert all(form in action.help for form in forms), (parser.prog, action.help)
    assert takes_policy == 5  # rollout, collect, serve, bench run, bench ab


def test_one_default_database_for_every_command_that_reads_runs():
    parser = build_parser()
    for command in (["bench", "show"], ["bench", "compare", "CARD"],
                    ["bench", "export", "RUN", "--out", "B"],
                    ["leaderboard", "build", "--card", "C", "--out", "O"]):
        args = parser.parse_args(command)
        assert args.db is None  # resolved to DEFAULT_DB, which is where bench run writes
    assert DEFAULT_DB == "sqlite:///outputs/bench/results.db"
    run = parser.parse_args(["bench", "run", "CARD"])
    assert run.out == "outputs/bench" and run.db is None  # bench run: results.db in --out


@pytest.fixture(scope="module")
def stored_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bench")
    card = folder / "card.yaml"
    card.write_text(yaml.safe_dump({"suite": "tiny", "version": 0, "tasks": [{
        "env": ENV_ID, "episodes": 2, "seed_start": 0, "max_steps": 30,
        "obs_modes": ["state"], "control_mode": "ee_delta_pose"}]}))
    store = ResultsStore(f"sqlite:///{folder}/results.db")
    summary = run_suite(load_card(str(card)), "random", store)
    return folder, summary.run_id, card


def test_the_old_spellings_still_work_and_say_what_replaces_them(stored_run, tmp_path, capsys):
    folder, run_id, _ = stored_run
    assert main(["bench", "show", "--out", str(folder)]) == 0  # was: the folder of results.db
    captured = capsys.readouterr()
    assert run_id in captured.out
    assert "--out DIR is deprecated; use --db sqlite:///DIR/results.db" in captured.err
    bundle = tmp_path / "bundle"
    assert main(["bench", "export", run_id, "--results", str(folder), "--out", str(bundle)]) == 0
    assert (bundle / "manifest.json").exists()
    assert "--results DIR is deprecated" in capsys.readouterr().err
    records = tmp_path / "old.jsonl"
    assert main(["rollout", ENV_ID, "--obs-mode", "state", "--episodes", "1",
                 "--results", str(records)]) == 0
    assert len(records.read_text().splitlines()) == 1
    assert "use --out DIR" in capsys.readouterr().err


def test_rollout_out_dir_holds_the_records_and_the_video(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["rollout", ENV_ID, "--episodes", "1", "--camera-size", "32", "--out", str(out),
                 "--video"]) == 0
    (record,) = [json.loads(line) for line in (out / "episodes.jsonl").read_text().splitlines()]
    assert record["seed"] == 0 and record["spec"] == "expert" and record["rollout"]
    assert (out / "video.mp4").stat().st_size > 0


def test_an_empty_database_says_how_to_fill_it(tmp_path, capsys):
    db = f"sqlite:///{tmp_path}/empty.db"
    ResultsStore(db)
    assert main(["bench", "show", "--db", db]) == 0
    assert "no runs in" in capsys.readouterr().out


# --- card mismatches name their fix -------------------------------------------------------------
def test_a_card_mismatch_names_the_env_argument_and_the_option():
    env = gym.make(ENV_ID, obs_mode="state")
    card = PolicyCard("p", obs_mode="rgb", image_size=(64, 64), control_mode="joint_pos")
    with pytest.raises(PolicyMismatchError) as excinfo:
        card.check(env)
    message = str(excinfo.value)
    assert ("image_size: policy needs (64, 64), env has (128, 128): make the env with "
            "camera_size=64 (command line: --camera-size 64)") in message
    assert "obs_mode='rgb' (command line: --obs-mode rgb)" in message
    assert "control_mode='joint_pos' (command line: --control-mode joint_pos)" in message
    by_field = {m.field: m for m in excinfo.value.mismatches}
    assert by_field["image_size"].fix("card") == ("set `camera_size: 64` in the suite card's "
                                                  "task (or use a card that has it)")
    wide = PolicyCard("p", image_size=(64, 96)).mismatches(env)
    assert "camera_size=(64, 96) (command line: --camera-size 64x96)" in wide[0].explain()
    env.close()


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    """A tiny untrained VLA that reads 32 x 32 images (the env's default is 128)."""
    from librobot_gym.policies.vla.config import VLAConfig
    from librobot_gym.policies.vla.policy import VLAPolicy

    path = tmp_path_factory.mktemp("vla") / "ckpt"
    VLAPolicy(VLAConfig.from_dict({
        "framework": "octo", "vlm": {"name": "tiny", "text_encoder": "learned", "embed_dim": 32},
        "action_dim": 7, "proprio_dim": 22, "chunk_size": 4, "hidden_dim": 32,
        "policy": {"control_mode": "ee_delta_pose", "cameras": ["front", "wrist"],
                   "image_size": [32, 32], "control_hz": 20}})).save_pretrained(path)
    return path


def test_rollout_and_bench_run_name_the_fix_for_a_vla_that_needs_other_images(
        checkpoint, tmp_path, capsys):
    assert main(["rollout", ENV_ID, "--policy", f"vla:{checkpoint}", "--episodes", "1"]) == 2
    assert "camera_size=32 (command line: --camera-size 32)" in capsys.readouterr().out
    card = tmp_path / "card.yaml"
    card.write_text(yaml.safe_dump({"suite": "c", "version": 0, "tasks": [{
        "env": ENV_ID, "episodes": 1, "seed_start": 0, "max_steps": 5, "obs_modes": ["rgb"],
        "control_mode": "ee_delta_pose", "camera_size": 128}]}))
    assert main(["bench", "run", str(card), "--policy", f"vla:{checkpoint}",
                 "--out", str(tmp_path)]) == 2
    out = " ".join(capsys.readouterr().out.split())
    assert f"does not fit task {ENV_ID} of card {card}" in out
    assert "set `camera_size: 32` in the suite card's task" in out


def test_serve_takes_camera_size_and_a_mismatch_names_it(checkpoint):
    command = [sys.executable, "-m", "librobot_gym.cli", "serve", "--policy", f"vla:{checkpoint}",
               "--env", ENV_ID, "--port", "0"]
    refused = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert refused.returncode == 2 and "--camera-size 32" in refused.stdout, refused
    assert "Traceback" not in refused.stderr
    server = subprocess.Popen([*command, "--camera-size", "32"], stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    try:
        line = server.stdout.readline()
        assert line.startswith(f"serving vla:{checkpoint} on ws://127.0.0.1:"), line
    finally:
        server.terminate()
        server.wait(timeout=30)
