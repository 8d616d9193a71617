"""Pieces the action heads share: input checks, token pooling, MLPs, a timestep embedding and the
chunk denoiser that the diffusion and flow heads both train.

Every head maps conditioning tokens `features` [B, T, D] (T >= 1, optionally with a `mask`
[B, T], True where a token is real) to an action chunk [B, C, A] in normalised units.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from librobot_gym.errors import ConfigError
from librobot_gym.policies.vla.fastpath import WeightCache


def check_positive(**values: int) -> None:
    """Raise ConfigError naming the first setting that is not a positive integer."""
    for name, value in values.items():
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ConfigError(f"{name}={value!r} must be a positive integer")


def check_choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    """Raise ConfigError when a string setting is not one of `choices`."""
    if value not in choices:
        raise ConfigError(f"{name}={value!r} is not one of {choices}")


def draw_noise(shape: tuple[int, ...], generator, device, dtype) -> torch.Tensor:
    """Gaussian noise of `shape` [B, ...] from `generator`: one torch.Generator for the whole
    batch (None: the global RNG), or a sequence of B generators, one per row, each drawing its
    row exactly as it would draw a batch of one (batched evaluation: every env's episode
    keeps the noise it has when it runs alone)."""
    if isinstance(generator, list | tuple):
        if len(generator) != shape[0]:
            raise ConfigError(f"{len(generator)} generators for a batch of {shape[0]}")
        return torch.cat([torch.randn((1, *shape[1:]), generator=g, device=device, dtype=dtype)
                          for g in generator])
    return torch.randn(shape, generator=generator, device=device, dtype=dtype)


class ChunkHead(nn.Module):
    """Base of the built-in heads: keeps the dimensions and checks the tensors they are given.

    Subclasses call `super().__init__(input_dim, action_dim, chunk_size)` and then set
    `self.config`, the JSON-serialisable constructor kwargs a checkpoint rebuilds the head from.
    """

    def __init__(self, input_dim: int, action_dim: int, chunk_size: int):
        super().__init__()
        check_positive(input_dim=input_dim, action_dim=action_dim, chunk_size=chunk_size)
        self.input_dim = input_dim
        self.action_dim = action_dim
        self.chunk_size = chunk_size

    def get_action_dim(self) -> int:
        return self.action_dim

    def check_features(self, features: torch.Tensor, mask: torch.Tensor | None) -> None:
        """`features` must be [B, T, D] with D = input_dim; `mask`, if given, [B, T]."""
        if features.dim() != 3 or features.shape[-1] != self.input_dim:
            raise ConfigError(f"{type(self).__name__} expects features [B, T, {self.input_dim}], "
                              f"got {tuple(features.shape)}")
        if mask is not None and mask.shape != features.shape[:2]:
            raise ConfigError(f"mask must be [B, T] = {tuple(features.shape[:2])}, "
                              f"got {tuple(mask.shape)}")

    def check_actions(self, features: torch.Tensor, actions: torch.Tensor) -> None:
        """`actions` must be [B, chunk_size, action_dim] with the features' batch size."""
        expected = (features.shape[0], self.chunk_size, self.action_dim)
        if tuple(actions.shape) != expected:
            raise ConfigError(f"{type(self).__name__} expects actions [B, C, A] = {expected}, "
                              f"got {tuple(actions.shape)}")


def pool_tokens(features: torch.Tensor, mask: torch.Tensor | None = None,
                mode: str = "mean") -> torch.Tensor:
    """[B, T, D] -> [B, D]: the mean (or max) over the real tokens (all of them without a mask).

    A row whose mask is all False pools to zeros rather than NaN.
    """
    if mask is None:
        return features.mean(dim=1) if mode == "mean" else features.amax(dim=1)
    keep = mask.to(torch.bool).unsqueeze(-1)
    if mode == "mean":
        total = (features * keep).sum(dim=1)
        return total / keep.sum(dim=1).clamp(min=1)
    pooled = features.masked_fill(~keep, float("-inf")).amax(dim=1)
    return torch.where(keep.any(dim=1), pooled, torch.zeros_like(pooled))


def mlp(input_dim: int, hidden_dim: int, output_dim: int, num_layers: int = 2,
        activation: type[nn.Module] = nn.GELU) -> nn.Sequential:
    """`num_layers` hidden Linear + activation layers, then a Linear to `output_dim`."""
    layers: list[nn.Module] = []
    width = input_dim
    for _ in range(num_layers):
        layers += [nn.Linear(width, hidden_dim), activation()]
        width = hidden_dim
    layers.append(nn.Linear(width, output_dim))
    return nn.Sequential(*layers)


class SinusoidalEmbedding(nn.Module):
    """A scalar per batch element (a diffusion step or a flow time) -> [B, dim] sin/cos features.

    The transformer positional encoding applied to `scale * t`, with periods from 2*pi up to
    `max_period`: DDPM step indices (0..T-1) use scale 1, flow times in [0, 1] use scale 1000 so
    both spread over the same frequencies. A small MLP follows so the head learns its own use.
    """

    def __init__(self, dim: int, scale: float = 1.0, max_period: float = 10_000.0):
        super().__init__()
        if dim < 2 or dim % 2:
            raise ConfigError(f"time embedding dim={dim} must be an even number >= 2")
        half = dim // 2
        frequencies = torch.exp(-math.log(max_period) * torch.arange(half) / half)
        self.register_buffer("frequencies", frequencies, persistent=False)
        self.scale = scale
        self.proj = nn.Sequential(nn.Linear(dim, dim), nn.GELU(), nn.Linear(dim, dim))

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        angles = self.scale * t.float().reshape(-1, 1) * self.frequencies
        return self.proj(torch.cat([angles.sin(), angles.cos()], dim=-1))


class ChunkDenoiser(nn.Module):
    """The network the diffusion and flow heads train: (noisy chunk, time, condition) -> chunk.

    It flattens the noisy chunk [B, C, A], concatenates it with the projected pooled condition and
    the time embedding, and runs a residual MLP whose blocks are modulated by the condition and
    time (FiLM: per-channel scale and shift), returning a tensor shaped like the chunk. The output
    is the noise (diffusion) or the velocity (flow), depending on what the head trains.
    """

    def __init__(self, chunk_size: int, action_dim: int, cond_dim: int, hidden_dim: int,
                 num_layers: int = 3, time_scale: float = 1.0):
        super().__init__()
        self.chunk_shape = (chunk_size, action_dim)
        flat = chunk_size * action_dim
        self.time = SinusoidalEmbedding(hidden_dim, scale=time_scale)
        self.cond = nn.Sequential(nn.LayerNorm(cond_dim), nn.Linear(cond_dim, hidden_dim))
        self.input = nn.Linear(flat, hidden_dim)
        self.blocks = nn.ModuleList(
            nn.Sequential(nn.LayerNorm(hidden_dim), nn.Linear(hidden_dim, hidden_dim), nn.GELU(),
                          nn.Linear(hidden_dim, hidden_dim))
            for _ in range(num_layers))
        # One (scale, shift) pair per block from the condition + time context.
        self.film = nn.ModuleList(nn.Linear(hidden_dim, 2 * hidden_dim) for _ in range(num_layers))
        # No LayerNorm before the output: the residual stream's scale carries the noisy input's
        # magnitude, which the noise/velocity targets depend on (normalising it slows learning).
        self.output = nn.Linear(hidden_dim, flat)
        self._times = WeightCache(size=16)  # the fast path's time embeddings per schedule

    def forward(self, noisy: torch.Tensor, t: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        """noisy [B, C, A], t [B], cond [B, cond_dim] -> [B, C, A]."""
        context = nn.functional.gelu(self.cond(cond) + self.time(t))
        h = self.input(noisy.flatten(1)) + context
        for block, film in zip(self.blocks, self.film, strict=True):
            scale, shift = film(context).chunk(2, dim=-1)
            h = h + block(h) * (1 + scale) + shift
        return self.output(h).view(-1, *self.chunk_shape)

    # --- the inference fast path (see policies/vla/fastpath.py) ------------------------------
    @staticmethod
    def is_plain(module: nn.Module) -> bool:
        """Whether `module` computes ChunkDenoiser's own forward (the fast path reproduces
        that one; a replaced or subclassed network keeps the plain sampling loop)."""
        return type(module).forward is ChunkDenoiser.forward

    def conditioning(self, t: torch.Tensor, cond: torch.Tensor
                     ) -> tuple[torch.Tensor, list[tuple[torch.Tensor, torch.Tensor]]]:
        """What `forward` derives from (t, cond) alone, for all S sampling times at once.

        t [S] (one time per sampling step, shared by the batch), cond [B, cond_dim] -> the
        context [S, B, H] and per block (1 + scale, shift) [S, B, H]: one matmul per layer
        for the whole schedule instead of one per step. The time embeddings of a schedule
        depend on the weights alone and are cached.
        """
        key = (tuple(t.tolist()), t.device, cond.dtype)
        time = self._times.get(key, list(self.time.parameters()), lambda: self.time(t))
        context = F.gelu(self.cond(cond).unsqueeze(0) + time.unsqueeze(1))
        films = []
        for film in self.film:
            scale, shift = film(context).chunk(2, dim=-1)
            films.append((1 + scale, shift))
        return context, films

    def schedule(self, t: torch.Tensor, cond: torch.Tensor) -> list[tuple]:
        """`conditioning` split per sampling step: S tuples (context, films) for `step`."""
        context, films = self.conditioning(t, cond)
        per_block = [list(zip(scale.unbind(0), shift.unbind(0), strict=True))
                     for scale, shift in films]
        return list(zip(context.unbind(0), zip(*per_block, strict=True), strict=True))

    def step(self, noisy: torch.Tensor, context: torch.Tensor,
             films: list[tuple[torch.Tensor, torch.Tensor]]) -> torch.Tensor:
        """`forward` at one sampling step given that step's slice of `conditioning` (context
        [B, H], films [(1 + scale, shift) [B, H]]), with functional calls for less overhead."""
        h = F.linear(noisy.flatten(1), self.input.weight, self.input.bias) + context
        for block, (scale, shift) in zip(self.blocks, films, strict=True):
            norm, first, _, second = block
            y = F.layer_norm(h, norm.normalized_shape, norm.weight, norm.bias, norm.eps)
            y = F.linear(F.gelu(F.linear(y, first.weight, first.bias)), second.weight,
                         second.bias)
            h = torch.addcmul(h, y, scale).add_(shift)
        return F.linear(h, self.output.weight, self.output.bias).view(-1, *self.chunk_shape)
