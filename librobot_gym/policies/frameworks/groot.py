"""The `groot` framework: a state token and a flow-matching diffusion transformer (GR00T N1 style).

Structure after NVIDIA's GR00T N1 (2025) "System 1": an MLP encodes the proprio vector into a
state token; the noisy action chunk becomes C action tokens (a Linear plus a learned position
per step); the sequence [state, actions] runs through DiT blocks (Peebles & Xie 2023) that
self-attend, cross-attend to the projected VLM tokens and are modulated by the flow time through
adaptive LayerNorm (adaLN-Zero: per-block scale, shift and gate from the time embedding). The
action tokens' outputs are the velocity, trained with flow matching (t ~ Beta as GR00T and pi0
do, or uniform) and integrated with `num_steps` Euler steps at inference.

With `head=` a registered action head, the DiT is not built: the VLM tokens + the state token go
through a small transformer encoder and the head reads those fused tokens (and owns the loss).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from librobot_gym.policies.frameworks.common import (
    FlowMatchingFramework,
    HeadSpec,
    TimeEmbedding,
    VLMSpec,
    draw_noise,
    encoder_stack,
    euler_sample,
    feed_forward,
    flow_matching_loss,
    head_loss,
    head_predict,
)
from librobot_gym.policies.frameworks.functional import (
    allowed_keys,
    attend,
    attention_keys,
    run_encoder,
    run_feed_forward,
    run_linear,
    run_norm,
    self_attend,
)
from librobot_gym.policies.vla.fastpath import WeightCache, fast_path, small_tensor_ops
from librobot_gym.policies.vla.registry import register_vla


def modulate(x: torch.Tensor, shift: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """adaLN: x * (1 + scale) + shift, with [B, H] scale/shift broadcast over the tokens."""
    return x * (1 + scale.unsqueeze(1)) + shift.unsqueeze(1)


class DiTBlock(nn.Module):
    """Self-attention over the action sequence, cross-attention to the VLM tokens, an MLP.

    The self-attention and MLP sub-layers are adaLN-Zero modulated by the time embedding: their
    scale/shift/gate start at zero, so each block starts as the identity plus cross-attention.
    """

    def __init__(self, dim: int, num_heads: int):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, elementwise_affine=False)
        self.self_attn = nn.MultiheadAttention(dim, num_heads, batch_first=True)
        self.norm2 = nn.LayerNorm(dim)
        self.cross_attn = nn.MultiheadAttention(dim, num_heads, batch_first=True)
        self.norm3 = nn.LayerNorm(dim, elementwise_affine=False)
        self.mlp = feed_forward(dim)
        self.ada = nn.Sequential(nn.SiLU(), nn.Linear(dim, 6 * dim))
        nn.init.zeros_(self.ada[1].weight)
        nn.init.zeros_(self.ada[1].bias)

    def forward(self, x: torch.Tensor, time: torch.Tensor, memory: torch.Tensor,
                memory_padding: torch.Tensor) -> torch.Tensor:
        """x [B, S, H], time [B, H], memory [B, T, H], memory_padding [B, T] (True = ignore)."""
        shift1, scale1, gate1, shift3, scale3, gate3 = self.ada(time).chunk(6, dim=-1)
        h = modulate(self.norm1(x), shift1, scale1)
        x = x + gate1.unsqueeze(1) * self.self_attn(h, h, h, need_weights=False)[0]
        h = self.norm2(x)
        x = x + self.cross_attn(h, memory, memory, key_padding_mask=memory_padding,
                                need_weights=False)[0]
        h = modulate(self.norm3(x), shift3, scale3)
        return x + gate3.unsqueeze(1) * self.mlp(h)

    def fast_forward(self, x: torch.Tensor, modulation: tuple[torch.Tensor, ...],
                     memory_kv: tuple[torch.Tensor, torch.Tensor],
                     allowed: torch.Tensor) -> torch.Tensor:
        """`forward` given this step's `modulation` (the six [1, 1, H] chunks of `ada(time)`,
        computed for every step at once) and the memory's cached keys/values."""
        shift1, scale1, gate1, shift3, scale3, gate3 = modulation
        h = torch.addcmul(shift1, F.layer_norm(x, self.norm1.normalized_shape,
                                               eps=self.norm1.eps), scale1)
        x = torch.addcmul(x, gate1, self_attend(self.self_attn, h))
        x = x + attend(self.cross_attn, run_norm(self.norm2, x), *memory_kv, allowed)
        h = torch.addcmul(shift3, F.layer_norm(x, self.norm3.normalized_shape,
                                               eps=self.norm3.eps), scale3)
        return torch.addcmul(x, gate3, run_feed_forward(self.mlp, h))


@register_vla(name="groot", aliases=["gr00t", "gr00t-n1"])
class GrootFramework(FlowMatchingFramework):
    """State encoder + DiT flow-matching action model over the VLM tokens (or a registered head).

    Settings: `num_layers` (2) DiT blocks (or fusion-encoder layers with `head=`), `num_heads` (4)
    attention heads, `num_steps` (10) Euler steps, `time_distribution` ("beta" or "uniform"),
    `freeze_vlm` (None: leave the backbone as built).
    """

    def __init__(self, vlm: VLMSpec, action_dim: int, proprio_dim: int, chunk_size: int = 8,
                 hidden_dim: int = 128, head: HeadSpec = None, num_layers: int = 2,
                 num_heads: int = 4, num_steps: int = 10, time_distribution: str = "beta",
                 freeze_vlm: bool | None = None):
        super().__init__(vlm, action_dim, proprio_dim, chunk_size, hidden_dim, head,
                         num_layers, num_heads, num_steps, time_distribution, freeze_vlm)
        if self.head_config is not None:
            self.fusion = encoder_stack(hidden_dim, num_layers, num_heads)
            self.head = self.build_head()
            return
        self.head = None
        self._step_cache = WeightCache(size=4)  # the fast path's per-step adaLN modulation
        self.action_in = nn.Linear(action_dim, hidden_dim)
        self.positions = nn.Parameter(0.02 * torch.randn(chunk_size, hidden_dim))
        self.time = TimeEmbedding(hidden_dim)
        self.blocks = nn.ModuleList(DiTBlock(hidden_dim, num_heads) for _ in range(num_layers))
        self.final_norm = nn.LayerNorm(hidden_dim, elementwise_affine=False)
        self.final_ada = nn.Sequential(nn.SiLU(), nn.Linear(hidden_dim, 2 * hidden_dim))
        self.action_out = nn.Linear(hidden_dim, action_dim)

    def _velocity(self, x_t: torch.Tensor, t: torch.Tensor, state: torch.Tensor,
                  memory: torch.Tensor, padding: torch.Tensor) -> torch.Tensor:
        """The DiT: ([state; noisy action tokens], time, VLM tokens) -> velocity [B, C, A]."""
        x = torch.cat([state, self.action_in(x_t) + self.positions], dim=1)
        time = self.time(t).to(x.dtype)
        for block in self.blocks:
            x = block(x, time, memory, padding)
        shift, scale = self.final_ada(time).chunk(2, dim=-1)
        return self.action_out(modulate(self.final_norm(x[:, 1:]), shift, scale))

    def _fused(self, tokens: torch.Tensor, mask: torch.Tensor, state: torch.Tensor
               ) -> tuple[torch.Tensor, torch.Tensor]:
        features, fused_mask = self.prefix(tokens, mask, state)
        if fast_path():
            with small_tensor_ops():
                return run_encoder(self.fusion.layers, features, allowed_keys(~fused_mask),
                                   self.fusion.norm), fused_mask
        return self.fusion(features, src_key_padding_mask=~fused_mask), fused_mask

    def forward(self, images: torch.Tensor, text: list[str], proprio: torch.Tensor,
                actions: torch.Tensor) -> dict[str, torch.Tensor]:
        """{"loss": flow-matching loss of the DiT (or the head's loss)}."""
        tokens, mask, state = self.encode_observation(images, text, proprio)
        self.check_actions(actions, tokens.shape[0])
        actions = actions.to(tokens.dtype)
        if self.head is not None:
            features, fused_mask = self._fused(tokens, mask, state)
            return {"loss": head_loss(self.head, features, actions, fused_mask)}

        def velocity(x_t: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
            return self._velocity(x_t, t, state, tokens, ~mask)

        return {"loss": flow_matching_loss(velocity, actions, self.time_distribution)}

    def predict_action(self, images: torch.Tensor, text: list[str], proprio: torch.Tensor,
                       generator: torch.Generator | None = None) -> torch.Tensor:
        """[B, C, A]: Euler integration of the DiT's velocity from noise (or the head's chunk)."""
        tokens, mask, state = self.encode_observation(images, text, proprio)
        if self.head is not None:
            features, fused_mask = self._fused(tokens, mask, state)
            return head_predict(self.head, features, fused_mask, generator)

        def velocity(x_t: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
            return self._velocity(x_t, t, state, tokens, ~mask)

        shape = (tokens.shape[0], self.chunk_size, self.action_dim)
        if fast_path():
            with small_tensor_ops():
                return self._sample_fast(state, tokens, ~mask, shape, generator)
        return euler_sample(velocity, shape, self.num_steps, tokens, generator)

    def _sample_fast(self, state: torch.Tensor, memory: torch.Tensor, padding: torch.Tensor,
                     shape: tuple[int, ...], generator: torch.Generator | None) -> torch.Tensor:
        """`euler_sample` of `_velocity` with the per-step work cut down: every block's
        adaLN modulation (and the final one) for all steps in one matmul each, the VLM
        tokens' cross-attention keys/values once per observation, functional calls and sdpa.
        Note (1 + scale) is folded into the modulation: x * (1 + s) + shift as addcmul."""
        x_t = draw_noise(shape, generator, memory.device, memory.dtype)
        dt = 1.0 / self.num_steps
        times = torch.tensor([i * dt for i in range(self.num_steps)], device=memory.device)

        def per_step(time: torch.Tensor, linear: nn.Linear, parts: int,
                     plus_one: tuple[int, ...]) -> list:
            chunks = list(run_linear(linear, time)[:, None, None, :].chunk(parts, dim=-1))
            for index in plus_one:
                chunks[index] = 1 + chunks[index]
            return list(zip(*(c.unbind(0) for c in chunks), strict=True))

        def modulation() -> tuple[list, list]:  # a function of the weights alone: cached
            time = F.silu(self.time(times).to(memory.dtype))  # the ada MLPs start with SiLU
            return ([per_step(time, block.ada[1], 6, (1, 4)) for block in self.blocks],
                    per_step(time, self.final_ada[1], 2, (1,)))

        parameters = [*self.time.parameters(), *self.final_ada.parameters(),
                      *(p for block in self.blocks for p in block.ada.parameters())]
        modulations, final = self._step_cache.get(
            (self.num_steps, memory.device, memory.dtype), parameters, modulation)
        memory_kv = [attention_keys(block.cross_attn, memory) for block in self.blocks]
        allowed = allowed_keys(padding)
        for step in range(self.num_steps):
            x = torch.cat([state, run_linear(self.action_in, x_t) + self.positions], dim=1)
            for block, modulation, kv in zip(self.blocks, modulations, memory_kv, strict=True):
                x = block.fast_forward(x, modulation[step], kv, allowed)
            shift, scale = final[step]
            x = torch.addcmul(shift, F.layer_norm(x[:, 1:], self.final_norm.normalized_shape,
                                                  eps=self.final_norm.eps), scale)
            x_t = torch.add(x_t, run_linear(self.action_out, x), alpha=dt)
        return x_t
