"""Result bundles: export, submit, and every reason a board refuses one."""

import json
import shutil

import pytest

from librobot_gym.cli import main
from librobot_gym.leaderboards.board import BoardDir
from librobot_gym.leaderboards.bundle import BundleError, _sha256, export_bundle, load_bundle
from tests.benchmarks.conftest import write_card


@pytest.fixture
def board(runs, tmp_path):
    board = BoardDir(tmp_path / "board")
    board.init(runs["card"])
    return board


@pytest.fixture
def bundle(runs, tmp_path):
    return export_bundle(runs["store"], runs["ids"]["expert"], tmp_path / "bundle")


def rewrite_episodes(bundle, edit, fix_manifest=True):
    path = bundle / "episodes.jsonl"
    records = [json.loads(line) for line in path.read_text().splitlines()]
    records = edit(records)
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    if fix_manifest:  # a careful forger updates the manifest too
        manifest = json.loads((bundle / "manifest.json").read_text())
        manifest["files"]["episodes.jsonl"] = _sha256(path)
        (bundle / "manifest.json").write_text(json.dumps(manifest))


def test_export_then_submit_adds_the_run(board, bundle, runs):
    assert load_bundle(bundle).run["id"] == runs["ids"]["expert"]
    assert (bundle / "videos").iterdir()  # the recorded video travels with the bundle
    assert board.submit(bundle) == runs["ids"]["expert"]
    assert [e.policy for e in board.board().entries] == ["expert"]


def test_tampered_records_are_refused(board, bundle):
    flip = lambda rs: [{**rs[0], "success": not rs[0]["success"]}] + rs[1:]  # noqa: E731
    rewrite_episodes(bundle, flip, fix_manifest=False)
    with pytest.raises(BundleError, match="modified after export"):
        board.submit(bundle)


def test_missing_episodes_are_refused(board, bundle):
    rewrite_episodes(bundle, lambda rs: rs[:-1])
    with pytest.raises(BundleError, match="missing"):
        board.submit(bundle)


def test_extra_episodes_are_refused(board, bundle):
    rewrite_episodes(bundle, lambda rs: rs + [{**rs[0], "seed": 999}])
    with pytest.raises(BundleError, match="not in the card"):
        board.submit(bundle)


def test_seeds_that_differ_from_the_card_are_refused(board, bundle):
    rewrite_episodes(bundle, lambda rs: [{**r, "seed": r["seed"] + 50} for r in rs])
    with pytest.raises(BundleError, match="do not follow the card's seeds"):
        board.submit(bundle)


def test_duplicated_episodes_are_refused(board, bundle):
    rewrite_episodes(bundle, lambda rs: rs[:-1] + [rs[0]])
    with pytest.raises(BundleError, match="recorded twice"):
        board.submit(bundle)


def test_a_bundle_of_another_card_is_refused(runs, bundle, tmp_path):
    other = BoardDir(tmp_path / "other")
    from librobot_gym.benchmarks.cards import load_card

    other.init(load_card(write_card(tmp_path / "other-v0.yaml", episodes=5)))
    with pytest.raises(BundleError, match="the board is for"):
        other.submit(bundle)


def test_a_card_edited_inside_the_bundle_is_refused(board, bundle):
    card = bundle / "card.yaml"
    card.write_text(card.read_text().replace("episodes: 4", "episodes: 3"))
    manifest = json.loads((bundle / "manifest.json").read_text())
    manifest["files"]["card.yaml"] = _sha256(card)
    (bundle / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(BundleError, match="card hash mismatch"):
        board.submit(bundle)


def test_unlisted_files_are_refused(board, bundle):
    (bundle / "extra.txt").write_text("hello")
    with pytest.raises(BundleError, match="unlisted"):
        board.submit(bundle)


def test_cli_export_submit_and_refusal(runs, tmp_path, capsys):
    db = runs["store"].url
    out = tmp_path / "cli-bundle"
    assert main(["bench", "export", runs["ids"]["random"], "--db", db, "--out", str(out)]) == 0
    board = tmp_path / "cli-board"
    assert main(["leaderboard", "build", "--db", db, "--card", str(runs["card_path"]),
                 "--out", str(board)]) == 0
    assert main(["leaderboard", "submit", str(out), "--board", str(board)]) == 0
    assert "accepted run" in capsys.readouterr().out
    shutil.copytree(out, tmp_path / "bad")
    (tmp_path / "bad" / "episodes.jsonl").write_text("")
    assert main(["leaderboard", "submit", str(tmp_path / "bad"), "--board", str(board)]) == 2
    assert "modified after export" in capsys.readouterr().out
