"""The env's side of variants: which variant an episode runs under, its RNG stream, the hooks
`RobotEnv.reset` calls around the task's draw, and per-step observation noise."""

from __future__ import annotations

from typing import Any

from librobot_gym.envs.variants.combination import Combination, parse_combination
from librobot_gym.envs.variants.context import ModelEdits, VariantContext, variant_rng
from librobot_gym.envs.variants.factor import Variant, check_supported
from librobot_gym.errors import ConfigError


class VariantRuntime:
    """Owned by a `RobotEnv`: `begin` (before the task draws), `drawn` (after), `apply`
    (before the simulator resets), `observe` (every observation, a no-op unless the variant
    has a noise factor). Default episodes touch nothing: no RNG draws, no model edits. A
    combination ("lighting:dark+camera:shift_1") runs each part's hooks in turn, each with its
    own context and stream (`combination`)."""

    def __init__(self, env_label: str, task: Any, robot: Any, sim: Any, obs_mode: str,
                 real: bool, variant: str | Variant | None):
        self.env_label, self.task, self.robot, self.sim = env_label, task, robot, sim
        self.obs_mode, self.real = obs_mode, real
        self.edits = None if real else ModelEdits(sim.model)
        self.default = self.check(variant)
        self.current = Combination()
        self.contexts: list[tuple[Variant, VariantContext]] = []
        self._rngs: dict[str, Any] = {}  # part name -> its stream (continued when unseeded)
        self.per_step = False

    @property
    def ctx(self) -> VariantContext | None:
        """The first part's context (the only one unless the variant is a combination)."""
        return self.contexts[0][1] if self.contexts else None

    def check(self, variant: Any) -> Combination:
        """The parsed variant (or combination), or ConfigError when a part is unknown or this
        task lacks it."""
        parsed = parse_combination(variant)
        for part in parsed.parts:
            check_supported(part, self.task, self.env_label, self.real)
        return parsed

    def begin(self, options: dict | None, seed: int | None, env_seed: int | None
              ) -> Combination:
        """Start an episode: choose its variant (`options["variant"]` over the make-time
        one), put the model back to its defaults, and run each factor's `prepare`."""
        if options and "variant" in options:
            variant = self.check(options["variant"])
        else:
            variant = self.default
        if self.edits is not None and self.edits.touched():
            self.edits.restore()
        if seed is not None:  # a seeded reset starts every stream afresh
            self._rngs.clear()
        self.current, self.contexts = variant, []
        self.per_step = any(part.component().per_step for part in variant.parts)
        for part in variant.parts:
            ctx = VariantContext(self.task, self.robot, self.sim,
                                 self._stream(part, seed, env_seed), self.obs_mode, self.edits)
            self.contexts.append((part, ctx))
            part.component().prepare(ctx, part.params)
        return variant

    def _stream(self, variant: Variant, seed: int | None, env_seed: int | None):
        """A fresh stream from (seed, variant) when seeded; unseeded resets continue it (as
        gymnasium's own stream continues)."""
        if variant.name not in self._rngs:
            base = seed if seed is not None else (env_seed or 0)
            self._rngs[variant.name] = variant_rng(base, variant.name)
        return self._rngs[variant.name]

    def drawn(self) -> None:
        for part, ctx in reversed(self.contexts):  # undo in the reverse order of `prepare`
            part.component().finish(ctx, part.params)

    def apply(self, task_reset: Any, arm_qpos: Any) -> None:
        if not self.contexts:
            if self.edits is not None:  # a default episode after one that changed masses
                self.edits.settle(self.sim.data)
            return
        for part, ctx in self.contexts:
            ctx.task_reset, ctx.arm_qpos = task_reset, arm_qpos
            factor = part.component()
            if factor.sim_only and self.real:  # begin checked it; a plugin may misdeclare
                raise ConfigError(f"variant {part.name!r} needs a simulator")
            factor.apply(ctx, part.params)
        if self.edits is not None:
            self.edits.bump()
            self.edits.settle(self.sim.data)

    def observe(self, obs: Any) -> Any:
        if not self.per_step:
            return obs
        for part, ctx in self.contexts:
            factor = part.component()
            if factor.per_step:
                obs = factor.observe(obs, ctx, part.params)
        return obs
