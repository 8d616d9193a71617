"""A board shows what sequential runs decided and after how many episodes; their bundles hold
fewer episodes than the card (and nothing outside it), which only a sequential run may."""

import hashlib
import json

import pytest

from librobot_gym.benchmarks.cards import load_card
from librobot_gym.benchmarks.sequential.ab import run_ab
from librobot_gym.benchmarks.store import ResultsStore
from librobot_gym.cli.board import build_board
from librobot_gym.leaderboards.bundle import BundleError, export_bundle, load_bundle
from tests.benchmarks.conftest import write_card


def test_board_shows_the_ab_decision_and_accepts_the_shorter_runs(tmp_path):
    card = load_card(write_card(tmp_path / "ab-v0.yaml", episodes=30, seed_start=100))
    store = ResultsStore(f"sqlite:///{tmp_path}/r.db")
    result = run_ab(card, "expert", "random", store)
    build_board(card, store, str(tmp_path / "board"))
    readme = (tmp_path / "board" / "README.md").read_text()
    assert "## Sequential decisions" in readme
    assert f"expert better than random after {result.episodes} episodes" in readme
    assert readme.count("(sequential)") == 2  # both rows say they stopped early
    data = json.loads((tmp_path / "board" / "results.json").read_text())
    assert all(e["sequential"][0]["verdict"] == result.verdict for e in data["entries"])
    assert "Sequential decisions" in (tmp_path / "board" / "index.html").read_text()

    bundle = export_bundle(store, result.run_a, tmp_path / "bundle")
    assert len(load_bundle(bundle).episodes) == result.episodes // 2
    run = json.loads((bundle / "run.json").read_text())
    del run["sequential"]  # the same short run, no longer saying why it is short
    (bundle / "run.json").write_text(json.dumps(run))
    manifest = json.loads((bundle / "manifest.json").read_text())
    manifest["files"]["run.json"] = hashlib.sha256((bundle / "run.json").read_bytes()).hexdigest()
    (bundle / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(BundleError, match="missing"):
        load_bundle(bundle)
