"""VLA frameworks: fuse a VLM backbone's tokens with proprioception and own the action loss.

Built-in frameworks, registered by name (aliases in brackets) for `create_vla(name, ...)`:

- `groot` [gr00t, gr00t-n1]: state-encoder token + a DiT flow-matching action model that
  cross-attends to the VLM tokens, time through adaptive LayerNorm; Euler sampling.
- `pi0` [pi-0, pi-zero]: prefix (VLM tokens + state token) transformer and a flow-matching action
  expert attending to it layer by layer, block-causally; pi0's Beta time schedule; Euler.
- `octo` [readout-transformer]: observation tokens + passive readout tokens in one transformer;
  the readouts condition a registered action head (`diffusion` by default).
- `rt2` [rt-2, action-tokens]: each action dimension as one of 256 bin tokens, cross-entropy,
  argmax decoding to bin centres; takes no head.

Every framework takes `(vlm, action_dim, proprio_dim, chunk_size=8, hidden_dim=128, head=None,
num_heads=4, freeze_vlm=None, **framework_specific)`: `vlm` a VLMBackbone, a registered name or
{"name": ..., **kwargs}; `head` a registered action-head name or {"name": ..., **kwargs} (groot
and pi0 then hand their fused tokens to it instead of their own flow model). `framework.config`
holds those settings, JSON-serialisable, so `create_vla(name, **framework.config)` rebuilds it.
Shared pieces live in `common`; `functional` holds the transformer pieces as functional calls
for the inference fast paths.
"""

from librobot_gym.policies.frameworks import groot, octo, pi0, rt2  # noqa: F401 (registers)
from librobot_gym.policies.frameworks.common import FrameworkBase
from librobot_gym.policies.frameworks.groot import GrootFramework
from librobot_gym.policies.frameworks.octo import OctoFramework
from librobot_gym.policies.frameworks.pi0 import Pi0Framework
from librobot_gym.policies.frameworks.rt2 import RT2Framework, discretize, undiscretize

__all__ = ["FrameworkBase", "GrootFramework", "OctoFramework", "Pi0Framework", "RT2Framework",
           "discretize", "undiscretize"]
