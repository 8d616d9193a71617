"""Variants: names parse (or are refused in one line), tasks declare what they support, and
every factor gives the same episode for the same (seed, variant), a different one for another
level where it should, and leaves the default episode of a seed as it was."""

import gymnasium as gym
import numpy as np
import pytest

from librobot_gym.envs.variants import (
    FACTORS,
    declared_variants,
    known_variants,
    parse_variant,
    supported_variants,
)
from librobot_gym.errors import ConfigError

TABLETOP = "librobot/Franka-PickCup-v1"
SEED = 0
SIZE = 32  # small images: the checks compare arrays, not looks


@pytest.fixture(scope="module")
def env():
    env = gym.make(TABLETOP, camera_size=SIZE)
    yield env.unwrapped
    env.close()


def episode(env, variant, steps=2, seed=SEED):
    """The observations of a reset and `steps` zero-action steps, and the reset's info."""
    obs, info = env.reset(seed=seed, options={"variant": variant})
    seen = [obs]
    for _ in range(steps):
        seen.append(env.step(np.zeros(env.action_space.shape, np.float32))[0])
    return seen, info


def same(a, b) -> bool:
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, np.ndarray):
        return a.shape == b.shape and np.array_equal(a, b)
    return a == b


# --- names ----------------------------------------------------------------------------------
def test_thirteen_factors_each_with_named_levels():
    assert len(FACTORS.names()) >= 12
    names = known_variants()
    assert names[0] == "default" and len(names) == len(set(names))
    assert {"lighting:dark", "camera:shift_1", "distractors:few", "language:heldout",
            "image_noise:blur", "state_noise:small", "table:checker"} <= set(names)


@pytest.mark.parametrize("alias, canonical", [
    ("lighting_dark", "lighting:dark"), ("camera_shift_1", "camera:shift_1"),
    ("object_size_large", "object_size:large"), ("Lighting:Dark", "lighting:dark"),
    ("default", "default"), (None, "default")])
def test_underscore_aliases_are_normalised(alias, canonical):
    assert parse_variant(alias).name == canonical


@pytest.mark.parametrize("bad, says", [
    ("lighting:dim", "its levels: dark"), ("lightning:dark", "did you mean lighting:dark"),
    ("sunshine", "factors: background"), ("camera_shift_9", "no level 'shift_9'"),
    (3, "must be a string")])
def test_unknown_variants_are_refused_in_one_line(bad, says):
    with pytest.raises(ConfigError, match=says) as caught:
        parse_variant(bad)
    assert "\n" not in str(caught.value)


def test_tasks_declare_what_they_support():
    tabletop = set(supported_variants(TABLETOP))
    assert tabletop == set(known_variants())  # the tabletop suite offers every factor
    v0 = supported_variants("librobot/Franka-PickCup-v0")
    assert "table:dark" in v0 and "table:checker" not in v0  # no texture to pattern
    assert not any(v.startswith(("distractors", "language")) for v in v0)
    dig = supported_variants("librobot/Excavator-DigDump-v0")
    assert {"lighting:dark", "camera:shift_1", "background:dark", "joint_noise:small"} <= \
        set(dig)
    assert not any(v.startswith(("table", "object_", "distractors")) for v in dig)
    real = supported_variants("librobot/Franka-PickCup-Real-v1")  # software cannot relight
    assert "image_noise:blur" in real and "lighting:dark" not in real


def test_an_unsupported_variant_is_refused_at_make_and_at_reset(env):
    with pytest.raises(ConfigError, match=r"does not support variant 'table:checker'.*"
                                          r"table:dark") as caught:
        gym.make("librobot/Franka-PickCup-v0", obs_mode="state", variant="table_checker")
    assert "\n" not in str(caught.value)
    with pytest.raises(ConfigError, match="unknown variant"):
        env.reset(seed=0, options={"variant": "lighting-dark"})


def test_declaring_a_level_a_factor_lacks_is_refused():
    class Task:
        name = "broken"
        variant_factors = ("lighting:dim",)

    with pytest.raises(ConfigError, match="declares variant 'lighting:dim'"):
        declared_variants(Task)


# --- episodes ----------------------------------------------------------------------------------
def test_make_time_variant_is_reported_and_options_override_it():
    env = gym.make(TABLETOP, camera_size=SIZE, variant="lighting_dark")
    try:
        assert env.reset(seed=1)[1]["variant"] == "lighting:dark"
        assert env.reset(seed=1, options={"variant": "default"})[1]["variant"] == "default"
    finally:
        env.close()


def one_level_per_factor():
    return [f"{name}:{next(iter(FACTORS.get(name).levels))}" for name in FACTORS.names()]


@pytest.mark.parametrize("variant", one_level_per_factor())
def test_same_seed_and_variant_give_the_same_episode_and_the_default_is_untouched(env, variant):
    default, _ = episode(env, "default")
    first, info = episode(env, variant)
    again, _ = episode(env, variant)
    assert info["variant"] == variant
    assert all(same(a, b) for a, b in zip(first, again, strict=True))
    after, _ = episode(env, "default")  # nothing leaks into the next episode
    assert all(same(a, b) for a, b in zip(default, after, strict=True))


def differs(a, b) -> bool:
    return not same(a, b)


@pytest.mark.parametrize("factor", sorted(set(FACTORS.names()) - {"object_mass", "friction"}))
def test_every_level_changes_what_the_policy_gets(env, factor):
    """Images (visual factors), the instruction (language) or the state (state noise) differ
    from the default, and the levels from each other."""
    default, _ = episode(env, "default", steps=1)
    seen = []
    for level in FACTORS.get(factor).levels:
        obs, _ = episode(env, f"{factor}:{level}", steps=1)
        assert differs(obs[0], default[0]) or differs(obs[1], default[1]), level
        seen.append(obs[0])
    for i in range(len(seen)):
        for j in range(i):
            assert differs(seen[i], seen[j])


@pytest.mark.parametrize("variant, field", [
    ("object_mass:light", "body_mass"), ("object_mass:heavy", "body_mass"),
    ("friction:low", "geom_friction"), ("friction:high", "geom_friction")])
def test_physics_factors_change_the_model_for_one_episode(env, variant, field):
    env.reset(seed=SEED)
    before = getattr(env.sim.model, field).copy()
    env.reset(seed=SEED, options={"variant": variant})
    changed = getattr(env.sim.model, field)
    assert not np.array_equal(changed, before)
    target = env.sim.model.body(next(iter(env.task.active))).id
    if field == "body_mass":
        ratio = FACTORS.get("object_mass").levels[variant.split(":")[1]]["scale"]
        assert changed[target] == pytest.approx(before[target] * ratio)
    env.reset(seed=SEED)
    assert np.array_equal(getattr(env.sim.model, field), before)


def test_another_seed_draws_another_perturbation(env):
    a, _ = episode(env, "camera:shift_2", steps=0, seed=1)
    b, _ = episode(env, "camera:shift_2", steps=0, seed=2)
    plain_a, _ = episode(env, "default", steps=0, seed=1)
    assert differs(a[0], plain_a[0]) and differs(a[0], b[0])


def test_unseeded_resets_continue_the_variant_stream(env):
    env.reset(seed=5, options={"variant": "camera:shift_1"})
    first = env.sim.model.cam_pos.copy()
    env.reset(options={"variant": "camera:shift_1"})
    assert not np.array_equal(env.sim.model.cam_pos, first)


def test_the_excavator_supports_its_subset():
    env = gym.make("librobot/Excavator-DigDump-v0", camera_size=SIZE)
    try:
        plain, _ = env.reset(seed=0)
        for variant in ("lighting:dark", "background:warm", "camera:shift_2"):
            a, info = env.reset(seed=0, options={"variant": variant})
            b, _ = env.reset(seed=0, options={"variant": variant})
            assert info["variant"] == variant and same(a, b) and differs(a, plain)
        assert same(env.reset(seed=0)[0], plain)
        with pytest.raises(ConfigError, match="does not support variant 'distractors:few'"):
            env.reset(seed=0, options={"variant": "distractors:few"})
    finally:
        env.close()


def test_state_modes_take_state_noise_and_ignore_nothing():
    env = gym.make("librobot/Franka-PickCup-v0", obs_mode="state")
    try:
        plain, _ = env.reset(seed=0)
        noisy, _ = env.reset(seed=0, options={"variant": "state_noise:large"})
        again, _ = env.reset(seed=0, options={"variant": "state_noise:large"})
        assert np.array_equal(noisy, again) and not np.array_equal(noisy, plain)
        assert np.abs(noisy - plain).max() < 0.2
        small, _ = env.reset(seed=0, options={"variant": "object_size:small"})
        cup = env.unwrapped.sim.model.geom("cup")
        assert cup.size[0] == pytest.approx(0.85 * env.unwrapped.task.layout.cup_radius)
    finally:
        env.close()
