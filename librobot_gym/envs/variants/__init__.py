"""Variants: the factors that change between a policy's training and its test (lighting,
table, background, distractors, camera pose, object colour, size and mass, friction, the
arm's start, the instruction's phrasing, image and state noise), each with named levels.

`gym.make(ID, variant="lighting:dark")` or `env.reset(seed=s, options={"variant": v})` runs
an episode under one; the same (seed, variant) gives the same episode. `known_variants()` lists
every one, `supported_variants(env_id)` those an env offers, `parse_variant(name)` checks a
name ("lighting_dark" is accepted as an alias). Several factors combine in one episode as
"lighting:dark+camera:shift_1" (`parse_combination`; domain randomisation draws them).
"""

from librobot_gym.envs.variants.combination import (
    Combination,
    parse_combination,
    unsupported_parts,
)
from librobot_gym.envs.variants.context import VariantContext, variant_rng
from librobot_gym.envs.variants.factor import (
    DEFAULT,
    FACTORS,
    Factor,
    Variant,
    declared_variants,
    factors,
    known_variants,
    parse_variant,
    register_factor,
    supported_variants,
)

__all__ = ["DEFAULT", "FACTORS", "Combination", "Factor", "Variant", "VariantContext",
           "declared_variants", "factors", "known_variants", "parse_combination",
           "parse_variant", "register_factor", "supported_variants", "unsupported_parts",
           "variant_rng"]
