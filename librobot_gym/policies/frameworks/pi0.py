"""The `pi0` framework: a flow-matching action expert attending to the VLM prefix (pi0 style).

Structure after Physical Intelligence's pi0 (Black et al. 2024). The prefix is the projected VLM
tokens plus a state token (pi0 puts the state at the start of its suffix; here it joins the
prefix, which every action token sees anyway). Two sets of transformer weights share one
block-causal attention pattern, layer by layer: the prefix layers attend only within the prefix,
and the action expert's layer l lets the action tokens attend to the prefix's layer-l states and
to each other. Because the prefix never attends to the actions, its states are computed once per
observation and reused by every sampling step (pi0's KV cache).

Action tokens: a Linear of each noisy action, concatenated with the flow-time embedding and
mixed by an MLP (pi0's action-time MLP), plus a learned position per chunk step. Training is
flow matching with pi0's time distribution, t = 1 - 0.999 * s with s ~ Beta(1.5, 1) (more weight
on noisy times; `time_distribution="uniform"` for U(0, 1)); inference takes `num_steps` Euler
steps from noise at t = 0 to the chunk at t = 1.

With `head=` a registered action head, the action expert is not built: the head reads the
prefix layers' output tokens and owns the loss.
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
    encoder_layer,
    euler_sample,
    feed_forward,
    flow_matching_loss,
    head_loss,
    head_predict,
)
from librobot_gym.policies.frameworks.functional import (
    allowed_keys,
    attend_with_cache,
    attention_keys,
    run_encoder,
    run_feed_forward,
    run_linear,
    run_norm,
)
from librobot_gym.policies.vla.fastpath import WeightCache, fast_path, small_tensor_ops
from librobot_gym.policies.vla.registry import register_vla


class ActionExpertLayer(nn.Module):
    """One action-expert layer: the action tokens attend to [this layer's prefix states; each
    other] with the expert's own weights, then a feed-forward; pre-norm residual."""

    def __init__(self, dim: int, num_heads: int):
        super().__init__()
        self.prefix_norm = nn.LayerNorm(dim)
        self.norm1 = nn.LayerNorm(dim)
        self.attn = nn.MultiheadAttention(dim, num_heads, batch_first=True)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = feed_forward(dim)

    def forward(self, actions: torch.Tensor, prefix: torch.Tensor,
                prefix_padding: torch.Tensor) -> torch.Tensor:
        """actions [B, C, H], prefix [B, T, H], prefix_padding [B, T] (True = ignore)."""
        h = self.norm1(actions)
        context = torch.cat([self.prefix_norm(prefix), h], dim=1)
        no_padding = torch.zeros(h.shape[:2], dtype=torch.bool, device=h.device)
        padding = torch.cat([prefix_padding, no_padding], dim=1)
        actions = actions + self.attn(h, context, context, key_padding_mask=padding,
                                      need_weights=False)[0]
        return actions + self.mlp(self.norm2(actions))


@register_vla(name="pi0", aliases=["pi-0", "pi-zero"])
class Pi0Framework(FlowMatchingFramework):
    """Prefix transformer + flow-matching action expert (or the prefix tokens to a head).

    Settings: `num_layers` (2) prefix layers and as many expert layers, `num_heads` (4),
    `num_steps` (10) Euler steps, `time_distribution` ("beta", pi0's; or "uniform"),
    `freeze_vlm` (None: leave the backbone as built).
    """

    def __init__(self, vlm: VLMSpec, action_dim: int, proprio_dim: int, chunk_size: int = 8,
                 hidden_dim: int = 128, head: HeadSpec = None, num_layers: int = 2,
                 num_heads: int = 4, num_steps: int = 10, time_distribution: str = "beta",
                 freeze_vlm: bool | None = None):
        super().__init__(vlm, action_dim, proprio_dim, chunk_size, hidden_dim, head,
                         num_layers, num_heads, num_steps, time_distribution, freeze_vlm)
        self.prefix_layers = nn.ModuleList(encoder_layer(hidden_dim, num_heads)
                                           for _ in range(num_layers))
        if self.head_config is not None:
            self.prefix_out = nn.LayerNorm(hidden_dim)
            self.head = self.build_head()
            return
        self.head = None
        self._step_cache = WeightCache(size=4)  # the fast path's per-step time conditioning
        self.action_in = nn.Linear(action_dim, hidden_dim)
        self.time = TimeEmbedding(hidden_dim)
        self.action_time_mlp = nn.Sequential(nn.Linear(2 * hidden_dim, hidden_dim), nn.SiLU(),
                                             nn.Linear(hidden_dim, hidden_dim))
        self.positions = nn.Parameter(0.02 * torch.randn(chunk_size, hidden_dim))
        self.expert_layers = nn.ModuleList(ActionExpertLayer(hidden_dim, num_heads)
                                           for _ in range(num_layers))
        self.action_out = nn.Sequential(nn.LayerNorm(hidden_dim),
                                        nn.Linear(hidden_dim, action_dim))

    def _prefix_states(self, images: torch.Tensor, text: list[str], proprio: torch.Tensor
                       ) -> tuple[list[torch.Tensor], torch.Tensor]:
        """Each prefix layer's output [B, T + 1, H] and the prefix padding (True = ignore)."""
        tokens, mask, state = self.encode_observation(images, text, proprio)
        x, prefix_mask = self.prefix(tokens, mask, state)
        padding = ~prefix_mask
        if fast_path():
            with small_tensor_ops():
                return run_encoder(self.prefix_layers, x, allowed_keys(padding),
                                   every_layer=True), padding
        states = []
        for layer in self.prefix_layers:
            x = layer(x, src_key_padding_mask=padding)
            states.append(x)
        return states, padding

    def _velocity(self, x_t: torch.Tensor, t: torch.Tensor, states: list[torch.Tensor],
                  padding: torch.Tensor) -> torch.Tensor:
        """The action expert: noisy chunk + time, attending to the cached prefix -> [B, C, A]."""
        time = self.time(t).to(x_t.dtype).unsqueeze(1).expand(-1, x_t.shape[1], -1)
        x = self.action_time_mlp(torch.cat([self.action_in(x_t), time], dim=-1))
        x = x + self.positions
        for layer, prefix in zip(self.expert_layers, states, strict=True):
            x = layer(x, prefix, padding)
        return self.action_out(x)

    def forward(self, images: torch.Tensor, text: list[str], proprio: torch.Tensor,
                actions: torch.Tensor) -> dict[str, torch.Tensor]:
        """{"loss": flow-matching loss of the action expert (or the head's loss)}."""
        states, padding = self._prefix_states(images, text, proprio)
        self.check_actions(actions, states[-1].shape[0])
        actions = actions.to(states[-1].dtype)
        if self.head is not None:
            features = self.prefix_out(states[-1])
            return {"loss": head_loss(self.head, features, actions, ~padding)}

        def velocity(x_t: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
            return self._velocity(x_t, t, states, padding)

        return {"loss": flow_matching_loss(velocity, actions, self.time_distribution)}

    def predict_action(self, images: torch.Tensor, text: list[str], proprio: torch.Tensor,
                       generator: torch.Generator | None = None) -> torch.Tensor:
        """[B, C, A]: Euler steps of the action expert over a prefix computed once."""
        states, padding = self._prefix_states(images, text, proprio)
        if self.head is not None:
            return head_predict(self.head, self.prefix_out(states[-1]), ~padding, generator)

        def velocity(x_t: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
            return self._velocity(x_t, t, states, padding)

        shape = (states[-1].shape[0], self.chunk_size, self.action_dim)
        if fast_path():
            with small_tensor_ops():
                return self._sample_fast(states, padding, shape, generator)
        return euler_sample(velocity, shape, self.num_steps, states[-1], generator)

    def _sample_fast(self, states: list[torch.Tensor], padding: torch.Tensor,
                     shape: tuple[int, ...], generator: torch.Generator | None) -> torch.Tensor:
        """`euler_sample` of `_velocity`, the same function with the per-step work cut down:
        each expert layer's keys/values of the prefix computed once (pi0's KV cache), the time
        half of the action-time MLP's first layer computed for every step in one matmul, and
        functional calls with sdpa instead of module calls."""
        like = states[-1]
        x_t = draw_noise(shape, generator, like.device, like.dtype)
        dt = 1.0 / self.num_steps
        times = torch.tensor([i * dt for i in range(self.num_steps)], device=like.device)
        first, second = self.action_time_mlp[0], self.action_time_mlp[2]
        hidden = self.hidden_dim

        def time_halves() -> tuple[torch.Tensor, ...]:
            # cat([a, time]) @ W.T = a @ W[:, :H].T + time @ W[:, H:].T
            return F.linear(self.time(times).to(like.dtype), first.weight[:, hidden:],
                            first.bias).unbind(0)

        time_part = self._step_cache.get((self.num_steps, like.device, like.dtype),
                                         [*self.time.parameters(), *first.parameters()],
                                         time_halves)
        action_weight = first.weight[:, :hidden]
        prefix_kv = [attention_keys(layer.attn, run_norm(layer.prefix_norm, prefix))
                     for layer, prefix in zip(self.expert_layers, states, strict=True)]
        no_padding = torch.zeros(shape[:2], dtype=torch.bool, device=padding.device)
        allowed = allowed_keys(torch.cat([padding, no_padding], dim=1))
        for step in range(self.num_steps):
            x = F.linear(run_linear(self.action_in, x_t), action_weight) + time_part[step]
            x = run_linear(second, F.silu(x)) + self.positions
            for layer, (keys, values) in zip(self.expert_layers, prefix_kv, strict=True):
                h = run_norm(layer.norm1, x)
                x = x + attend_with_cache(layer.attn, h, keys, values, allowed)
                x = x + run_feed_forward(layer.mlp, run_norm(layer.norm2, x))
            velocity = run_linear(self.action_out[1], run_norm(self.action_out[0], x))
            x_t = torch.add(x_t, velocity, alpha=dt)
        return x_t
