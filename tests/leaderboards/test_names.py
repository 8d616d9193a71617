"""Display names: `bench run --name` stored with the run (older databases gain the column),
`leaderboard submit --name` overriding a bundle's, specs shown without their paths, and names
two runs share told apart."""

import json
import shutil
import sqlite3

import pytest

from librobot_gym.benchmarks.score import RunScore
from librobot_gym.benchmarks.store import ResultsStore
from librobot_gym.cli import main
from librobot_gym.leaderboards.board import BoardDir, Entry, _distinct_names
from librobot_gym.leaderboards.bundle import export_bundle
from librobot_gym.leaderboards.public import local_paths, public_spec, scrub_paths


@pytest.mark.parametrize("spec, shown", [
    ("expert", "expert"), ("expert:0.3", "expert:0.3"), ("random", "random"),
    ("ppo:/long/path/to/model.zip", "ppo:model.zip"),
    ("vla:outputs/train/vla/checkpoint-300/", "vla:checkpoint-300"),
    ("sac:C:\\Users\\me\\sac.zip", "sac:sac.zip"),
    ("remote:ws://robot-pc:8765", "remote:ws://robot-pc:8765"),
    ("remote:wss://pc:8000?token_file=/home/me/token&ca_file=/home/me/ca.pem",
     "remote:wss://pc:8000"),
    ("myplugin:fast:/opt/models/m.bin", "myplugin:fast:m.bin"),
])
def test_public_spec_keeps_file_names_only(spec, shown):
    assert public_spec(spec) == shown


@pytest.mark.parametrize("text, shown", [
    ("DriverDisconnected: /dev/ttyUSB0 closed", "DriverDisconnected: ttyUSB0 closed"),
    ("no file '/home/u/x.zip'", "no file 'x.zip'"),
    ("bridge ws://host:8765/path closed", "bridge ws://host:8765/path closed"),
    ("3/4 seeds, sim/real", "3/4 seeds, sim/real"),
    ("db sqlite:////tmp/a/results.db", "db results.db"),
])
def test_free_text_loses_absolute_paths_only(text, shown):
    assert scrub_paths(text) == shown


def test_local_paths_finds_what_slipped_through(tmp_path):
    (tmp_path / "a.md").write_text("see ws://host/home/page and 3/4")
    (tmp_path / "b.json").write_text('{"db": "sqlite:////tmp/x/results.db"}')
    (tmp_path / "c.html").write_text("<p>/home/me/models/ppo.zip</p>")
    assert local_paths(tmp_path) == [("b.json", "/tmp/x/results.db"),
                                     ("c.html", "/home/me/models/ppo.zip")]


def test_a_database_from_before_names_gains_the_column(tmp_path):
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as db:  # the runs table as the first release wrote it
        db.execute("CREATE TABLE runs (id VARCHAR(32) PRIMARY KEY, suite VARCHAR(64), "
                   "card_hash VARCHAR(64), card_path VARCHAR(512), policy VARCHAR(256), "
                   "backend VARCHAR(16), seed_offset INTEGER, git_revision VARCHAR(64), "
                   "versions JSON, created_at DATETIME)")
        db.execute("INSERT INTO runs VALUES ('r1', 'tiny', 'h', 'c.yaml', 'expert', 'sim', 0, "
                   "'', '{}', '2024-01-01 00:00:00')")
    store = ResultsStore(f"sqlite:///{path}")
    assert [(r.id, r.name) for r in store.runs()] == [("r1", "")]
    store.set_run_name("r1", "  Scripted   expert ")
    assert ResultsStore(f"sqlite:///{path}").get_run("r1").name == "Scripted expert"


def test_bench_run_name_is_stored_exported_and_shown(runs, tmp_path, capsys):
    shutil.copyfile(runs["root"] / "results.db", tmp_path / "results.db")
    db = f"sqlite:///{tmp_path}/results.db"
    card = str(runs["card_path"])
    assert main(["bench", "run", card, "--policy", "random", "--name", "   ", "--db", db,
                 "--out", str(tmp_path)]) == 2
    assert "give a name of 1 to 128 characters" in capsys.readouterr().out
    # Rerunning a finished run plays nothing and names it.
    assert main(["bench", "run", card, "--policy", "random", "--name", "Random baseline",
                 "--db", db, "--out", str(tmp_path)]) == 0
    store = ResultsStore(db)
    assert store.get_run(runs["ids"]["random"]).name == "Random baseline"
    bundle = export_bundle(store, runs["ids"]["random"], tmp_path / "bundle")
    assert json.loads((bundle / "run.json").read_text())["name"] == "Random baseline"
    out = tmp_path / "board"
    assert main(["leaderboard", "build", "--db", db, "--card", card, "--out", str(out)]) == 0
    entries = json.loads((out / "results.json").read_text())["entries"]
    assert [(e["name"], e["policy"]) for e in entries] == [("expert", "expert"),
                                                           ("Random baseline", "random")]


def test_submit_name_overrides_the_bundles_and_survives_rebuilds(runs, tmp_path):
    board = BoardDir(tmp_path / "board")
    board.init(runs["card"])
    bundle = export_bundle(runs["store"], runs["ids"]["expert"], tmp_path / "bundle")
    board.submit(bundle, name="Scripted expert (privileged state)")
    board.init(runs["card"])  # `leaderboard build` again
    assert [e.name for e in board.board().entries] == ["Scripted expert (privileged state)"]
    with pytest.raises(ValueError, match="1 to 128 characters"):
        board.submit(bundle, name="x" * 129)


def test_runs_that_would_read_the_same_are_told_apart():
    score = RunScore([], 0.5, 0.2, 0.8, 10)
    entries = [Entry("aaaaaa111", "ppo:/runs/a/model.zip", "sim", "", {}, score),
               Entry("bbbbbb222", "ppo:/runs/b/model.zip", "sim", "", {}, score),
               Entry("cccccc333", "ppo:/runs/c/model.zip", "real", "", {}, score)]
    _distinct_names(entries)
    assert [e.name for e in entries] == ["ppo:model.zip #aaaaaa", "ppo:model.zip #bbbbbb",
                                         "ppo:model.zip"]
