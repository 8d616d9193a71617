"""The `rt2` framework: actions as discrete tokens, 256 uniform bins per dimension (RT-2 style).

Structure after RT-2 (Brohan et al. 2023): every action dimension is discretised into `num_bins`
(256) uniform bins and predicted as a token with cross-entropy, so the model is a classifier
over action values and can represent multi-modal distributions per dimension. Bins span
[-1, 1] in normalised units; values outside are clipped first.

RT-2 emits the tokens autoregressively from the VLM's language decoder. Here a small decoder
predicts all C * A tokens in parallel (as OpenVLA-OFT's parallel decoding does): the projected
VLM tokens + a proprio token go through a transformer encoder, and one learned query per
(chunk step, action dimension) cross-attends to them and is classified into `num_bins` logits
[B, C, A, num_bins]. Inference takes the argmax bin and returns its centre. There is no
separate action head: the token classifier is the head, so `head=` must stay None.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from librobot_gym.errors import ConfigError
from librobot_gym.policies.frameworks.common import (
    FrameworkBase,
    HeadSpec,
    VLMSpec,
    check_positive,
    encoder_stack,
)
from librobot_gym.policies.frameworks.functional import (
    allowed_keys,
    attend,
    attention_keys,
    run_encoder,
    run_linear,
    run_norm,
    self_attend,
)
from librobot_gym.policies.vla.fastpath import WeightCache, fast_path, small_tensor_ops
from librobot_gym.policies.vla.registry import register_vla

NUM_BINS = 256


def discretize(actions: torch.Tensor, num_bins: int = NUM_BINS, low: float = -1.0,
               high: float = 1.0) -> torch.Tensor:
    """Continuous actions -> bin indices (int64, same shape) of `num_bins` uniform bins.

    Values are clipped to [low, high]; `high` itself falls in the last bin.
    """
    scaled = (actions.clamp(low, high) - low) / (high - low) * num_bins
    return scaled.floor().long().clamp(0, num_bins - 1)


def undiscretize(bins: torch.Tensor, num_bins: int = NUM_BINS, low: float = -1.0,
                 high: float = 1.0) -> torch.Tensor:
    """Bin indices -> the bins' centres (float32): within half a bin width of the original."""
    width = (high - low) / num_bins
    return low + (bins.float() + 0.5) * width


@register_vla(name="rt2", aliases=["rt-2", "action-tokens"])
class RT2Framework(FrameworkBase):
    """Fused VLM + proprio tokens -> per-(step, dimension) bin logits, cross-entropy, argmax.

    Settings: `num_layers` (2) encoder layers and as many decoder layers, `num_heads` (4),
    `num_bins` (256), `freeze_vlm` (None: leave the backbone as built). `head` must be None.
    """

    def __init__(self, vlm: VLMSpec, action_dim: int, proprio_dim: int, chunk_size: int = 8,
                 hidden_dim: int = 128, head: HeadSpec = None, num_layers: int = 2,
                 num_heads: int = 4, num_bins: int = NUM_BINS, freeze_vlm: bool | None = None):
        if head is not None:
            raise ConfigError(f"the rt2 framework predicts discrete action tokens itself and takes "
                              f"no action head; got head={head!r}, use head=None (or the octo, "
                              f"pi0 or groot framework for a registered head)")
        check_positive(num_layers=num_layers)
        if not isinstance(num_bins, int) or num_bins < 2:
            raise ConfigError(f"num_bins={num_bins!r} must be an integer >= 2")
        super().__init__(vlm, action_dim, proprio_dim, chunk_size, hidden_dim, None, num_heads,
                         freeze_vlm, num_layers=num_layers, num_bins=num_bins)
        self.num_bins = num_bins
        self.encoder = encoder_stack(hidden_dim, num_layers, num_heads)
        self.queries = nn.Parameter(0.02 * torch.randn(chunk_size * action_dim, hidden_dim))
        layer = nn.TransformerDecoderLayer(hidden_dim, num_heads, 4 * hidden_dim, dropout=0.0,
                                           activation="gelu", batch_first=True, norm_first=True)
        self.decoder = nn.TransformerDecoder(layer, num_layers, norm=nn.LayerNorm(hidden_dim))
        self.to_logits = nn.Linear(hidden_dim, num_bins)
        self._query_cache = WeightCache(size=4)

    def logits(self, images: torch.Tensor, text: list[str], proprio: torch.Tensor
               ) -> torch.Tensor:
        """[B, C, A, num_bins] unnormalised log-probabilities of each action token."""
        tokens, mask, state = self.encode_observation(images, text, proprio)
        prefix, prefix_mask = self.prefix(tokens, mask, state)
        if fast_path():
            with small_tensor_ops():
                memory = run_encoder(self.encoder.layers, prefix, allowed_keys(~prefix_mask),
                                     self.encoder.norm)
                decoded = self._decode_fast(memory, ~prefix_mask)
        else:
            memory = self.encoder(prefix, src_key_padding_mask=~prefix_mask)
            queries = self.queries.to(memory.dtype).expand(memory.shape[0], -1, -1)
            decoded = self.decoder(queries, memory, memory_key_padding_mask=~prefix_mask)
        return self.to_logits(decoded).view(-1, self.chunk_size, self.action_dim, self.num_bins)

    def _decode_fast(self, memory: torch.Tensor, padding: torch.Tensor) -> torch.Tensor:
        """`self.decoder(queries, memory, ...)` through functional calls. The first layer's
        self-attention block reads only the learned queries, so its output is a function of
        the weights alone and is computed once per weights version."""
        layers = self.decoder.layers
        first = layers[0]

        def first_block() -> torch.Tensor:
            queries = self.queries.to(memory.dtype)[None]
            return queries + self_attend(first.self_attn, run_norm(first.norm1, queries))

        parameters = [self.queries, *first.norm1.parameters(), *first.self_attn.parameters()]
        x = self._query_cache.get(memory.dtype, parameters, first_block)
        x = x.expand(memory.shape[0], -1, -1)
        allowed = allowed_keys(padding)
        for index, layer in enumerate(layers):
            if index:
                x = x + self_attend(layer.self_attn, run_norm(layer.norm1, x))
            cross = layer.multihead_attn
            x = x + attend(cross, run_norm(layer.norm2, x), *attention_keys(cross, memory),
                           allowed)
            hidden = F.gelu(run_linear(layer.linear1, run_norm(layer.norm3, x)))
            x = x + run_linear(layer.linear2, hidden)
        return run_norm(self.decoder.norm, x)

    def forward(self, images: torch.Tensor, text: list[str], proprio: torch.Tensor,
                actions: torch.Tensor) -> dict[str, torch.Tensor]:
        """{"loss": token cross-entropy, "token_accuracy": share of argmax bins that match}."""
        logits = self.logits(images, text, proprio)
        self.check_actions(actions, logits.shape[0])
        targets = discretize(actions, self.num_bins)
        loss = nn.functional.cross_entropy(logits.flatten(0, 2), targets.flatten())
        accuracy = (logits.argmax(-1) == targets).float().mean().detach()
        return {"loss": loss, "token_accuracy": accuracy}

    def predict_action(self, images: torch.Tensor, text: list[str], proprio: torch.Tensor,
                       generator: torch.Generator | None = None) -> torch.Tensor:
        """[B, C, A]: the centre of each dimension's most likely bin (`generator` is unused)."""
        logits = self.logits(images, text, proprio)
        return undiscretize(logits.argmax(-1), self.num_bins).to(logits.dtype)
