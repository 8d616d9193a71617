"""Ranking with ties, sim-vs-real agreement, the rendered files (no local path in any of
them), publishing, and `demo --out` keeping everything under its folder."""

import csv
import json
import re
import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest

from librobot_gym.benchmarks.score import RunScore
from librobot_gym.benchmarks.store import ResultsStore
from librobot_gym.cli import main
from librobot_gym.errors import LibrobotError
from librobot_gym.leaderboards.board import Entry, rank, sim_vs_real
from librobot_gym.leaderboards.publish import publish
from librobot_gym.leaderboards.render import charts
from librobot_gym.leaderboards.svg import Bar, bar_chart
from tests.benchmarks.conftest import write_card
from tests.leaderboards.conftest import LONG_SPEC, add_run

LOCAL = re.compile(r"/(?:tmp|home|work|root)/")


def entry(policy, iqm, low, high, backend="sim"):
    return Entry(run_id=f"{policy}-{backend}", policy=policy, backend=backend, date="", versions={},
                 score=RunScore([], iqm, low, high, 10))


def test_ranks_differ_only_where_intervals_are_disjoint():
    ranked = rank([entry("c", 0.1, 0.0, 0.2), entry("b", 0.8, 0.6, 0.95),
                   entry("a", 0.9, 0.85, 1.0)])
    assert [(e.policy, e.rank, e.tied) for e in ranked] == [
        ("a", 1, True), ("b", 1, True), ("c", 3, False)]


def test_sim_vs_real_agreement_uses_simpler_env_metrics():
    entries = [entry(p, s, s, s) for p, s in (("p1", 0.9), ("p2", 0.5), ("p3", 0.1))]
    entries += [entry(p, r, r, r, "real") for p, r in (("p1", 0.8), ("p2", 0.6), ("p3", 0.0))]
    result = sim_vs_real(entries)
    assert result["policies"] == ["p1", "p2", "p3"]
    assert result["mmrv"] == 0.0 and result["pearson_r"] > 0.95
    assert sim_vs_real(entries[:3]) is None  # sim only


def test_rendered_board_files(runs, tmp_path):
    out = tmp_path / "board"
    assert main(["leaderboard", "build", "--db", runs["store"].url, "--card",
                 str(runs["card_path"]), "--out", str(out)]) == 0
    data = json.loads((out / "results.json").read_text())
    assert data["schema"] == "librobot-leaderboard/2"
    assert data["card"]["description"] == "test card"
    assert data["card"]["tasks"][0]["seeds"] == [10, 13]
    assert 1 <= len(data["card"]["tasks"][0]["instructions"]) <= 3
    expert, random = data["entries"]
    assert (expert["name"], expert["rank"], random["name"]) == ("expert", 1, "random")
    assert [v["outcome"] for v in expert["videos"]] == ["success"]
    assert [v["outcome"] for v in random["videos"]] == ["failure"]
    for video in expert["videos"] + random["videos"]:
        assert (out / video["path"]).stat().st_size and (out / video["poster"]).stat().st_size
    assert [s["seed"] for s in expert["per_seed"]] == [10, 11, 12, 13]
    rows = list(csv.DictReader((out / "results.csv").open()))
    assert len(rows) == 2 and {r["name"] for r in rows} == {"expert", "random"}
    episodes = list(csv.DictReader((out / "episodes.csv").open()))
    assert len(episodes) == 8 and {e["success"] for e in episodes} == {"True", "False"}
    readme = (out / "README.md").read_text()
    assert "| 1 | expert | sim |" in readme and "1.00 [0.51, 1.00]" in readme
    assert "![Franka-PickCup-v0](charts/Franka-PickCup-v0.svg)" in readme
    assert (out / "charts" / "Franka-PickCup-v0.svg").read_text().startswith("<svg")
    html = (out / "index.html").read_text()
    assert "<svg" in html and html.count("<tr") >= 3
    frame = pd.read_csv(out / "results.csv")
    assert np.isclose(frame.loc[frame.policy == "expert", "rate"].item(), 1.0)


def test_bar_chart_has_axis_ticks_values_and_cuts_long_labels():
    svg = bar_chart([Bar("x" * 80, 0.5, 0.3, 0.7, "0.50 (5/10)", "real", " (real)"),
                     Bar("short", 1.0, 0.8, 1.0, "1.00 (10/10)")], "task: success")
    assert svg.count('class="tick"') == 5 and svg.count('class="tick-label"') == 5
    assert 'class="axis-label"' in svg and svg.count('class="value-label"') == 2
    assert "0.50 (5/10)" in svg and "1.00 (10/10)" in svg
    assert "x" * 80 + " (real)</title>" in svg  # the full name as a tooltip
    assert re.search(r"x{20,40}… \(real\)</text>", svg)  # cut, the backend kept
    assert 'class="legend"' in svg  # two backends: which colour is which


def test_cards_of_several_tasks_get_an_aggregate_chart_first():
    def entry(name, backend, rates):
        tasks = [{"env_id": env, "rate": r, "low": r / 2, "high": r, "successes": int(r * 4),
                  "episodes": 4} for env, r in rates.items()]
        return {"name": name, "backend": backend, "tasks": tasks,
                "aggregate": {"iqm": 0.5, "low": 0.25, "high": 0.75}}

    rates = {"librobot/A-v0": 1.0, "librobot/B-v0": 0.5}
    data = {"card": {"tasks": [{"env_id": env} for env in rates]},
            "entries": [entry("expert", "sim", rates), entry("expert", "real", rates)]}
    svgs = charts(data)
    assert list(svgs) == ["aggregate.svg", "A-v0.svg", "B-v0.svg"]
    assert "expert (real)" in svgs["aggregate.svg"] and "0.50 (2/4)" in svgs["B-v0.svg"]


def test_a_published_board_holds_no_local_path(mixed_runs, tmp_path):
    """Policy specs with paths, videos, abort reasons, the database URL: nothing of this
    computer's file system reaches any text file of the published board."""
    board, site = tmp_path / "board", tmp_path / "site"
    db = mixed_runs["store"].url
    assert main(["leaderboard", "build", "--db", db, "--card", str(mixed_runs["card_path"]),
                 "--out", str(board)]) == 0
    bundle = tmp_path / "bundle"
    assert main(["bench", "export", mixed_runs["ids"]["ppo"], "--db", db, "--out",
                 str(bundle)]) == 0
    assert main(["leaderboard", "submit", str(bundle), "--board", str(board)]) == 0
    assert main(["leaderboard", "publish", str(board), "--to", str(site)]) == 0
    files = [p for p in site.rglob("*") if p.is_file()]
    texts = [p for p in files if p.suffix in (".html", ".md", ".csv", ".json", ".jsonl",
                                              ".yaml", ".svg")]
    assert {p.suffix for p in texts} >= {".html", ".md", ".csv", ".json", ".jsonl", ".svg"}
    for path in texts:
        text = path.read_text()
        assert not LOCAL.search(text), (path, LOCAL.search(text))
        assert str(tmp_path) not in text and mixed_runs["store"].url not in text
    page = (site / "index.html").read_text()
    assert "ppo:ppo_pickcup_final.zip" in page and LONG_SPEC not in page
    records = (site / "bundles" / mixed_runs["ids"]["ppo"] / "episodes.jsonl").read_text()
    assert "ttyUSB0 went away (log in bridge.log)" in records  # the reason, without paths


def test_publish_refuses_a_board_that_shows_a_local_path(runs, tmp_path):
    board = tmp_path / "board"
    main(["leaderboard", "build", "--db", runs["store"].url, "--card", str(runs["card_path"]),
          "--out", str(board)])
    with (board / "README.md").open("a") as readme:
        readme.write("\nmodel: /home/somebody/model.zip\n")
    with pytest.raises(LibrobotError, match="README.md shows the local path '/home/somebody"):
        publish(board, str(tmp_path / "site"))
    assert not (tmp_path / "site").exists()


def test_unfinished_runs_are_left_out_with_a_note(runs, tmp_path, capsys):
    shutil.copyfile(runs["root"] / "results.db", tmp_path / "results.db")
    store = ResultsStore(f"sqlite:///{tmp_path}/results.db")
    half = store.episodes_frame(runs["ids"]["expert"]).to_dict("records")[:2]
    add_run(store, runs["ids"]["expert"], "unfinished000000", "expert:0.5", half)
    out = tmp_path / "board"
    assert main(["leaderboard", "build", "--db", store.url, "--card", str(runs["card_path"]),
                 "--out", str(out)]) == 0
    assert "left out run unfinished000000: expert:0.5 has 2 of the card's 4 episodes" in \
        " ".join(capsys.readouterr().out.split())
    assert [e["name"] for e in json.loads((out / "results.json").read_text())["entries"]] == \
        ["expert", "random"]


def test_demo_writes_everything_under_out(tmp_path, monkeypatch):
    card = write_card(tmp_path / "tiny-v0.yaml", episodes=2)
    monkeypatch.chdir(tmp_path)  # nothing may land in the working folder
    out = tmp_path / "demo"
    assert main(["demo", "--card", str(card), "--out", str(out), "--workers", "1"]) == 0
    assert (out / "results.db").exists() and len(list((out / "videos").rglob("*.mp4"))) == 2
    board = json.loads((out / "board" / "tiny-v0" / "results.json").read_text())
    assert [len(e["videos"]) for e in board["entries"]] == [1, 1]  # a success, a failure
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo", "tiny-v0.yaml"]


def test_publish_to_a_folder_and_to_a_bare_git_repository(runs, tmp_path):
    out = tmp_path / "board"
    main(["leaderboard", "build", "--db", runs["store"].url, "--card", str(runs["card_path"]),
          "--out", str(out)])
    folder = tmp_path / "site"
    assert publish(out, str(folder)) == str(folder) and (folder / "index.html").exists()
    bare = tmp_path / "boards.git"
    subprocess.run(["git", "init", "--bare", "--quiet", str(bare)], check=True)
    first = publish(out, str(bare))
    assert publish(out, str(bare)) == first  # nothing changed: no new commit
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", str(bare), str(clone)], check=True)
    assert (clone / "index.html").exists() and (clone / "results.json").exists()
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=clone, capture_output=True,
                          text=True).stdout.strip()
    assert head == first
    assert main(["leaderboard", "publish", str(out), "--to", str(tmp_path / "site2")]) == 0
