"""scripts/sim2real.py: runs every policy on the card in sim and on the twin, resumes instead of
rerunning, writes the table (sim, twin, difference, r, MMRV), and refuses a missing checkpoint
before running anything."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
import yaml

from librobot_gym.errors import ConfigError

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "sim2real.py"


@pytest.fixture(scope="module")
def sim2real():
    spec = importlib.util.spec_from_file_location("sim2real_script", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_policy_set_and_a_missing_checkpoint(sim2real, tmp_path):
    assert list(sim2real.policy_set()) == ["expert", "expert:0.3", "expert:0.5", "expert:0.8",
                                          "random"]
    (tmp_path / "ckpt").mkdir()
    got = sim2real.policy_set((0.5,), {"VLA + DR": str(tmp_path / "ckpt")})
    assert got["VLA + DR"] == f"vla:{tmp_path / 'ckpt'}"
    with pytest.raises(ConfigError, match="--vla VLA=nowhere: no checkpoint there"):
        sim2real.policy_set((), {"VLA": "nowhere"})


def test_runs_both_backends_writes_the_table_and_resumes(sim2real, tmp_path):
    card = tmp_path / "card.yaml"
    card.write_text(yaml.safe_dump({"suite": "tiny-sim2real", "version": 0, "tasks": [{
        "env": "librobot/Franka-PickCup-v0", "episodes": 2, "seed_start": 2000,
        "max_steps": 30, "obs_modes": ["state"], "control_mode": "ee_delta_pose",
        "camera_size": 32}]}))
    policies = sim2real.policy_set((), {})
    report = sim2real.run_all(str(card), policies, tmp_path / "out", log=lambda line: None)
    assert [row["policy"] for row in report["rows"]] == ["expert", "random"]
    assert all(row["episodes"] == 2 for row in report["rows"])
    random = report["rows"][1]
    assert random["sim"] == random["twin"] == 0.0 and random["kept"] is None
    table = (tmp_path / "out" / "sim2real.md").read_text()
    assert "| random | 0.00 | 0.00 | +0.00 | - |" in table and "MMRV" in table
    assert json.loads((tmp_path / "out" / "sim2real.json").read_text())["caveat"]
    lines = []
    sim2real.run_all(str(card), policies, tmp_path / "out", log=lines.append)
    assert all("0 episodes run now" in line for line in lines)  # stored: nothing reruns
