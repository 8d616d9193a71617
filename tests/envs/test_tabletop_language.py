"""Referring expressions, instruction templates and seeded placement of the tabletop suite."""

import math

import numpy as np
import pytest

from librobot_gym.envs.tasks.language import (
    Instructions,
    Reference,
    Thing,
    relational_reference,
    shortest_reference,
)
from librobot_gym.envs.tasks.pick_cup_v1 import INSTRUCTIONS
from librobot_gym.envs.tasks.placement import Footprint, place, quat_yaw, upright, yaw_quat
from librobot_gym.errors import ConfigError

# Left to right as the front camera sees them.
SCENE = [Thing("c1", "cup", "red", -0.2), Thing("bowl", "bowl", "blue", 0.0),
         Thing("c2", "cup", "red", 0.2), Thing("m", "mug", "green", 0.3)]


def test_a_reference_renders_and_resolves():
    assert Reference("mug", "green").text() == "green mug"
    assert [t.name for t in Reference("cup", "red").resolve(SCENE)] == ["c1", "c2"]
    left = Reference("cup", None, "left of", Reference("bowl"))
    assert left.text() == "cup left of the bowl"
    assert left.picks_out("c1", SCENE) and not left.picks_out("c2", SCENE)
    assert Reference("cup", None, "right of", Reference("bowl")).picks_out("c2", SCENE)
    assert Reference(None, "green").text() == "green object"
    with pytest.raises(ConfigError, match="relation"):
        Reference("cup", None, "above", Reference("bowl"))


def test_a_relation_needs_a_landmark_that_is_one_object():
    two_bowls = SCENE + [Thing("b2", "bowl", "white", -0.4)]
    assert not Reference("cup", None, "left of", Reference("bowl")).picks_out("c1", two_bowls)


def test_the_shortest_reference_is_the_plainest_that_picks_out_the_target():
    assert shortest_reference(SCENE[3], SCENE) == Reference("mug")
    assert shortest_reference(SCENE[1], SCENE) == Reference("bowl")
    twins = [Thing("a", "cup", "red", 0.0), Thing("b", "cup", "blue", 0.1)]
    assert shortest_reference(twins[0], twins) == Reference("cup", "red")
    assert shortest_reference(SCENE[0], SCENE) is None  # two red cups: a relation is needed


def test_a_relational_reference_tells_twins_apart_only_beyond_the_margin():
    ref = relational_reference(SCENE[0], SCENE, margin=0.05)
    assert ref.text() == "cup left of the bowl" and ref.picks_out("c1", SCENE)
    assert relational_reference(SCENE[2], SCENE, margin=0.05).text() == "cup right of the bowl"
    assert relational_reference(SCENE[0], SCENE, margin=0.25) is None  # too close to call


def test_instruction_sets_are_disjoint_and_the_held_out_one_is_never_drawn_by_default():
    rng = np.random.default_rng(0)
    said = {INSTRUCTIONS.say(rng, "train", target="red mug") for _ in range(200)}
    assert len(said) == len(INSTRUCTIONS.train) >= 5
    held = {INSTRUCTIONS.say(rng, "heldout", target="red mug") for _ in range(200)}
    assert len(held) == len(INSTRUCTIONS.heldout) >= 3 and not said & held
    with pytest.raises(ConfigError, match="instruction_set"):
        INSTRUCTIONS.templates("test")
    with pytest.raises(ConfigError, match="disjoint"):
        Instructions(train=("lift the {target}",), heldout=("lift the {target}",))


def test_placement_keeps_objects_apart_inside_their_regions_and_replays():
    region = ((0.3, 0.6), (-0.2, 0.2))
    near = ((0.4, 0.5), (-0.1, 0.1))
    items = [Footprint("t", 0.03, near)] + [Footprint(f"o{i}", 0.05, region) for i in range(4)]
    for seed in range(20):
        spots = place(np.random.default_rng(seed), items, clearance=0.04)
        assert spots is not None
        radius = {i.name: i.radius for i in items}
        for a in spots:
            for b in spots:
                if a < b:
                    assert math.dist(spots[a], spots[b]) >= radius[a] + radius[b] + 0.04
        assert 0.4 <= spots["t"][0] <= 0.5 and -0.1 <= spots["t"][1] <= 0.1
        again = place(np.random.default_rng(seed), items, clearance=0.04)
        assert all(np.array_equal(spots[n], again[n]) for n in spots)


def test_placement_gives_up_when_nothing_fits():
    tiny = ((0.0, 0.01), (0.0, 0.01))
    items = [Footprint("a", 0.05, tiny), Footprint("b", 0.05, tiny)]
    assert place(np.random.default_rng(0), items, clearance=0.0, tries=20) is None


def test_yaw_and_upright_read_back_a_pose():
    for yaw in (-3.0, -1.0, 0.0, 0.5, 2.9):
        assert quat_yaw(yaw_quat(yaw)) == pytest.approx(yaw)
        assert upright(yaw_quat(yaw)) == pytest.approx(1.0)
    on_side = np.array([math.cos(math.pi / 4), math.sin(math.pi / 4), 0.0, 0.0])
    assert upright(on_side) == pytest.approx(0.0, abs=1e-12)
