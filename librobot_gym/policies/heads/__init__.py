"""Action heads: conditioning tokens [B, T, D] -> an action chunk [B, C, A], each with its loss.

Built-in heads, registered by name (aliases in brackets) for `create_action_head(name, ...)`:

- `mlp` [regression, mlp-regression]: pooled tokens -> MLP -> chunk; MSE regression.
- `transformer` [act, query-decoder]: learned chunk queries cross-attend to the tokens; L1.
- `diffusion` [ddpm, ddim, diffusion-policy]: DDPM noise prediction, DDIM sampling.
- `flow` [flow_matching, flow-matching, rectified-flow]: flow matching, Euler/midpoint sampling.

Every head takes `(input_dim, action_dim, chunk_size=1, hidden_dim=256, **head_specific)` and
keeps those kwargs in `head.config` (JSON-serialisable) so a checkpoint can rebuild it.
`forward(features, actions, mask=None)` returns the scalar training loss; `predict(features,
mask=None, generator=None)` returns the chunk. Shared pieces live in `common`.
"""

from librobot_gym.policies.heads import diffusion, flow, mlp, transformer  # noqa: F401 (registers)
from librobot_gym.policies.heads.diffusion import DiffusionHead
from librobot_gym.policies.heads.flow import FlowMatchingHead
from librobot_gym.policies.heads.mlp import MLPHead
from librobot_gym.policies.heads.transformer import TransformerHead

__all__ = ["DiffusionHead", "FlowMatchingHead", "MLPHead", "TransformerHead"]
