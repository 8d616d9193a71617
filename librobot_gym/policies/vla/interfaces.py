"""The contracts between the VLA parts (the seed architecture's), as abstract torch modules.

Shapes: images [B, V, 3, H, W] float in [0, 1] (V cameras); text a list of B strings;
proprio [B, P]; actions [B, C, A] (C = chunk length); features [B, T, D] conditioning tokens.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn


class VLMOutput(NamedTuple):
    tokens: torch.Tensor  # [B, T, D] image + text token features
    mask: torch.Tensor  # [B, T] bool, True where a token is real (not padding)
    pooled: torch.Tensor  # [B, D]


class VLMBackbone(nn.Module):
    """Images + text -> token features and a pooled vector. Frozen by default."""

    def forward(self, images: torch.Tensor, text: list[str]) -> VLMOutput:
        raise NotImplementedError

    def encode_image(self, images: torch.Tensor) -> torch.Tensor:
        """[B, V, 3, H, W] -> [B, T_img, D]."""
        raise NotImplementedError

    def encode_text(self, text: list[str]) -> torch.Tensor:
        """B strings -> [B, T_txt, D]."""
        raise NotImplementedError

    def get_embedding_dim(self) -> int:
        raise NotImplementedError

    def freeze(self, frozen: bool = True) -> VLMBackbone:
        for parameter in self.parameters():
            parameter.requires_grad_(not frozen)
        return self


class ActionHead(nn.Module):
    """Conditioning tokens -> an action chunk; owns its training loss."""

    def forward(self, features: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        """Scalar training loss for (normalised) `actions` [B, C, A] given `features`."""
        raise NotImplementedError

    def predict(self, features: torch.Tensor) -> torch.Tensor:
        """[B, T, D] -> [B, C, A] (normalised units)."""
        raise NotImplementedError

    def get_action_dim(self) -> int:
        raise NotImplementedError


class VLAFramework(nn.Module):
    """A VLM + a way to fuse it with proprioception + an action model; owns the loss."""

    def forward(self, images: torch.Tensor, text: list[str], proprio: torch.Tensor,
                actions: torch.Tensor) -> dict[str, torch.Tensor]:
        """{"loss": scalar, ...} for a batch of demonstrations (normalised actions)."""
        raise NotImplementedError

    def predict_action(self, images: torch.Tensor, text: list[str],
                       proprio: torch.Tensor) -> torch.Tensor:
        """[B, C, A] normalised action chunk."""
        raise NotImplementedError

    def get_num_parameters(self, trainable_only: bool = False) -> int:
        return sum(p.numel() for p in self.parameters()
                   if p.requires_grad or not trainable_only)
