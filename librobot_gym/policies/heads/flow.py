"""The `flow` action head: flow matching (rectified flow) from Gaussian noise to action chunks.

pi0 style (Black et al. 2024; Lipman et al. 2023, Liu et al. 2023): along the straight path
x_t = (1 - t) * noise + t * action, t in [0, 1] (t = 0 is noise, t = 1 the action), the velocity
is constant, action - noise; a network regresses it. Sampling integrates dx/dt = v(x, t) from
noise at t = 0 to t = 1 with a few Euler or midpoint steps. Like diffusion it is multi-modal,
with a simpler objective and fewer steps needed (straight paths integrate well).
"""

from __future__ import annotations

import torch
from torch import nn

from librobot_gym.policies.heads.common import (
    ChunkDenoiser,
    ChunkHead,
    check_choice,
    check_positive,
    draw_noise,
    pool_tokens,
)
from librobot_gym.policies.vla.fastpath import fast_path, small_tensor_ops
from librobot_gym.policies.vla.interfaces import ActionHead
from librobot_gym.policies.vla.registry import register_action_head

SAMPLERS = ("euler", "midpoint")
TIME_DISTRIBUTIONS = ("uniform", "beta")


@register_action_head(name="flow", aliases=["flow_matching", "flow-matching", "rectified-flow"])
class FlowMatchingHead(ChunkHead, ActionHead):
    """A ChunkDenoiser trained to predict the velocity action - noise at a random time t.

    Settings: `sampler` ("euler" default, one network call per step; "midpoint", two calls per
    step, second-order accurate) and `num_steps` (10) of size 1/num_steps. `time_distribution`:
    "uniform" (default) draws t ~ U(0, 1), weighting all noise levels equally, which is the
    standard rectified-flow choice and needs no tuning; "beta" follows pi0, t = 1 - 0.999 * s with
    s ~ Beta(1.5, 1), putting more training on the noisy end (small t), where the velocity
    depends most on the conditioning. `num_layers` (3) residual blocks of width `hidden_dim`;
    `pooling` of the tokens ("mean" or "max").
    """

    def __init__(self, input_dim: int, action_dim: int, chunk_size: int = 1,
                 hidden_dim: int = 256, sampler: str = "euler", num_steps: int = 10,
                 time_distribution: str = "uniform", num_layers: int = 3,
                 pooling: str = "mean"):
        super().__init__(input_dim, action_dim, chunk_size)
        check_positive(hidden_dim=hidden_dim, num_steps=num_steps, num_layers=num_layers)
        check_choice("sampler", sampler, SAMPLERS)
        check_choice("time_distribution", time_distribution, TIME_DISTRIBUTIONS)
        check_choice("pooling", pooling, ("mean", "max"))
        self.config = dict(input_dim=input_dim, action_dim=action_dim, chunk_size=chunk_size,
                           hidden_dim=hidden_dim, sampler=sampler, num_steps=num_steps,
                           time_distribution=time_distribution, num_layers=num_layers,
                           pooling=pooling)
        self.sampler = sampler
        self.num_steps = num_steps
        self.time_distribution = time_distribution
        self.pooling = pooling
        # Times in [0, 1] are scaled by 1000 so they span the embedding's frequencies.
        self.velocity = ChunkDenoiser(chunk_size, action_dim, input_dim, hidden_dim, num_layers,
                                      time_scale=1000.0)

    def _condition(self, features: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        self.check_features(features, mask)
        return pool_tokens(features, mask, self.pooling)

    def _sample_time(self, batch: int, device: torch.device) -> torch.Tensor:
        if self.time_distribution == "uniform":
            return torch.rand(batch, device=device)
        beta = torch.distributions.Beta(torch.tensor(1.5, device=device),
                                        torch.tensor(1.0, device=device))
        return 1 - 0.999 * beta.sample((batch,))

    def forward(self, features: torch.Tensor, actions: torch.Tensor,
                mask: torch.Tensor | None = None) -> torch.Tensor:
        """Flow-matching loss: MSE between predicted and true velocity (action - noise)."""
        self.check_actions(features, actions)
        cond = self._condition(features, mask)
        noise = torch.randn_like(actions)
        t = self._sample_time(actions.shape[0], actions.device)
        t_ = t.view(-1, 1, 1)
        x_t = (1 - t_) * noise + t_ * actions
        return nn.functional.mse_loss(self.velocity(x_t, t, cond), actions - noise)

    def predict(self, features: torch.Tensor, mask: torch.Tensor | None = None,
                generator: torch.Generator | None = None, sampler: str | None = None,
                num_steps: int | None = None) -> torch.Tensor:
        """Integrate the velocity from noise (drawn with `generator`, global RNG if None) to t=1.

        `sampler` and `num_steps` override the configured ones for this call. The result is a
        deterministic function of the initial noise, so a seeded generator reproduces it.
        """
        cond = self._condition(features, mask)
        sampler = sampler or self.sampler
        steps = num_steps or self.num_steps
        check_choice("sampler", sampler, SAMPLERS)
        check_positive(num_steps=steps)
        batch = features.shape[0]
        shape = (batch, self.chunk_size, self.action_dim)
        x = draw_noise(shape, generator, features.device, features.dtype)
        dt = 1.0 / steps
        if fast_path() and ChunkDenoiser.is_plain(self.velocity):
            with small_tensor_ops():
                return self._integrate_fast(x, cond, sampler, steps)
        for i in range(steps):
            t = torch.full((batch,), i * dt, device=x.device)
            v = self.velocity(x, t, cond)
            if sampler == "midpoint":
                v = self.velocity(x + 0.5 * dt * v, t + 0.5 * dt, cond)
            x = x + dt * v
        return x

    def _integrate_fast(self, x: torch.Tensor, cond: torch.Tensor, sampler: str,
                        steps: int) -> torch.Tensor:
        """`predict`'s integration with the conditioning of every evaluation time computed in
        one batched pass (`ChunkDenoiser.conditioning`) and functional per-step calls."""
        dt = 1.0 / steps
        midpoint = sampler == "midpoint"
        times = [time for i in range(steps)
                 for time in ((i * dt, i * dt + 0.5 * dt) if midpoint else (i * dt,))]
        schedule = self.velocity.schedule(torch.tensor(times, device=x.device), cond)
        per_step = 2 if midpoint else 1
        for i in range(steps):
            v = self.velocity.step(x, *schedule[per_step * i])
            if midpoint:
                v = self.velocity.step(x + 0.5 * dt * v, *schedule[per_step * i + 1])
            x = torch.add(x, v, alpha=dt)
        return x
