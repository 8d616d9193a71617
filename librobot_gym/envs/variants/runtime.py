"""The env's side of variants: which variant an episode runs under, its RNG stream, the hooks
`RobotEnv.reset` calls around the task's draw, and per-step observation noise."""

from __future__ import annotations

from typing import Any

from librobot_gym.envs.variants.context import ModelEdits, VariantContext, variant_rng
from librobot_gym.envs.variants.factor import Variant, check_supported, parse_variant
from librobot_gym.errors import ConfigError


class VariantRuntime:
    """Owned by a `RobotEnv`: `begin` (before the task draws), `drawn` (after), `apply`
    (before the simulator resets), `observe` (every observation, a no-op unless the variant
    is a noise factor). Default episodes touch nothing: no RNG draws, no model edits."""

    def __init__(self, env_label: str, task: Any, robot: Any, sim: Any, obs_mode: str,
                 real: bool, variant: str | Variant | None):
        self.env_label, self.task, self.robot, self.sim = env_label, task, robot, sim
        self.obs_mode, self.real = obs_mode, real
        self.edits = None if real else ModelEdits(sim.model)
        self.default = self.check(variant)
        self.current = Variant()
        self.ctx: VariantContext | None = None
        self._rng_key: tuple[int, str] | None = None
        self._rng = None
        self.per_step = False

    def check(self, variant: Any) -> Variant:
        """The parsed variant, or ConfigError when it is unknown or this task lacks it."""
        parsed = parse_variant(variant)
        check_supported(parsed, self.task, self.env_label, self.real)
        return parsed

    def begin(self, options: dict | None, seed: int | None, env_seed: int | None) -> Variant:
        """Start an episode: choose its variant (`options["variant"]` over the make-time
        one), put the model back to its defaults, and run the factor's `prepare`."""
        if options and "variant" in options:
            variant = self.check(options["variant"])
        else:
            variant = self.default
        if self.edits is not None and self.edits.touched():
            self.edits.restore()
        self.current, self.ctx = variant, None
        self.per_step = False
        factor = variant.component()
        if factor is None:
            return variant
        self.ctx = VariantContext(self.task, self.robot, self.sim, self._stream(variant, seed,
                                  env_seed), self.obs_mode, self.edits)
        self.per_step = factor.per_step
        factor.prepare(self.ctx, variant.params)
        return variant

    def _stream(self, variant: Variant, seed: int | None, env_seed: int | None):
        """A fresh stream from (seed, variant) when seeded; unseeded resets continue it (as
        gymnasium's own stream continues)."""
        if seed is not None or self._rng is None or self._rng_key[1] != variant.name:
            base = seed if seed is not None else (env_seed or 0)
            self._rng, self._rng_key = variant_rng(base, variant.name), (base, variant.name)
        return self._rng

    def drawn(self) -> None:
        factor = self.current.component()
        if factor is not None and self.ctx is not None:
            factor.finish(self.ctx, self.current.params)

    def apply(self, task_reset: Any, arm_qpos: Any) -> None:
        factor = self.current.component()
        if factor is None:
            return
        self.ctx.task_reset, self.ctx.arm_qpos = task_reset, arm_qpos
        if factor.sim_only and self.real:  # begin checked it; a plugin may misdeclare
            raise ConfigError(f"variant {self.current.name!r} needs a simulator")
        factor.apply(self.ctx, self.current.params)
        if self.edits is not None:
            self.edits.bump()

    def observe(self, obs: Any) -> Any:
        if not self.per_step:
            return obs
        return self.current.component().observe(obs, self.ctx, self.current.params)
