"""The `diffusion` action head: DDPM training with noise prediction, DDIM sampling.

Diffusion Policy style (Chi et al. 2023): a denoiser learns to predict the noise added to an
action chunk, conditioned on the pooled feature tokens and the diffusion step; at inference DDIM
walks from Gaussian noise to a chunk in a few deterministic steps. Unlike regression it can
represent multi-modal demonstrations (it samples one mode instead of averaging them).

Written out here rather than taken from `diffusers`, to keep the dependency list short and the
maths readable next to the papers: Ho et al. 2020 (DDPM), Nichol & Dhariwal 2021 (squared-cosine
schedule), Song et al. 2021 (DDIM).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from librobot_gym.errors import ConfigError
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

PREDICTION_TYPES = ("epsilon", "sample")


def squared_cosine_betas(num_timesteps: int, s: float = 0.008,
                         max_beta: float = 0.999) -> torch.Tensor:
    """Betas whose alpha_bar(t) follows cos^2(((t/T + s) / (1 + s)) * pi/2) (Nichol & Dhariwal).

    The noise level rises slowly at both ends, so fewer steps are wasted near pure noise than with
    a linear schedule. Betas are capped at `max_beta` to avoid a singular last step.
    """
    def alpha_bar(t: float) -> float:
        return math.cos((t + s) / (1 + s) * math.pi / 2) ** 2

    betas = [min(1 - alpha_bar((i + 1) / num_timesteps) / alpha_bar(i / num_timesteps), max_beta)
             for i in range(num_timesteps)]
    return torch.tensor(betas, dtype=torch.float64)


def ddim_timesteps(num_train_timesteps: int, num_inference_steps: int) -> list[int]:
    """Evenly spaced steps from the noisiest (T - 1) down to 0, e.g. T=100, n=10: 99, 88, ..., 0.

    Starting at T - 1 means sampling begins where training saw (almost) pure noise, and ending at 0
    makes the last update a full denoise.
    """
    steps = torch.linspace(num_train_timesteps - 1, 0, num_inference_steps).round().long()
    return steps.tolist()


@register_action_head(name="diffusion", aliases=["ddpm", "ddim", "diffusion-policy"])
class DiffusionHead(ChunkHead, ActionHead):
    """A ChunkDenoiser trained as in DDPM (to predict the noise) and sampled with DDIM.

    Settings: `num_train_timesteps` (100) of a squared-cosine schedule, `num_inference_steps`
    (10) DDIM steps, `eta` (0.0: deterministic given the initial noise; 1.0 is DDPM-like
    ancestral sampling), `clip_sample` (3.0, or None): the bound on each step's estimate of the
    clean chunk; at the noisiest steps that estimate divides the noise-prediction error by
    sqrt(alpha_bar) (~4e-4 at t = T - 1), and normalised actions are roughly unit scale, so a
    generous clip removes blow-ups without touching real actions. `num_layers` (3) residual blocks
    of width `hidden_dim` in the denoiser; `pooling` of the tokens ("mean" or "max").
    `prediction_type`: what the denoiser outputs, "epsilon" (default: the noise, as in DDPM and
    Diffusion Policy) or "sample" (the clean chunk). On small low-dimensional chunks "sample"
    converges far faster, because the noise target makes the clean estimate at high noise levels
    an amplified difference of two nearly equal tensors; both use the same sampler.
    """

    def __init__(self, input_dim: int, action_dim: int, chunk_size: int = 1,
                 hidden_dim: int = 256, num_train_timesteps: int = 100,
                 num_inference_steps: int = 10, eta: float = 0.0,
                 clip_sample: float | None = 3.0, num_layers: int = 3, pooling: str = "mean",
                 prediction_type: str = "epsilon"):
        super().__init__(input_dim, action_dim, chunk_size)
        check_positive(hidden_dim=hidden_dim, num_train_timesteps=num_train_timesteps,
                       num_inference_steps=num_inference_steps, num_layers=num_layers)
        check_choice("pooling", pooling, ("mean", "max"))
        check_choice("prediction_type", prediction_type, PREDICTION_TYPES)
        self._check_steps(num_inference_steps, num_train_timesteps)
        if clip_sample is not None and clip_sample <= 0:
            raise ConfigError(f"clip_sample={clip_sample} must be positive (or None: no clip)")
        if eta < 0:
            raise ConfigError(f"eta={eta} must be >= 0 (0 is deterministic DDIM)")
        self.config = dict(input_dim=input_dim, action_dim=action_dim, chunk_size=chunk_size,
                           hidden_dim=hidden_dim, num_train_timesteps=num_train_timesteps,
                           num_inference_steps=num_inference_steps, eta=eta,
                           clip_sample=clip_sample, num_layers=num_layers, pooling=pooling,
                           prediction_type=prediction_type)
        self.num_train_timesteps = num_train_timesteps
        self.num_inference_steps = num_inference_steps
        self.eta = eta
        self.clip_sample = clip_sample
        self.pooling = pooling
        self.prediction_type = prediction_type
        alphas_cumprod = torch.cumprod(1 - squared_cosine_betas(num_train_timesteps), dim=0)
        # Not persistent: the schedule is rebuilt from the config, so checkpoints stay small.
        self.register_buffer("alphas_cumprod", alphas_cumprod.float(), persistent=False)
        self.denoiser = ChunkDenoiser(chunk_size, action_dim, input_dim, hidden_dim, num_layers)

    @staticmethod
    def _check_steps(num_inference_steps: int, num_train_timesteps: int) -> None:
        if num_inference_steps > num_train_timesteps:
            raise ConfigError(f"num_inference_steps={num_inference_steps} cannot exceed "
                              f"num_train_timesteps={num_train_timesteps}")

    def _condition(self, features: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        self.check_features(features, mask)
        return pool_tokens(features, mask, self.pooling)

    def forward(self, features: torch.Tensor, actions: torch.Tensor,
                mask: torch.Tensor | None = None) -> torch.Tensor:
        """DDPM loss at a random step per sample: MSE to the noise (or the clean chunk)."""
        self.check_actions(features, actions)
        cond = self._condition(features, mask)
        batch = actions.shape[0]
        t = torch.randint(0, self.num_train_timesteps, (batch,), device=actions.device)
        noise = torch.randn_like(actions)
        alpha_bar = self.alphas_cumprod[t].view(batch, 1, 1)
        noisy = alpha_bar.sqrt() * actions + (1 - alpha_bar).sqrt() * noise
        target = noise if self.prediction_type == "epsilon" else actions
        return nn.functional.mse_loss(self.denoiser(noisy, t, cond), target)

    def predict(self, features: torch.Tensor, mask: torch.Tensor | None = None,
                generator: torch.Generator | None = None,
                num_inference_steps: int | None = None) -> torch.Tensor:
        """Sample a chunk [B, C, A] by DDIM from noise drawn with `generator` (global RNG if None).

        With eta = 0 the result is a deterministic function of the initial noise, so a seeded
        generator (on the features' device) reproduces it exactly.
        """
        cond = self._condition(features, mask)
        steps = num_inference_steps or self.num_inference_steps
        self._check_steps(steps, self.num_train_timesteps)
        batch = features.shape[0]
        shape = (batch, self.chunk_size, self.action_dim)
        x = draw_noise(shape, generator, features.device, features.dtype)
        timesteps = ddim_timesteps(self.num_train_timesteps, steps)
        if fast_path() and ChunkDenoiser.is_plain(self.denoiser):
            with small_tensor_ops():
                return self._sample_fast(x, cond, timesteps, generator)
        for i, t in enumerate(timesteps):
            alpha_bar = self.alphas_cumprod[t]
            alpha_bar_prev = (self.alphas_cumprod[timesteps[i + 1]] if i + 1 < len(timesteps)
                              else torch.ones_like(alpha_bar))
            t_batch = torch.full((batch,), t, device=features.device, dtype=torch.long)
            output = self.denoiser(x, t_batch, cond)
            if self.prediction_type == "epsilon":
                clean = (x - (1 - alpha_bar).sqrt() * output) / alpha_bar.sqrt()
            else:
                clean = output
            if self.clip_sample is not None:
                clean = clean.clamp(-self.clip_sample, self.clip_sample)
            # The noise estimate consistent with the (clipped) clean estimate.
            noise_pred = (x - alpha_bar.sqrt() * clean) / (1 - alpha_bar).sqrt()
            # DDIM update (Song et al. eq. 12); sigma = 0 when eta = 0.
            sigma = self.eta * ((1 - alpha_bar_prev) / (1 - alpha_bar)
                                * (1 - alpha_bar / alpha_bar_prev)).sqrt()
            direction = (1 - alpha_bar_prev - sigma**2).clamp(min=0).sqrt() * noise_pred
            x = alpha_bar_prev.sqrt() * clean + direction
            if self.eta > 0 and i + 1 < len(timesteps):
                x = x + sigma * draw_noise(shape, generator, x.device, x.dtype)
        return x

    def _sample_fast(self, x: torch.Tensor, cond: torch.Tensor, timesteps: list[int],
                     generator: torch.Generator | None) -> torch.Tensor:
        """The DDIM loop of `predict`, the same function with less overhead: the condition and
        time embeddings of every step in one batched pass (`ChunkDenoiser.conditioning`), the
        schedule's coefficients as Python floats, and the same noise draws in the same order."""
        schedule = self.denoiser.schedule(torch.tensor(timesteps, device=x.device), cond)
        alphas = self.alphas_cumprod[timesteps].tolist() + [1.0]
        for i, (context, films) in enumerate(schedule):
            alpha_bar, alpha_bar_prev = alphas[i], alphas[i + 1]
            output = self.denoiser.step(x, context, films)
            if self.prediction_type == "epsilon":
                clean = torch.sub(x, output, alpha=math.sqrt(1 - alpha_bar))
                clean = clean.div_(math.sqrt(alpha_bar))
            else:
                clean = output
            if self.clip_sample is not None:
                clean = clean.clamp_(-self.clip_sample, self.clip_sample)
            sigma = self.eta * math.sqrt((1 - alpha_bar_prev) / (1 - alpha_bar)
                                         * (1 - alpha_bar / alpha_bar_prev))
            direction = math.sqrt(max(1 - alpha_bar_prev - sigma**2, 0.0))
            # sqrt(alpha_bar_prev) clean + direction * noise_pred, with the noise estimate
            # noise_pred = (x - sqrt(alpha_bar) clean) / sqrt(1 - alpha_bar) expanded.
            keep = direction / math.sqrt(1 - alpha_bar)
            x = torch.add(x * keep, clean,
                          alpha=math.sqrt(alpha_bar_prev) - keep * math.sqrt(alpha_bar))
            if self.eta > 0 and i + 1 < len(timesteps):
                x = x + sigma * draw_noise(x.shape, generator, x.device, x.dtype)
        return x
