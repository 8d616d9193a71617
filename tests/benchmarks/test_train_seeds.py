"""Training seeds on suite cards: per card or per task, apart from the evaluation seeds (checked
at load, and again with `--seed`), left out of the hash."""

import pathlib

import pytest
import yaml

from librobot_gym.benchmarks.cards import CardError, SeedRange, load_card
from librobot_gym.errors import ConfigError
from tests.benchmarks.conftest import write_card

ROOT = pathlib.Path(__file__).resolve().parents[2]
# The shipped cards' hashes before they pinned training seeds: pinning them kept every result
# made on these cards comparable.
HASHES = {
    "pickcup-v0": "ffaea0f8e14a1b2fc3f6045c5f18a1aa5dafc755be5aa5ebc1505fcdd8942f34",
    "earthmoving-v0": "cc4bcdf719aaeb9ec2bb3f3e7317e4a62edad9a863460eaab19f3460d7f258f9",
    "pickcup-sim2real-v0": "625981594077c706d6f755ecdc3e456a559a580e6ba3947bcdb8caf163708b88",
}


def card_with(tmp_path, card_seeds=None, task_seeds=None, name="t.yaml"):
    path = write_card(tmp_path / name, episodes=20, seed_start=1000)
    raw = yaml.safe_load(path.read_text())
    if card_seeds is not None:
        raw["train_seeds"] = card_seeds
    if task_seeds is not None:
        raw["tasks"][0]["train_seeds"] = task_seeds
    path.write_text(yaml.safe_dump(raw))
    return path


@pytest.mark.parametrize("name", sorted(HASHES))
def test_shipped_cards_pin_training_seeds_and_keep_their_hash(name):
    card = load_card(ROOT / "benchmarks" / f"{name}.yaml")
    assert all(t.train_seeds == SeedRange(100_000, 50) for t in card.tasks)
    assert card.content_hash == HASHES[name]
    card.check_train_seeds()


def test_card_seeds_apply_to_every_task_and_a_task_may_override_them(tmp_path):
    card = load_card(card_with(tmp_path, {"start": 5000, "episodes": 3}))
    assert card.tasks[0].train_seeds.seeds == [5000, 5001, 5002]
    card = load_card(card_with(tmp_path, {"start": 5000, "episodes": 3},
                               {"start": 7000, "episodes": 2}))
    assert card.tasks[0].train_seeds.seeds == [7000, 7001]


def test_training_seeds_are_left_out_of_the_hash(tmp_path):
    plain = load_card(card_with(tmp_path, name="a.yaml"))
    seeded = load_card(card_with(tmp_path, {"start": 5000, "episodes": 3}, name="b.yaml"))
    other = load_card(card_with(tmp_path, None, {"start": 9000, "episodes": 9}, name="c.yaml"))
    assert plain.content_hash == seeded.content_hash == other.content_hash
    assert plain.tasks[0].train_seeds is None


@pytest.mark.parametrize("card_seeds,task_seeds,message", [
    ({"start": 1010, "episodes": 50}, None,
     "tasks[0] (librobot/Franka-PickCup-v0) records training demonstrations on seeds "
     "1010..1059 (train_seeds), which include its evaluation seeds 1010..1019; move "
     "train_seeds' start past 1019 (e.g. 100000)"),
    (None, {"start": 990, "episodes": 11}, "which include its evaluation seeds 1000..1000"),
    ({"start": 5000}, None, "missing field train_seeds.'episodes'"),
    ({"start": -1, "episodes": 3}, None, "its start is a seed (>= 0)"),
    ({"start": 5000, "episodes": 0}, None, "its episodes a positive count"),
    ({"start": 5000, "episodes": 3, "stride": 2}, None, "unknown field train_seeds.'stride'"),
    ([5000, 3], None, "field 'train_seeds' must be a mapping like {start: 100000"),
    (None, {"strat": 5000, "episodes": 3},
     "unknown field tasks[0].train_seeds.'strat' (did you mean 'start'?)"),
])
def test_bad_or_overlapping_training_seeds_are_refused_at_load(tmp_path, card_seeds,
                                                               task_seeds, message):
    path = card_with(tmp_path, card_seeds, task_seeds)
    with pytest.raises(CardError) as excinfo:
        load_card(path)
    assert str(excinfo.value).startswith(f"{path}: ") and message in str(excinfo.value)
    assert "\n" not in str(excinfo.value)


def test_a_seed_offset_that_meets_the_training_seeds_is_refused(tmp_path):
    card = load_card(card_with(tmp_path, {"start": 5000, "episodes": 10}))
    card.check_train_seeds(3000)  # evaluation seeds 4000..4019: apart
    with pytest.raises(ConfigError, match=r"with --seed 3990 the evaluation seeds of "
                                          r"librobot/Franka-PickCup-v0 are 4990..5009, which "
                                          r"include training seeds 5000..5009; choose a --seed"):
        card.check_train_seeds(3990)


def test_a_card_without_training_seeds_says_how_to_add_them(tmp_path):
    card = load_card(card_with(tmp_path))
    with pytest.raises(ConfigError, match=r"pins no training seeds for librobot/Franka-PickCup-"
                                          r"v0; add `train_seeds: \{start: 100000, episodes: "
                                          r"50\}` to a copy of the card"):
        card.check_train_seeds()
