"""Domain randomisation for recorded demonstrations: `librobot collect --randomize lighting,camera`
plays each episode under one level per named factor, drawn from the episode's seed, through the
env's variant machinery (a combination such as "camera:shift_1+lighting:dark"; `envs/variants`).

Each factor's choice is uniform over the levels the env supports plus its nominal state
("default": the factor left alone), so the nominal scene stays in the data. The draw comes from
its own stream of (episode seed, "randomize"), so rerunning a collection records the same
levels, and the factor's own perturbation (which way the camera moved) from the variant's
stream, as in evaluation. The episode's combination is stored in the `variant` column of the
episodes table; `episode_variants` reads it back as factor -> level per episode.

"all" is every factor the env supports except `EVALUATION_ONLY`: `language` (its only level,
"heldout", is the set of paraphrases kept out of training so that `language:heldout` measures
generalisation; training on it would void that measurement). Naming it explicitly is refused for
the same reason.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from librobot_gym.envs.variants import DEFAULT, Combination, parse_combination
from librobot_gym.errors import ConfigError

ALL = "all"
EVALUATION_ONLY = {"language": "its held-out paraphrases are what language:heldout evaluates; "
                               "training on them voids that score"}
STREAM = zlib.crc32(b"randomize")


@dataclass(frozen=True)
class Randomizer:
    """factor -> the levels an episode may draw for it ("default" first), for one env."""

    choices: dict[str, tuple[str, ...]]

    @property
    def spec(self) -> str:
        """The canonical factor list ("camera,lighting"): what a dataset's identity records."""
        return ",".join(self.choices)

    def draw(self, seed: int) -> Combination:
        """The combination episode `seed` runs under (the same for the same seed)."""
        rng = np.random.default_rng([int(seed) & (2**63 - 1), STREAM])
        picked = [f"{factor}:{levels[int(rng.integers(len(levels)))]}"
                  for factor, levels in self.choices.items()]
        return parse_combination([p for p in picked if not p.endswith(f":{DEFAULT}")])


def randomizer(env_id: str, factors: str | Sequence[str]) -> Randomizer:
    """A `Randomizer` for `env_id` from "FACTOR,FACTOR" (or a list, or "all"); ConfigError when a
    factor is unknown, unsupported by the env, or evaluation-only."""
    from librobot_gym.envs.variants import FACTORS, supported_variants

    names = [n.strip().lower() for n in (factors.split(",") if isinstance(factors, str)
                                          else factors) if n.strip()]
    if not names:
        raise ConfigError("--randomize needs factors: FACTOR[,FACTOR...] or 'all' (factors: "
                          f"{', '.join(FACTORS.names())})")
    supported: dict[str, list[str]] = {}
    for variant in supported_variants(env_id)[1:]:
        factor, _, level = variant.partition(":")
        supported.setdefault(factor, []).append(level)
    if ALL in names:
        names = [n for n in supported if n not in EVALUATION_ONLY]
    choices: dict[str, tuple[str, ...]] = {}
    for name in sorted(dict.fromkeys(names)):
        if ":" in name:
            raise ConfigError(f"--randomize {name!r}: name factors only (e.g. 'lighting'); each "
                              f"episode draws one of the factor's levels")
        if name in EVALUATION_ONLY:
            raise ConfigError(f"--randomize {name!r} is refused: {EVALUATION_ONLY[name]}")
        if name not in FACTORS.names():
            raise ConfigError(f"--randomize: unknown factor {name!r} (factors: "
                              f"{', '.join(FACTORS.names())})")
        if name not in supported:
            raise ConfigError(f"--randomize: {env_id} does not support factor {name!r} (it "
                              f"supports: {', '.join(supported)})")
        choices[name] = (DEFAULT, *supported[name])
    return Randomizer(choices)


def episode_variants(dataset) -> dict[int, dict[str, str]]:
    """episode index -> {factor: level} of a dataset recorded with --randomize (a
    `LeRobotDataset` or its folder); an episode without randomisation maps to {}."""
    if isinstance(dataset, (str, Path)):
        from librobot_gym.training.data.lerobot import LeRobotDataset

        dataset = LeRobotDataset(dataset, cache_mb=0)
    rows = dataset.episodes
    if "variant" not in rows:
        return {int(i): {} for i in rows["episode_index"]}
    return {int(i): parse_combination(v if isinstance(v, str) else DEFAULT).levels
            for i, v in zip(rows["episode_index"], rows["variant"], strict=True)}


def successful_episodes(root: str | Path) -> list[int]:
    """The indices of a dataset's successful episodes (`successful_only` in a training config:
    the expert fails a few randomised episodes, e.g. a heavy cup on low friction, and a failed
    demonstration would teach the failure); DatasetError when there are none."""
    from librobot_gym.training.data.base import DatasetError
    from librobot_gym.training.data.lerobot import LeRobotDataset

    table = LeRobotDataset(root, cache_mb=0).episodes
    keep = [int(i) for i, ok in zip(table["episode_index"], table["success"], strict=True) if ok]
    if not keep:
        raise DatasetError(f"{root}: none of its {len(table)} episodes succeeded; nothing to "
                           f"imitate (set successful_only: false to train on them anyway)")
    return keep
