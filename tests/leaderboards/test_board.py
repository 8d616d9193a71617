"""Ranking with ties, sim-vs-real agreement, the rendered files and publishing."""

import csv
import json
import subprocess

import numpy as np
import pandas as pd

from librobot_gym.benchmarks.score import RunScore
from librobot_gym.cli import main
from librobot_gym.leaderboards.board import Entry, rank, sim_vs_real
from librobot_gym.leaderboards.publish import publish


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
    assert data["schema"] == "librobot-leaderboard/1"
    assert [e["policy"] for e in data["entries"]] == ["expert", "random"]
    assert data["entries"][0]["rank"] == 1 and data["entries"][0]["videos"]
    assert (out / data["entries"][0]["videos"][0]).exists()
    rows = list(csv.DictReader((out / "results.csv").open()))
    assert len(rows) == 2 and {r["policy"] for r in rows} == {"expert", "random"}
    readme = (out / "README.md").read_text()
    assert "| 1 | expert | sim |" in readme and "1.00 [0.51, 1.00]" in readme
    html = (out / "index.html").read_text()
    assert "<svg" in html and html.count("<tr") >= 3
    frame = pd.read_csv(out / "results.csv")
    assert np.isclose(frame.loc[frame.policy == "expert", "rate"].item(), 1.0)


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
