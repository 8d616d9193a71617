"""A card may list a combination of variants ("lighting:dark+camera:shift_1"): it is checked
part by part, runs, and scores as a row of its own ("camera+lighting")."""

from __future__ import annotations

import pytest
import yaml

from librobot_gym.benchmarks.cards import CardError, load_card
from librobot_gym.benchmarks.runner import run_suite
from librobot_gym.benchmarks.score import factor_of, score_episodes
from librobot_gym.benchmarks.store import ResultsStore
from librobot_gym.cli import main

ENV_ID = "librobot/Franka-PickCup-v1"


def card_file(tmp_path, variants, env=ENV_ID):
    path = tmp_path / "card.yaml"
    path.write_text(yaml.safe_dump({"suite": "combined", "version": 0, "tasks": [{
        "env": env, "episodes": 2, "seed_start": 0, "max_steps": 30, "obs_modes": ["state"],
        "control_mode": "ee_delta_pose", "variants": variants}]}))
    return path


def test_a_combination_runs_and_scores_as_its_own_row(tmp_path):
    card = load_card(card_file(tmp_path, ["default", "camera_shift_1+lighting:dark"]))
    # canonical: the applying order, aliases resolved
    assert card.tasks[0].variants[0] == "default"
    assert set(card.tasks[0].variants[1].split("+")) == {"camera:shift_1", "lighting:dark"}
    store = ResultsStore(f"sqlite:///{tmp_path / 'r.db'}")
    summary = run_suite(card, "random", store, out_dir=tmp_path)
    frame = store.episodes_frame(summary.run_id)
    assert set(frame["variant"]) == set(card.tasks[0].variants)
    report = score_episodes(frame).variants
    factors = {row.factor for row in report.factors}
    assert factors == {"default", factor_of(card.tasks[0].variants[1])}
    assert factor_of("camera:shift_1+lighting:dark") == "camera+lighting"


def test_a_part_the_env_does_not_support_is_named(tmp_path):
    with pytest.raises(CardError, match="lighting:dark") as excinfo:
        load_card(card_file(tmp_path, ["joint_noise:small+lighting:dark"],
                            env="librobot/Franka-PickCup-Real-v0"))
    assert "variants --env" in str(excinfo.value)


def test_the_variants_command_lists_factors_and_what_an_env_supports(capsys):
    assert main(["variants"]) == 0
    out = capsys.readouterr().out
    assert "lighting" in out and "dark, bright" in out
    assert main(["variants", "--env", "librobot/Franka-PickCup-Real-v0"]) == 0
    out = capsys.readouterr().out
    assert "joint_noise" in out and "│ lighting" not in out
