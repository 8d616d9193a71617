"""Sample transforms for behaviour cloning: normalisation and image augmentation, by name.

Each transform is a callable taking an `ActionChunkDataset` item (or a collated batch) and
returning it changed; build them with `create_transform("random_shift", pad=4)` and chain them
with `compose`. Image augmentations: `random_shift` (DrQ), `color_jitter` and
`random_resized_crop` (Octo's and RT-1's for small frames). Each image of `images`
[..., 3, H, W] (float in [0, 1]) draws its own parameters. At 64 px the README measures which
help (a shift of a few pixels moves a 3-pixel cup by centimetres on the table).
"""

from __future__ import annotations

import math
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


def _uniform(n: int, low: float, high: float, generator) -> torch.Tensor:
    return low + (high - low) * torch.rand(n, generator=generator)


def _grey(images: torch.Tensor) -> torch.Tensor:
    """Luma (ITU-R BT.601) of [N, 3, H, W] images, [N, 1, H, W]."""
    weights = images.new_tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)
    return (images * weights).sum(dim=1, keepdim=True)


@register_transform("color_jitter", aliases=("colour_jitter",))
class ColorJitter:
    """Photometric augmentation: each image's brightness, contrast and saturation scaled by a
    factor uniform in [1 - x, 1 + x], then its hue turned by up to +-`hue` of a full turn (a
    rotation of the chroma plane in YIQ space; 0, the default, keeps colours an instruction may
    name), clipped to [0, 1]. What a renderer's or a real camera's other lighting and white
    balance look like to the policy."""

    def __init__(self, brightness: float = 0.3, contrast: float = 0.3, saturation: float = 0.3,
                 hue: float = 0.0, generator: torch.Generator | None = None):
        self.brightness, self.contrast = float(brightness), float(contrast)
        self.saturation, self.hue = float(saturation), float(hue)
        self.generator = generator

    def __call__(self, sample: dict[str, Any]) -> dict[str, Any]:
        images = sample["images"]
        if images.numel() == 0:
            return sample
        *lead, channels, height, width = images.shape
        x = images.reshape(-1, channels, height, width)
        n, g = len(x), self.generator

        def factor(amount: float) -> torch.Tensor:
            return _uniform(n, 1 - amount, 1 + amount, g).to(x).view(n, 1, 1, 1)

        x = x * factor(self.brightness)
        mean = _grey(x).mean(dim=(2, 3), keepdim=True)
        x = mean + (x - mean) * factor(self.contrast)
        grey = _grey(x)
        x = grey + (x - grey) * factor(self.saturation)
        if self.hue > 0:
            x = _turn_hue(x, _uniform(n, -self.hue, self.hue, g).to(x) * 2 * math.pi)
        x = x.clamp(0.0, 1.0)
        return {**sample, "images": x.reshape(*lead, channels, height, width)}


_RGB_TO_YIQ = torch.tensor([[0.299, 0.587, 0.114], [0.596, -0.274, -0.322],
                            [0.211, -0.523, 0.312]])


def _turn_hue(x: torch.Tensor, angle: torch.Tensor) -> torch.Tensor:
    """Rotate each image's chroma (I, Q) by its angle; luma unchanged."""
    to_yiq = _RGB_TO_YIQ.to(x)
    yiq = torch.einsum("ij,njhw->nihw", to_yiq, x)
    c, s = torch.cos(angle).view(-1, 1, 1), torch.sin(angle).view(-1, 1, 1)
    i, q = yiq[:, 1], yiq[:, 2]
    yiq = torch.stack([yiq[:, 0], c * i - s * q, s * i + c * q], dim=1)
    return torch.einsum("ij,njhw->nihw", torch.linalg.inv(to_yiq), yiq)


@register_transform("random_resized_crop", aliases=("crop_resize",))
class RandomResizedCrop:
    """Crop a random window covering `scale` (low, high) of the image's area, of aspect ratio
    within `ratio`, and resize it back to H x W (bilinear): a zoom of up to 1/sqrt(low) plus a
    shift. Octo crops 90-100% of the area; RT-1 90%."""

    def __init__(self, scale: Sequence[float] = (0.9, 1.0), ratio: Sequence[float] = (0.95, 1.05),
                 generator: torch.Generator | None = None):
        self.scale = (float(scale[0]), float(scale[1]))
        self.ratio = (float(ratio[0]), float(ratio[1]))
        if not 0 < self.scale[0] <= self.scale[1] <= 1 or not 0 < self.ratio[0] <= self.ratio[1]:
            from librobot_gym.errors import ConfigError

            raise ConfigError(f"random_resized_crop: scale {list(scale)} must lie in (0, 1] "
                              f"and ratio {list(ratio)} be positive, each as [low, high]")
        self.generator = generator

    def __call__(self, sample: dict[str, Any]) -> dict[str, Any]:
        images = sample["images"]
        if images.numel() == 0:
            return sample
        *lead, channels, height, width = images.shape
        flat = images.reshape(-1, channels, height, width)
        n, g = len(flat), self.generator
        area = _uniform(n, *self.scale, g)
        log_ratio = _uniform(n, math.log(self.ratio[0]), math.log(self.ratio[1]), g)
        aspect = torch.exp(log_ratio)
        crop_w = (torch.sqrt(area * aspect) * width).round().clamp(2, width).long()
        crop_h = (torch.sqrt(area / aspect) * height).round().clamp(2, height).long()
        pick = torch.rand(n, 2, generator=g)
        out = []
        for k in range(n):
            h, w = int(crop_h[k]), int(crop_w[k])
            top = int(pick[k, 0] * (height - h + 1))
            left = int(pick[k, 1] * (width - w + 1))
            window = flat[k:k + 1, :, top:top + h, left:left + w]
            out.append(F.interpolate(window, size=(height, width), mode="bilinear",
                                     align_corners=False)[0])
        return {**sample, "images": torch.stack(out).reshape(*lead, channels, height, width)}


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
