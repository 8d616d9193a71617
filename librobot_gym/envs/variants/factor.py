"""What a variant is: a `Factor` (one thing that can change between a policy's training and its
test: the lighting, the table, the camera pose...) with named levels, and a `Variant`, one
factor at one level ("lighting:dark"), or "default" (nothing changed).

Factors register in `FACTORS` (the project's registry pattern); tasks declare which they
support (`Task.variant_factors`), so `supported_variants(env_id)` answers without building an
env. A factor acts at reset (`prepare` before the task draws its episode, `apply` after, on the
drawn episode and the simulator's model) and, only the two noise factors, on every observation
(`observe`). Its randomness comes from the variant's own RNG stream, derived from (seed,
variant), so a seed's default episode does not depend on variants existing.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from librobot_gym.errors import ConfigError
from librobot_gym.registry import Registry

if TYPE_CHECKING:
    from librobot_gym.envs.variants.context import VariantContext

DEFAULT = "default"
BUILTIN_FACTORS = (
    "librobot_gym.envs.variants.lighting",
    "librobot_gym.envs.variants.scenery",
    "librobot_gym.envs.variants.camera",
    "librobot_gym.envs.variants.objects",
    "librobot_gym.envs.variants.distractors",
    "librobot_gym.envs.variants.robot",
    "librobot_gym.envs.variants.language",
    "librobot_gym.envs.variants.noise",
)
FACTORS = Registry("variant factor", builtins=BUILTIN_FACTORS)


class Factor:
    """One factor of variation. Subclasses set `name`, `summary`, `levels` (level name ->
    parameters, in the order listings show them) and override the hooks they need.

    `sim_only`: the factor changes the simulated world (a real cell cannot be relit by
    software), so `-Real-` ids do not offer it. `per_step`: it acts on every observation
    (image and state noise); every other factor costs nothing after reset. `visual`: it
    changes what the cameras see (the variants grid shows one tile per level). `order`: where
    it applies when several factors combine in one episode (lower first, then by name)."""

    name: str = ""
    summary: str = ""
    levels: dict[str, dict[str, Any]] = {}
    sim_only: bool = True
    per_step: bool = False
    visual: bool = True
    order: int = 0

    def supports(self, task: Any, level: str) -> bool:
        """Whether this task (class or instance) can show `level`; the task's declaration
        (`variant_factors`) is the usual answer, this a further check a factor may add."""
        return True

    def prepare(self, ctx: VariantContext, params: dict[str, Any]) -> None:
        """Before the task draws its episode (e.g. switch the instruction set); undo it in
        `finish`."""

    def finish(self, ctx: VariantContext, params: dict[str, Any]) -> None:
        """After the task drew its episode: undo what `prepare` changed on the task."""

    def apply(self, ctx: VariantContext, params: dict[str, Any]) -> None:
        """After the draw, before the simulator resets: change the episode (`ctx.task_reset`,
        `ctx.arm_qpos`) and the model (`ctx.model`). The model is restored to its defaults
        before every reset, so a change never leaks into the next episode."""

    def observe(self, obs: Any, ctx: VariantContext, params: dict[str, Any]) -> Any:
        """Per-step factors only: the observation as the policy receives it."""
        return obs


def register_factor(factor: Factor) -> Factor:
    """Add a factor instance to `FACTORS` (plugins may add their own)."""
    if not factor.name or ":" in factor.name or not factor.levels:
        raise ConfigError(f"factor {factor.name!r}: a name without ':' and at least one "
                          f"level are needed")
    for level in factor.levels:
        if ":" in level or level == DEFAULT:
            raise ConfigError(f"factor {factor.name!r}: level {level!r} may not contain ':' "
                              f"or be 'default'")
    return FACTORS.add(factor.name, factor)


def factors() -> list[Factor]:
    return [FACTORS.get(name) for name in FACTORS.names()]


@dataclass(frozen=True)
class Variant:
    """One factor at one level, or the default (factor None): what an episode is run under."""

    factor: str | None = None
    level: str | None = None
    params: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def name(self) -> str:
        return DEFAULT if self.factor is None else f"{self.factor}:{self.level}"

    @property
    def is_default(self) -> bool:
        return self.factor is None

    def component(self) -> Factor | None:
        return None if self.factor is None else FACTORS.get(self.factor)

    def __str__(self) -> str:
        return self.name


def known_variants() -> list[str]:
    """Every variant name there is, canonical ("lighting:dark"), "default" first."""
    return [DEFAULT] + [f"{f.name}:{level}" for f in factors() for level in f.levels]


def parse_variant(name: str | Variant | None) -> Variant:
    """A `Variant` from "default", "FACTOR:LEVEL" or its underscore alias "FACTOR_LEVEL"
    (as suite cards write them: "lighting_dark", "camera_shift_1"); ConfigError naming the
    problem, the close matches and what is known."""
    if isinstance(name, Variant):
        return name
    if name is None or name == DEFAULT:
        return Variant()
    if not isinstance(name, str):
        raise ConfigError(f"variant {name!r} must be a string such as 'lighting:dark' or "
                          f"'default'")
    text = name.strip().lower()
    names = FACTORS.names()
    if ":" in text:
        factor, _, level = text.partition(":")
    else:  # the alias: the longest factor name followed by "_" ("object_size_large")
        prefixes = [n for n in names if text.startswith(n + "_")]
        factor = max(prefixes, key=len) if prefixes else text.partition("_")[0]
        level = text[len(factor) + 1:]
    if factor not in names:
        close = difflib.get_close_matches(text, known_variants(), n=2, cutoff=0.6)
        hint = f"; did you mean {' or '.join(close)}?" if close else ""
        raise ConfigError(f"unknown variant {name!r}{hint} (write FACTOR:LEVEL; factors: "
                          f"{', '.join(names)})")
    component = FACTORS.get(factor)
    if level not in component.levels:
        close = difflib.get_close_matches(level, list(component.levels), n=1, cutoff=0.5)
        hint = f"; did you mean {factor}:{close[0]}?" if close else ""
        raise ConfigError(f"variant {name!r}: factor {factor!r} has no level {level!r}{hint} "
                          f"(its levels: {', '.join(component.levels)})")
    return Variant(factor, level, dict(component.levels[level]))


def declared_variants(task: Any, real: bool = False) -> list[str]:
    """The canonical variant names a task (class or instance) declares in
    `variant_factors` ("lighting": every level, "table:dark": one), "default" first; on a
    real cell (`real`), only the factors that do not need a simulator."""
    out = [DEFAULT]
    for entry in getattr(task, "variant_factors", ()):
        factor, _, level = entry.partition(":")
        component = FACTORS.get(factor)
        if real and component.sim_only:
            continue
        for name in ([level] if level else list(component.levels)):
            if name not in component.levels:
                raise ConfigError(f"task {getattr(task, 'name', task)!r} declares variant "
                                  f"{entry!r}; {factor!r} has levels "
                                  f"{', '.join(component.levels)}")
            canonical = f"{factor}:{name}"
            if canonical not in out and component.supports(task, name):
                out.append(canonical)
    return out


def supported_variants(env_id: str) -> list[str]:
    """The variants a registered env id supports, canonical, "default" first."""
    from librobot_gym.envs.registration import env_entry
    from librobot_gym.envs.tasks import get_task

    entry = env_entry(env_id)
    return declared_variants(get_task(entry.task), real=entry.real)


def check_supported(variant: Variant, task: Any, env_label: str, real: bool = False) -> None:
    """ConfigError unless `task` supports `variant` (one line: what, and which it supports)."""
    if variant.is_default:
        return
    supported = declared_variants(task, real)
    if variant.name not in supported:
        same = [v for v in supported if v.startswith(f"{variant.factor}:")]
        offer = ", ".join(same) if same else ", ".join(supported)
        where = "on a real cell " if real and variant.component().sim_only else ""
        raise ConfigError(f"{env_label} does not support variant {variant.name!r} {where}"
                          f"(it supports: {offer})")
