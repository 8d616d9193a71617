"""Domain-randomised collection: each episode draws one level per factor from its seed, plays it
through the env's variants, records it in the episodes table (read back per episode), and a
rerun or a resumed run records the same levels; evaluation-only and unsupported factors are
refused in one line."""

from __future__ import annotations

import numpy as np
import pytest

from librobot_gym.errors import ConfigError
from librobot_gym.training.data import collect
from librobot_gym.training.data.base import DatasetError
from librobot_gym.training.data.lerobot import LeRobotDataset
from librobot_gym.training.data.randomize import episode_variants, randomizer

PICKCUP = "librobot/Franka-PickCup-v0"
SIZE = 32
FACTORS = "lighting,camera,object_colour,table"


def test_all_is_every_supported_factor_but_the_evaluation_ones():
    draws = randomizer("librobot/Franka-PickCup-v1", "all")
    assert "language" not in draws.choices and "distractors" in draws.choices
    assert draws.choices["lighting"][0] == "default"  # the nominal scene stays a choice
    v0 = randomizer(PICKCUP, "all")
    assert "table" in v0.choices and "checker" not in v0.choices["table"]  # no texture there
    assert randomizer(PICKCUP, " Lighting , camera,lighting").spec == "camera,lighting"


def test_draws_follow_the_seed_and_cover_the_levels():
    draws = randomizer(PICKCUP, FACTORS)
    assert [draws.draw(s) for s in range(20)] == [draws.draw(s) for s in range(20)]
    seen = {draws.draw(s).levels.get("lighting", "default") for s in range(200)}
    assert seen == set(draws.choices["lighting"])
    assert len({draws.draw(s).name for s in range(20)}) > 10


@pytest.mark.parametrize("factors, says", [
    ("language", "language' is refused: its held-out paraphrases"),
    ("distractors", "does not support factor 'distractors'"),
    ("lightning", "unknown factor 'lightning'"),
    ("lighting:dark", "name factors only"),
    (" , ", "needs factors")])
def test_bad_factors_are_refused_in_one_line(factors, says):
    env = "librobot/Franka-PickCup-v1" if factors == "language" else PICKCUP
    with pytest.raises(ConfigError, match=says) as caught:
        randomizer(env, factors)
    assert "\n" not in str(caught.value)


def test_collect_records_the_drawn_levels_and_a_resumed_run_draws_the_same(tmp_path):
    whole = collect(PICKCUP, "expert", 3, tmp_path / "whole", seed=5, camera_size=SIZE,
                    randomize=FACTORS)
    draws = randomizer(PICKCUP, FACTORS)
    expected = {i: draws.draw(5 + i).levels for i in range(3)}
    assert episode_variants(tmp_path / "whole") == expected
    assert [e.variant for e in whole.episodes] == [draws.draw(5 + i).name for i in range(3)]
    collect(PICKCUP, "expert", 1, tmp_path / "part", seed=5, camera_size=SIZE,
            randomize=FACTORS)
    collect(PICKCUP, "expert", 3, tmp_path / "part", seed=5, camera_size=SIZE,
            randomize=FACTORS)
    assert episode_variants(tmp_path / "part") == expected
    a, b = LeRobotDataset(tmp_path / "whole"), LeRobotDataset(tmp_path / "part")
    assert np.array_equal(a.actions, b.actions)  # the same episodes, frame for frame
    with pytest.raises(DatasetError, match="already holds a different dataset"):
        collect(PICKCUP, "expert", 4, tmp_path / "part", seed=5, camera_size=SIZE,
                randomize="lighting")


def test_randomised_images_differ_from_the_plain_ones(tmp_path):
    """The variants reach the recorded frames: the same seeds look different randomised."""
    collect(PICKCUP, "expert", 1, tmp_path / "plain", seed=1, camera_size=SIZE)
    collect(PICKCUP, "expert", 1, tmp_path / "dr", seed=1, camera_size=SIZE,
            randomize="lighting,table")
    levels = episode_variants(tmp_path / "dr")[0]
    plain, dr = LeRobotDataset(tmp_path / "plain"), LeRobotDataset(tmp_path / "dr")
    assert episode_variants(plain) == {0: {}}
    front_plain, front_dr = (d.images(0)["front"].astype(int) for d in (plain, dr))
    assert levels and np.abs(front_plain - front_dr).mean() > 2.0


def test_the_cli_records_randomised_demonstrations(tmp_path, capsys):
    from librobot_gym.cli import EXIT_USER_ERROR, main

    out = tmp_path / "demos"
    assert main(["collect", PICKCUP, "--episodes", "1", "--camera-size", "32", "--out",
                 str(out), "--randomize", "camera,lighting"]) == 0
    assert "1 episodes" in " ".join(capsys.readouterr().out.split())
    assert set(episode_variants(out)[0]) <= {"camera", "lighting"}
    assert LeRobotDataset(out).info["librobot"]["randomize"] == "camera,lighting"
    assert main(["collect", PICKCUP, "--episodes", "1", "--out", str(tmp_path / "x"),
                 "--randomize", "distractors"]) == EXIT_USER_ERROR
    assert "does not support factor 'distractors'" in capsys.readouterr().out
