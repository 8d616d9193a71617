"""The `octo` framework: a transformer over observation tokens with readout tokens (Octo style).

Structure after Octo (Octo Model Team, 2024): the observation tokens (the projected VLM tokens
and a proprio token) and `num_readouts` learned readout tokens go through one transformer with a
block-wise mask: observation tokens attend to each other only, each readout token attends to the
observations and itself, and no token attends to a readout. The readouts are thus passive probes
that summarise the observation for the action head without changing it (Octo adds heads this
way without retraining the trunk). The readouts' outputs [B, R, H] condition a registered action
head, `diffusion` by default as in Octo; any head works (`head="mlp"`, `"flow"`, ...).
"""

from __future__ import annotations

import functools

import torch
from torch import nn

from librobot_gym.policies.frameworks.common import (
    FrameworkBase,
    HeadSpec,
    VLMSpec,
    check_positive,
    encoder_stack,
    head_loss,
    head_predict,
)
from librobot_gym.policies.frameworks.functional import (
    run_encoder,
)
from librobot_gym.policies.vla.fastpath import fast_path, small_tensor_ops
from librobot_gym.policies.vla.registry import register_vla


def readout_attention_mask(num_observation: int, num_readouts: int,
                           device: torch.device | None = None) -> torch.Tensor:
    """[L, L] bool, True where attention is blocked (L = observations + readouts).

    Rows are queries: observations see observations; a readout sees observations and itself.
    """
    size = num_observation + num_readouts
    blocked = torch.zeros(size, size, dtype=torch.bool, device=device)
    blocked[:, num_observation:] = True
    readouts = torch.arange(num_observation, size, device=device)
    blocked[readouts, readouts] = False
    return blocked


@functools.lru_cache(maxsize=32)
def allowed_by_readout_mask(num_observation: int, num_readouts: int,
                            device: torch.device) -> torch.Tensor:
    """~`readout_attention_mask` as sdpa's [1, 1, L, L] mask (True = attend), built once per
    size: the fast path's copy (building it costs ~0.3 ms of small ops per call)."""
    with torch.inference_mode():
        return ~readout_attention_mask(num_observation, num_readouts, device)[None, None]


@register_vla(name="octo", aliases=["readout-transformer"])
class OctoFramework(FrameworkBase):
    """Observation + readout-token transformer; the readouts condition a registered head.

    Settings: `num_layers` (2) transformer layers, `num_heads` (4), `num_readouts` (4) readout
    tokens, `head` (default "diffusion"), `freeze_vlm` (None: leave the backbone as built).
    """

    def __init__(self, vlm: VLMSpec, action_dim: int, proprio_dim: int, chunk_size: int = 8,
                 hidden_dim: int = 128, head: HeadSpec = None, num_layers: int = 2,
                 num_heads: int = 4, num_readouts: int = 4, freeze_vlm: bool | None = None):
        check_positive(num_layers=num_layers, num_readouts=num_readouts)
        super().__init__(vlm, action_dim, proprio_dim, chunk_size, hidden_dim,
                         head if head is not None else "diffusion", num_heads, freeze_vlm,
                         num_layers=num_layers, num_readouts=num_readouts)
        self.readouts = nn.Parameter(0.02 * torch.randn(num_readouts, hidden_dim))
        self.transformer = encoder_stack(hidden_dim, num_layers, num_heads)
        self.head = self.build_head()

    def _readout(self, images: torch.Tensor, text: list[str], proprio: torch.Tensor
                 ) -> torch.Tensor:
        """The readout tokens' outputs [B, R, H]."""
        tokens, mask, state = self.encode_observation(images, text, proprio)
        observation, observation_mask = self.prefix(tokens, mask, state)
        batch, num_observation = observation_mask.shape
        readouts = self.readouts.to(observation.dtype).expand(batch, -1, -1)
        readout_mask = torch.ones(readouts.shape[:2], dtype=torch.bool, device=mask.device)
        padding = ~torch.cat([observation_mask, readout_mask], dim=1)
        if fast_path():
            allowed = (allowed_by_readout_mask(num_observation, readouts.shape[1], mask.device)
                       & ~padding[:, None, None, :])
            with small_tensor_ops():
                out = run_encoder(self.transformer.layers,
                                  torch.cat([observation, readouts], dim=1), allowed,
                                  self.transformer.norm)
            return out[:, num_observation:]
        blocked = readout_attention_mask(num_observation, readouts.shape[1], mask.device)
        out = self.transformer(torch.cat([observation, readouts], dim=1), mask=blocked,
                               src_key_padding_mask=padding)
        return out[:, num_observation:]

    def forward(self, images: torch.Tensor, text: list[str], proprio: torch.Tensor,
                actions: torch.Tensor) -> dict[str, torch.Tensor]:
        """{"loss": the head's loss given the readout tokens}."""
        features = self._readout(images, text, proprio)
        self.check_actions(actions, features.shape[0])
        return {"loss": head_loss(self.head, features, actions.to(features.dtype), None)}

    def predict_action(self, images: torch.Tensor, text: list[str], proprio: torch.Tensor,
                       generator: torch.Generator | None = None) -> torch.Tensor:
        """[B, C, A] from the head given the readout tokens."""
        return head_predict(self.head, self._readout(images, text, proprio), None, generator)
