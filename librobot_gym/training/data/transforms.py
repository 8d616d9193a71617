"""Sample transforms for behaviour cloning: normalisation and image augmentation, by name.

Each transform is a callable taking an `ActionChunkDataset` item (or a collated batch) and
returning it changed; build them with `create_transform("random_shift", pad=4)` and chain them
with `compose`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import torch
import torch.nn.functional as F

from librobot_gym.training.data.registry import create_transform, register_transform


@register_transform("normalize", aliases=("normalise",))
class Normalize:
    """Normalise `proprio` and `actions` with dataset statistics (`dataset.stats`), in one of the
    `Normalizer` conventions ("quantile": q01 -> -1, q99 -> +1; "mean_std"), so samples match
    what a VLA policy trained on them expects."""

    def __init__(self, stats: Mapping[str, Mapping[str, Any]], mode: str = "quantile",
                 keys: Mapping[str, str] | None = None):
        from librobot_gym.policies.vla.normalization import Normalizer

        keys = keys or {"actions": "action", "proprio": "observation.state"}
        self.normalizers = {item: Normalizer.from_dict({**stats[feature], "mode": mode})
                            for item, feature in keys.items()}

    def __call__(self, sample: dict[str, Any]) -> dict[str, Any]:
        out = dict(sample)
        for key, normalizer in self.normalizers.items():
            out[key] = normalizer.normalize(sample[key])
        return out


@register_transform("random_shift", aliases=("drq_shift",))
class RandomShift:
    """DrQ / diffusion-policy image augmentation: pad each image by `pad` pixels (replicating the
    border) and crop it back at a random offset, i.e. shift it by up to +-pad pixels. Each image
    of `images` [..., 3, H, W] gets its own shift."""

    def __init__(self, pad: int = 4, generator: torch.Generator | None = None):
        self.pad = int(pad)
        self.generator = generator

    def __call__(self, sample: dict[str, Any]) -> dict[str, Any]:
        images = sample["images"]
        if self.pad <= 0 or images.numel() == 0:
            return sample
        *lead, channels, height, width = images.shape
        flat = images.reshape(-1, channels, height, width)
        padded = F.pad(flat, (self.pad,) * 4, mode="replicate")
        offsets = torch.randint(0, 2 * self.pad + 1, (len(flat), 2), generator=self.generator)
        shifted = torch.stack([
            padded[n, :, dy:dy + height, dx:dx + width]
            for n, (dy, dx) in enumerate(offsets.tolist())])
        return {**sample, "images": shifted.reshape(*lead, channels, height, width)}


@register_transform("compose")
class Compose:
    """Apply transforms in order; each is a callable or a spec {"name": ..., **settings}."""

    def __init__(self, transforms: Sequence[Callable | Mapping[str, Any]]):
        self.transforms = [
            create_transform(**dict(t)) if isinstance(t, Mapping) else t for t in transforms]

    def __call__(self, sample: dict[str, Any]) -> dict[str, Any]:
        for transform in self.transforms:
            sample = transform(sample)
        return sample
