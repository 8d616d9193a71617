"""Pieces the VLA frameworks share: building the VLM and the head from a spec, a proprio encoder,
a flow-time embedding, transformer stacks, flow-matching helpers and the `FrameworkBase` class.

Every framework turns the VLM's tokens [B, T, D] into `hidden_dim`-wide tokens with one LayerNorm
+ Linear, encodes the proprio vector [B, P] into one "state" token, and then fuses them its own
way (see each module). Masks follow the VLM's convention, True where a token is real; torch's
attention wants the opposite (`key_padding_mask` True = ignore), so callers pass `~mask`.
"""

from __future__ import annotations

import functools
import inspect
import math
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from librobot_gym.errors import ConfigError
from librobot_gym.policies.heads.common import (  # noqa: F401 (check_* re-exported)
    check_choice,
    check_positive,
    draw_noise,
)
from librobot_gym.policies.vla.interfaces import ActionHead, VLAFramework, VLMBackbone, VLMOutput
from librobot_gym.policies.vla.registry import create_action_head, create_vlm

VLMSpec = VLMBackbone | str | dict
HeadSpec = str | dict | None
TIME_DISTRIBUTIONS = ("uniform", "beta")


# --- building the components ------------------------------------------------------------------
def build_vlm(vlm: VLMSpec) -> VLMBackbone:
    """A VLMBackbone from an instance, a registered name, or {"name": ..., **kwargs}."""
    if isinstance(vlm, VLMBackbone):
        return vlm
    if isinstance(vlm, str):
        return create_vlm(vlm)
    if isinstance(vlm, dict) and isinstance(vlm.get("name"), str):
        settings = {k: v for k, v in vlm.items() if k != "name"}
        return create_vlm(vlm["name"], **settings)
    raise ConfigError(f"vlm must be a VLMBackbone, a registered name or a mapping with 'name'; "
                      f"got {vlm!r}")


def vlm_spec(vlm: VLMBackbone) -> dict:
    """{"name": registered name, **vlm.config}: what `build_vlm` needs to rebuild `vlm`.

    The name is the one registered for the backbone's own class (not one inherited from a
    registered parent, which would silently rebuild a different model); an unregistered class
    gets its class name, which `create_vla` then reports as unknown.
    """
    name = vars(type(vlm)).get("registry_name", type(vlm).__name__)
    return {"name": name, **dict(getattr(vlm, "config", {}))}


def head_spec(head: HeadSpec) -> dict | None:
    """Normalise a head choice to None or {"name": ..., **kwargs} (a copy)."""
    if head is None:
        return None
    if isinstance(head, str):
        return {"name": head}
    if isinstance(head, dict) and isinstance(head.get("name"), str):
        return dict(head)
    raise ConfigError(f"head must be None, a registered action-head name or a mapping with "
                      f"'name'; got {head!r}")


def build_head(spec: dict, input_dim: int, action_dim: int, chunk_size: int,
               hidden_dim: int) -> ActionHead:
    """Create the registered head `spec["name"]`; the spec's other keys override the defaults."""
    settings = {"input_dim": input_dim, "action_dim": action_dim, "chunk_size": chunk_size,
                "hidden_dim": hidden_dim}
    settings.update({k: v for k, v in spec.items() if k != "name"})
    return create_action_head(spec["name"], **settings)


def _accepts(function: Callable, name: str) -> bool:
    return _function_accepts(getattr(function, "__func__", function), name)


@functools.lru_cache(maxsize=256)
def _function_accepts(function: Callable, name: str) -> bool:
    """Whether `function` takes `name` (cached: `inspect.signature` costs ~20 us a call)."""
    parameters = inspect.signature(function).parameters.values()
    return any(p.name == name or p.kind is p.VAR_KEYWORD for p in parameters)


def head_loss(head: ActionHead, features: torch.Tensor, actions: torch.Tensor,
              mask: torch.Tensor | None) -> torch.Tensor:
    """The head's training loss; the mask is passed only to heads whose `forward` takes one
    (the interface's minimal head is `forward(features, actions)`)."""
    if mask is not None and _accepts(head.forward, "mask"):
        return head(features, actions, mask=mask)
    return head(features, actions)


def head_predict(head: ActionHead, features: torch.Tensor, mask: torch.Tensor | None,
                 generator: torch.Generator | None = None) -> torch.Tensor:
    """The head's chunk; `mask` and `generator` are passed only where `predict` takes them."""
    extras: dict[str, Any] = {}
    if mask is not None and _accepts(head.predict, "mask"):
        extras["mask"] = mask
    if generator is not None and _accepts(head.predict, "generator"):
        extras["generator"] = generator
    return head.predict(features, **extras)


def run_vlm(vlm: VLMBackbone, images: torch.Tensor, text: list[str]) -> VLMOutput:
    """The backbone's output, without building an autograd graph when it has nothing to train."""
    if not torch.is_grad_enabled():
        return vlm(images, text)
    trainable = any(p.requires_grad for p in vlm.parameters())
    with torch.set_grad_enabled(torch.is_grad_enabled() and trainable):
        return vlm(images, text)


# --- small modules ----------------------------------------------------------------------------
class ProprioEncoder(nn.Module):
    """Proprio [B, P] -> one state token [B, 1, H] through a two-layer MLP (GR00T's state encoder).

    P may be 0 (no proprioception): the token is then a learned constant.
    """

    def __init__(self, proprio_dim: int, hidden_dim: int):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(proprio_dim, hidden_dim), nn.GELU(),
                                 nn.Linear(hidden_dim, hidden_dim))

    def forward(self, proprio: torch.Tensor) -> torch.Tensor:
        return self.net(proprio).unsqueeze(1)


class TimeEmbedding(nn.Module):
    """Flow time t in [0, 1], [B] -> [B, dim]: sin/cos features of 1000 * t, then an MLP.

    Scaling by 1000 spreads [0, 1] over the periods 2*pi .. 10^4 of the transformer encoding, so
    nearby times get distinguishable features (as diffusion step indices 0..999 would).
    """

    def __init__(self, dim: int, max_period: float = 10_000.0):
        super().__init__()
        if dim % 2:
            raise ConfigError(f"hidden_dim={dim} must be even (sin/cos time features)")
        half = dim // 2
        frequencies = torch.exp(-math.log(max_period) * torch.arange(half) / half)
        self.register_buffer("frequencies", frequencies, persistent=False)
        self.mlp = nn.Sequential(nn.Linear(dim, dim), nn.SiLU(), nn.Linear(dim, dim))

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        angles = 1000.0 * t.float().reshape(-1, 1) * self.frequencies
        return self.mlp(torch.cat([angles.sin(), angles.cos()], dim=-1))


def encoder_layer(dim: int, num_heads: int) -> nn.TransformerEncoderLayer:
    """A pre-norm transformer layer (GELU, feed-forward 4 * dim, no dropout), batch first."""
    return nn.TransformerEncoderLayer(dim, num_heads, 4 * dim, dropout=0.0, activation="gelu",
                                      batch_first=True, norm_first=True)


def encoder_stack(dim: int, num_layers: int, num_heads: int) -> nn.TransformerEncoder:
    """`num_layers` pre-norm encoder layers and a final LayerNorm."""
    return nn.TransformerEncoder(encoder_layer(dim, num_heads), num_layers,
                                 norm=nn.LayerNorm(dim), enable_nested_tensor=False)


def feed_forward(dim: int) -> nn.Sequential:
    """The transformer MLP: dim -> 4 * dim -> dim with GELU."""
    return nn.Sequential(nn.Linear(dim, 4 * dim), nn.GELU(), nn.Linear(4 * dim, dim))


# --- flow matching ----------------------------------------------------------------------------
def sample_flow_time(batch: int, distribution: str, device: torch.device) -> torch.Tensor:
    """Training times t in [0, 1] (t = 0 pure noise, t = 1 the action chunk).

    "uniform": t ~ U(0, 1). "beta": pi0's schedule (Black et al. 2024, also GR00T N1's),
    t = 1 - 0.999 * s with s ~ Beta(1.5, 1): the density rises towards the noisy end (small t),
    where predicting the velocity depends most on the observation, and t never reaches exactly 1.
    """
    if distribution == "uniform":
        return torch.rand(batch, device=device)
    beta = torch.distributions.Beta(torch.tensor(1.5, device=device),
                                    torch.tensor(1.0, device=device))
    return 1 - 0.999 * beta.sample((batch,))


def flow_matching_loss(velocity: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
                       actions: torch.Tensor, distribution: str) -> torch.Tensor:
    """MSE between `velocity(x_t, t)` and action - noise on the path (1 - t) noise + t action."""
    noise = torch.randn_like(actions)
    t = sample_flow_time(actions.shape[0], distribution, actions.device)
    t_ = t.view(-1, 1, 1).to(actions.dtype)
    x_t = (1 - t_) * noise + t_ * actions
    return nn.functional.mse_loss(velocity(x_t, t), actions - noise)


def euler_sample(velocity: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
                 shape: tuple[int, ...], num_steps: int, like: torch.Tensor,
                 generator: torch.Generator | None = None) -> torch.Tensor:
    """Integrate dx/dt = velocity(x, t) from Gaussian noise at t = 0 to t = 1 in equal steps.

    The noise is drawn with `generator` (the global RNG if None; or one per row, see
    `draw_noise`) on `like`'s device and dtype.
    """
    x = draw_noise(shape, generator, like.device, like.dtype)
    dt = 1.0 / num_steps
    for i in range(num_steps):
        t = torch.full((shape[0],), i * dt, device=x.device)
        x = x + dt * velocity(x, t)
    return x


# --- the base class ---------------------------------------------------------------------------
class FrameworkBase(VLAFramework):
    """What every built-in framework does the same way: the VLM, the state token, checks, config.

    Subclasses call `super().__init__(...)` with their own settings as keyword arguments (they go
    into `self.config`, so `create_vla(name, **framework.config)` rebuilds the framework), then
    build their fusion and action model. `freeze_vlm` True/False freezes/unfreezes the backbone;
    None (default) leaves it as built (a transformers backbone is frozen, `tiny` trains).
    """

    def __init__(self, vlm: VLMSpec, action_dim: int, proprio_dim: int, chunk_size: int,
                 hidden_dim: int, head: HeadSpec, num_heads: int, freeze_vlm: bool | None,
                 **settings: Any):
        super().__init__()
        check_positive(action_dim=action_dim, chunk_size=chunk_size, hidden_dim=hidden_dim,
                       num_heads=num_heads)
        if not isinstance(proprio_dim, int) or isinstance(proprio_dim, bool) or proprio_dim < 0:
            raise ConfigError(f"proprio_dim={proprio_dim!r} must be a non-negative integer")
        if hidden_dim % num_heads:
            raise ConfigError(f"hidden_dim={hidden_dim} must be divisible by "
                              f"num_heads={num_heads}")
        self.vlm = build_vlm(vlm)
        if freeze_vlm is not None:
            self.vlm.freeze(freeze_vlm)
        self.action_dim = action_dim
        self.proprio_dim = proprio_dim
        self.chunk_size = chunk_size
        self.hidden_dim = hidden_dim
        self.head_config = head_spec(head)
        self.config: dict[str, Any] = {
            "vlm": vlm_spec(self.vlm), "action_dim": action_dim, "proprio_dim": proprio_dim,
            "chunk_size": chunk_size, "hidden_dim": hidden_dim, "head": self.head_config,
            "num_heads": num_heads, "freeze_vlm": freeze_vlm, **settings}
        embed_dim = self.vlm.get_embedding_dim()
        self.vlm_proj = nn.Sequential(nn.LayerNorm(embed_dim), nn.Linear(embed_dim, hidden_dim))
        self.state_encoder = ProprioEncoder(proprio_dim, hidden_dim)

    def build_head(self) -> ActionHead:
        """The configured registered head, reading `hidden_dim`-wide tokens."""
        assert self.head_config is not None
        return build_head(self.head_config, self.hidden_dim, self.action_dim, self.chunk_size,
                          self.hidden_dim)

    def encode_observation(self, images: torch.Tensor, text: list[str], proprio: torch.Tensor
                           ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(VLM tokens [B, T, H], their mask [B, T] bool, state token [B, 1, H])."""
        output = run_vlm(self.vlm, images, text)
        tokens = self.vlm_proj(output.tokens)
        batch = tokens.shape[0]
        if proprio.dim() != 2 or tuple(proprio.shape) != (batch, self.proprio_dim):
            raise ConfigError(f"proprio must be [B, P] = {(batch, self.proprio_dim)}, "
                              f"got {tuple(proprio.shape)}")
        state = self.state_encoder(proprio.to(tokens.device, tokens.dtype))
        return tokens, output.mask.to(torch.bool), state

    @staticmethod
    def prefix(tokens: torch.Tensor, mask: torch.Tensor, state: torch.Tensor
               ) -> tuple[torch.Tensor, torch.Tensor]:
        """VLM tokens + the state token appended: ([B, T + 1, H], mask [B, T + 1])."""
        real = torch.ones(mask.shape[0], 1, dtype=torch.bool, device=mask.device)
        return torch.cat([tokens, state], dim=1), torch.cat([mask, real], dim=1)

    def check_actions(self, actions: torch.Tensor, batch: int) -> None:
        expected = (batch, self.chunk_size, self.action_dim)
        if tuple(actions.shape) != expected:
            raise ConfigError(f"{type(self).__name__} expects actions [B, C, A] = {expected}, "
                              f"got {tuple(actions.shape)}")


class FlowMatchingFramework(FrameworkBase):
    """A framework whose own action model is flow matching (pi0's action expert, GR00T's DiT):
    the checked and stored `num_layers`, `num_steps` (Euler steps) and `time_distribution`
    ("beta", pi0's, or "uniform"), on top of `FrameworkBase`."""

    def __init__(self, vlm: VLMSpec, action_dim: int, proprio_dim: int, chunk_size: int,
                 hidden_dim: int, head: HeadSpec, num_layers: int, num_heads: int,
                 num_steps: int, time_distribution: str, freeze_vlm: bool | None):
        check_positive(num_layers=num_layers, num_steps=num_steps)
        check_choice("time_distribution", time_distribution, TIME_DISTRIBUTIONS)
        super().__init__(vlm, action_dim, proprio_dim, chunk_size, hidden_dim, head, num_heads,
                         freeze_vlm, num_layers=num_layers, num_steps=num_steps,
                         time_distribution=time_distribution)
        self.num_steps = num_steps
        self.time_distribution = time_distribution
