"""The `mlp` action head: pooled features -> an MLP -> the whole chunk, trained by regression.

The simplest head (RT-1/BC style continuous regression): it predicts the mean action chunk, so it
is fast and stable but averages multi-modal demonstrations. Use it as the baseline the sampling
heads (`diffusion`, `flow`) have to beat.
"""

from __future__ import annotations

import torch
from torch import nn

from librobot_gym.policies.heads.common import (
    ChunkHead,
    check_choice,
    check_positive,
    mlp,
    pool_tokens,
)
from librobot_gym.policies.vla.interfaces import ActionHead
from librobot_gym.policies.vla.registry import register_action_head

LOSSES = ("mse", "smooth_l1", "l1")
POOLINGS = ("mean", "max")


def regression_loss(prediction: torch.Tensor, target: torch.Tensor, kind: str) -> torch.Tensor:
    """Mean element-wise loss of `kind` ("mse", "smooth_l1" or "l1")."""
    if kind == "mse":
        return nn.functional.mse_loss(prediction, target)
    if kind == "smooth_l1":
        return nn.functional.smooth_l1_loss(prediction, target)
    return nn.functional.l1_loss(prediction, target)


class RegressionChunkHead(ChunkHead):
    """A head that predicts the chunk directly (`_chunk`, set by the subclass) and trains it by
    regression (`loss_kind`): one forward for training, the same pass for prediction."""

    loss_kind = "mse"

    def _chunk(self, features: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        raise NotImplementedError

    def forward(self, features: torch.Tensor, actions: torch.Tensor,
                mask: torch.Tensor | None = None) -> torch.Tensor:
        """Regression loss between the predicted chunk and `actions` [B, C, A]."""
        self.check_actions(features, actions)
        return regression_loss(self._chunk(features, mask), actions, self.loss_kind)

    def predict(self, features: torch.Tensor, mask: torch.Tensor | None = None,
                generator: torch.Generator | None = None) -> torch.Tensor:
        """[B, T, D] -> [B, C, A]; deterministic (`generator` is accepted and ignored)."""
        return self._chunk(features, mask)


@register_action_head(name="mlp", aliases=["regression", "mlp-regression"])
class MLPHead(RegressionChunkHead, ActionHead):
    """Masked pooling of the tokens, LayerNorm, `num_layers` hidden layers, a Linear to C * A.

    Settings: `loss` ("mse" default, "smooth_l1" or "l1"), `pooling` ("mean" default, or "max")
    over the real tokens, `num_layers` hidden layers of width `hidden_dim`, `dropout` after them.
    """

    def __init__(self, input_dim: int, action_dim: int, chunk_size: int = 1,
                 hidden_dim: int = 256, num_layers: int = 2, loss: str = "mse",
                 pooling: str = "mean", dropout: float = 0.0):
        super().__init__(input_dim, action_dim, chunk_size)
        check_positive(hidden_dim=hidden_dim, num_layers=num_layers)
        check_choice("loss", loss, LOSSES)
        check_choice("pooling", pooling, POOLINGS)
        self.config = dict(input_dim=input_dim, action_dim=action_dim, chunk_size=chunk_size,
                           hidden_dim=hidden_dim, num_layers=num_layers, loss=loss,
                           pooling=pooling, dropout=dropout)
        self.loss_kind = loss
        self.pooling = pooling
        self.norm = nn.LayerNorm(input_dim)
        self.net = mlp(input_dim, hidden_dim, chunk_size * action_dim, num_layers)
        if dropout > 0:
            self.net.insert(len(self.net) - 1, nn.Dropout(dropout))

    def _chunk(self, features: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        self.check_features(features, mask)
        pooled = self.norm(pool_tokens(features, mask, self.pooling))
        return self.net(pooled).view(-1, self.chunk_size, self.action_dim)
