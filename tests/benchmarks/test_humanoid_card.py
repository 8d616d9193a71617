"""The humanoid card (`benchmarks/humanoid-v0.yaml`) lists every registered simulated humanoid
task id (Stand, WalkTo, TabletopPick on each humanoid), pins its protocol, and runs for the
expert and for random (two episodes per task here, the card's seeds, state observations)."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from librobot_gym.benchmarks.cards import load_card
from librobot_gym.benchmarks.store import ResultsStore
from librobot_gym.cli import main
from librobot_gym.envs.registration import env_ids

CARD = Path(__file__).parents[2] / "benchmarks" / "humanoid-v0.yaml"
HUMANOID_TASK = re.compile(r"librobot/(H1|GR1|FigureClass)-(Stand|WalkTo|TabletopPick)-v\d+")
# Rows whose scripted expert is known to fall short, and why (README "Humanoids"): scored on
# the card all the same, so the shortfall shows on the board. None since the walking law's
# landing fix (the Figure-class WalkTo expert: 100 of 100 seeds).
SHORT: dict[str, str] = {}


def test_the_card_lists_every_simulated_humanoid_task():
    card = load_card(CARD)
    assert {t.env for t in card.tasks} == {i for i in env_ids() if HUMANOID_TASK.fullmatch(i)}
    assert all(t.episodes >= 10 and t.camera_size == 128 for t in card.tasks)


def test_the_card_runs_for_the_expert_and_random(tmp_path):
    raw = yaml.safe_load(CARD.read_text())
    for task in raw["tasks"]:
        task["episodes"] = 2
    small = tmp_path / "humanoid-v0.yaml"
    small.write_text(yaml.safe_dump(raw))
    for policy in ("expert", "random"):
        out = tmp_path / policy
        assert main(["bench", "run", str(small), "--policy", policy, "--out", str(out)]) == 0
        frame = ResultsStore(f"sqlite:///{out}/results.db").episodes_frame()
        assert len(frame) == 2 * len(raw["tasks"])
        if policy == "expert":
            solved = frame[~frame["env_id"].isin(SHORT)]
            assert solved["success"].all() and len(solved) == 2 * (len(raw["tasks"]) - len(SHORT))
