"""The transformer pieces of the VLA frameworks as functional calls, for the inference fast
paths (`policies/vla/fastpath.py`): the same arithmetic as `nn.MultiheadAttention` and the
pre-norm `encoder_layer`, read from the modules' own weights, without the module-call overhead
and with `scaled_dot_product_attention`, plus keys/values computed once and reused by every
sampling step that attends to the same tokens (a KV cache).

Masks here are sdpa's: boolean, True where a query may attend to a key.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


def split_heads(x: torch.Tensor, num_heads: int) -> torch.Tensor:
    """[B, L, H] -> [B, heads, L, H / heads]."""
    return x.unflatten(-1, (num_heads, -1)).transpose(1, 2)


def merge_heads(x: torch.Tensor) -> torch.Tensor:
    """[B, heads, L, d] -> [B, L, heads * d]."""
    return x.transpose(1, 2).flatten(2)


def attention_keys(attn: nn.MultiheadAttention, memory: torch.Tensor
                   ) -> tuple[torch.Tensor, torch.Tensor]:
    """`attn`'s keys and values of `memory` [B, T, H], split into heads: computed once and
    reused by every sampling step that attends to the same memory (a KV cache)."""
    dim = attn.embed_dim
    weight, bias = attn.in_proj_weight, attn.in_proj_bias
    keys = F.linear(memory, weight[dim: 2 * dim], bias[dim: 2 * dim])
    values = F.linear(memory, weight[2 * dim:], bias[2 * dim:])
    return split_heads(keys, attn.num_heads), split_heads(values, attn.num_heads)


def attend(attn: nn.MultiheadAttention, queries: torch.Tensor, keys: torch.Tensor,
           values: torch.Tensor, allowed: torch.Tensor | None = None) -> torch.Tensor:
    """`attn(queries, memory, memory)` given the memory's `attention_keys`; `allowed`
    [B, 1, 1, T] bool, True where a key takes part (None: all)."""
    dim = attn.embed_dim
    q = split_heads(F.linear(queries, attn.in_proj_weight[:dim], attn.in_proj_bias[:dim]),
                    attn.num_heads)
    out = F.scaled_dot_product_attention(q, keys, values, attn_mask=allowed)
    return F.linear(merge_heads(out), attn.out_proj.weight, attn.out_proj.bias)


def attend_with_cache(attn: nn.MultiheadAttention, x: torch.Tensor, keys: torch.Tensor,
                      values: torch.Tensor, allowed: torch.Tensor | None) -> torch.Tensor:
    """`attn(x, cat[memory, x], cat[memory, x])` given the memory's `attention_keys`: the
    tokens attend to the cached memory and to each other, one projection for q, k and v."""
    q, k, v = (split_heads(t, attn.num_heads)
               for t in F.linear(x, attn.in_proj_weight, attn.in_proj_bias).chunk(3, dim=-1))
    out = F.scaled_dot_product_attention(q, torch.cat([keys, k], dim=2),
                                         torch.cat([values, v], dim=2), attn_mask=allowed)
    return F.linear(merge_heads(out), attn.out_proj.weight, attn.out_proj.bias)


def self_attend(attn: nn.MultiheadAttention, x: torch.Tensor,
                allowed: torch.Tensor | None = None) -> torch.Tensor:
    """`attn(x, x, x)` (no weights returned) with one projection for q, k and v."""
    q, k, v = (split_heads(t, attn.num_heads)
               for t in F.linear(x, attn.in_proj_weight, attn.in_proj_bias).chunk(3, dim=-1))
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=allowed)
    return F.linear(merge_heads(out), attn.out_proj.weight, attn.out_proj.bias)


def allowed_keys(padding: torch.Tensor) -> torch.Tensor:
    """Key padding [B, T] (True = ignore) -> sdpa's boolean mask [B, 1, 1, T] (True = attend)."""
    return (~padding)[:, None, None, :]


def run_linear(layer: nn.Linear, x: torch.Tensor) -> torch.Tensor:
    return F.linear(x, layer.weight, layer.bias)


def run_norm(norm: nn.LayerNorm, x: torch.Tensor) -> torch.Tensor:
    return F.layer_norm(x, norm.normalized_shape, norm.weight, norm.bias, norm.eps)


def run_encoder(layers: nn.ModuleList, x: torch.Tensor, allowed: torch.Tensor | None,
                norm: nn.LayerNorm | None = None, every_layer: bool = False):
    """`encoder_layer`s (pre-norm, GELU) through functional calls and sdpa; `allowed` [B, 1,
    L or 1, L] bool, True where a query may attend to a key. Returns the output (after `norm`),
    or with `every_layer` the list of each layer's output. ~25% faster than torch's own fused
    encoder-layer kernel at batch 1 here; outputs at padded positions are not meaningful."""
    outputs = []
    for layer in layers:
        x = x + self_attend(layer.self_attn, run_norm(layer.norm1, x), allowed)
        hidden = F.gelu(run_linear(layer.linear1, run_norm(layer.norm2, x)))
        x = x + run_linear(layer.linear2, hidden)
        outputs.append(x)
    if every_layer:
        return outputs
    return run_norm(norm, x) if norm is not None else x


def run_feed_forward(mlp: nn.Sequential, x: torch.Tensor) -> torch.Tensor:
    """`feed_forward(dim)(x)` through functional calls."""
    return run_linear(mlp[2], F.gelu(run_linear(mlp[0], x)))
