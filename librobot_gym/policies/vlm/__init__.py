"""VLM backbones: camera frames + an instruction -> conditioning tokens for a VLA policy.

- `tiny` (`tiny.py`): a small conv image encoder + the packaged MiniLM sentence encoder (or a
  byte-level one), trained from scratch on a CPU.
- `siglip`, `paligemma`, `qwen2-vl`, `smolvlm`, `florence-2` (`hf.py`): pretrained transformers
  models, frozen by default, loaded from a hub id or a local folder.
- `images.py`: torch image preprocessing (no torchvision); `testing.py`: tiny random on-disk
  checkpoints of each transformers family, for tests and docs.

Importing this package registers every backbone with `librobot_gym.policies.vla.registry`;
transformers itself is imported only when a transformers backbone is built.
"""

from librobot_gym.policies.vlm import hf, tiny

__all__ = ["hf", "tiny"]
