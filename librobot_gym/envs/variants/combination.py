"""Several factors in one episode: "lighting:dark+camera:shift_1" (or a list of names) is a
`Combination`, what domain randomisation needs (`librobot collect --randomize` draws one level
per factor for each episode). A single variant is the one-part combination of itself, with
the same name and the same episodes as before combinations existed.

Each part keeps its own RNG stream, from (seed, its own name), so a factor perturbs an episode
exactly as it does alone whatever it is combined with. Parts apply in a fixed order (the
factors' `order`, then their names) so that every spelling of a combination is the same
episode: e.g. distractors come last, after the factors that recolour or resize the shown
objects, so the unnamed objects keep the looks the distractor factor gives them.
"""

from __future__ import annotations

from dataclasses import dataclass

from librobot_gym.envs.variants.factor import DEFAULT, FACTORS, Variant, parse_variant
from librobot_gym.errors import ConfigError

SEPARATOR = "+"


@dataclass(frozen=True)
class Combination:
    """Zero (the default), one or several variants of distinct factors, in applying order."""

    parts: tuple[Variant, ...] = ()

    @property
    def name(self) -> str:
        return SEPARATOR.join(p.name for p in self.parts) if self.parts else DEFAULT

    @property
    def is_default(self) -> bool:
        return not self.parts

    @property
    def levels(self) -> dict[str, str]:
        """factor -> level, e.g. {"camera": "shift_1", "lighting": "dark"}."""
        return {p.factor: p.level for p in self.parts}

    def __str__(self) -> str:
        return self.name


def _order(variant: Variant) -> tuple[int, str]:
    return getattr(FACTORS.get(variant.factor), "order", 0), variant.factor


def parse_combination(name: str | Variant | Combination | list | tuple | None) -> Combination:
    """A `Combination` from "default", one variant name, "A:x+B:y", a list of names, or a
    `Variant`; ConfigError (one line) for an unknown part or a factor named twice."""
    if isinstance(name, Combination):
        return name
    if isinstance(name, (list, tuple)):
        items = list(name)
    elif isinstance(name, str) and SEPARATOR in name:
        items = name.split(SEPARATOR)
    else:
        items = [name]
    parts = [v for v in (parse_variant(item) for item in items) if not v.is_default]
    seen: dict[str, str] = {}
    for part in parts:
        if part.factor in seen:
            raise ConfigError(f"variant {SEPARATOR.join(map(str, items))!r} sets factor "
                              f"{part.factor!r} twice ({seen[part.factor]} and {part.name}): "
                              f"give one level per factor")
        seen[part.factor] = part.name
    return Combination(tuple(sorted(parts, key=_order)))


def unsupported_parts(name: str, supported: list[str]) -> list[str]:
    """The parts of variant (or combination) `name` that are not in `supported` (an env's
    single-factor variants): a combination is offered when every part of it is."""
    return [part.name for part in parse_combination(name).parts if part.name not in supported]
