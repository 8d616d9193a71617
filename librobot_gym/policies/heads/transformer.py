"""The `transformer` action head: C learned action queries cross-attend to the feature tokens.

ACT/Octo-style readout: query i decodes chunk step i, so each step can attend to different
tokens (a camera patch, an instruction word) instead of one pooled vector. Deterministic
regression, trained with L1 by default (as ACT does; less blur than MSE on near-modal data).
"""

from __future__ import annotations

import torch
from torch import nn

from librobot_gym.errors import ConfigError
from librobot_gym.policies.heads.common import check_choice, check_positive
from librobot_gym.policies.heads.mlp import LOSSES, RegressionChunkHead
from librobot_gym.policies.vla.interfaces import ActionHead
from librobot_gym.policies.vla.registry import register_action_head


@register_action_head(name="transformer", aliases=["act", "query-decoder"])
class TransformerHead(RegressionChunkHead, ActionHead):
    """Project tokens to `hidden_dim`, decode `chunk_size` learned queries, Linear to A each.

    Settings: `num_layers` (2) pre-norm decoder layers with `num_heads` (4) attention heads,
    feed-forward width 4 * `hidden_dim`, `dropout` (0.0), `loss` ("l1" default, "mse",
    "smooth_l1"). `hidden_dim` must be divisible by `num_heads`. The queries self-attend, so the
    chunk steps coordinate; padding tokens (mask False) are excluded from the cross-attention.
    """

    def __init__(self, input_dim: int, action_dim: int, chunk_size: int = 1,
                 hidden_dim: int = 256, num_layers: int = 2, num_heads: int = 4,
                 dropout: float = 0.0, loss: str = "l1"):
        super().__init__(input_dim, action_dim, chunk_size)
        check_positive(hidden_dim=hidden_dim, num_layers=num_layers, num_heads=num_heads)
        check_choice("loss", loss, LOSSES)
        if hidden_dim % num_heads:
            raise ConfigError(f"hidden_dim={hidden_dim} must be divisible by "
                              f"num_heads={num_heads}")
        self.config = dict(input_dim=input_dim, action_dim=action_dim, chunk_size=chunk_size,
                           hidden_dim=hidden_dim, num_layers=num_layers, num_heads=num_heads,
                           dropout=dropout, loss=loss)
        self.loss_kind = loss
        self.memory_proj = nn.Sequential(nn.LayerNorm(input_dim), nn.Linear(input_dim, hidden_dim))
        self.queries = nn.Parameter(0.02 * torch.randn(chunk_size, hidden_dim))
        layer = nn.TransformerDecoderLayer(hidden_dim, num_heads, 4 * hidden_dim, dropout,
                                           activation="gelu", batch_first=True, norm_first=True)
        self.decoder = nn.TransformerDecoder(layer, num_layers, norm=nn.LayerNorm(hidden_dim))
        self.out = nn.Linear(hidden_dim, action_dim)

    def _chunk(self, features: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        self.check_features(features, mask)
        memory = self.memory_proj(features)
        queries = self.queries.unsqueeze(0).expand(features.shape[0], -1, -1)
        padding = None if mask is None else ~mask.to(torch.bool)
        decoded = self.decoder(queries, memory, memory_key_padding_mask=padding)
        return self.out(decoded)
